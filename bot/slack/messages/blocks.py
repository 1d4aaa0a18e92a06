"""Every Block Kit message and view of the bot, built from data by pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    SectionBlock,
)

from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import (
    FAILURES,
    CatalogueEntry,
    FailureKind,
    Language,
    entry_for_code,
)
from bot.i18n.phrases import phrases
from bot.slack.ids import SLASH_COMMAND, ActionId, BlockId
from bot.slack.messages.mrkdwn import (
    CONFIRM_TEXT_LIMIT,
    CONTEXT_TEXT_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    HEADER_TEXT_LIMIT,
    clip,
    escape,
    fallback_text,
    mention,
    plain,
    slack_date,
)
from bot.slack.messages.mrkdwn import clip_raw as _clip
from bot.slack.messages.mrkdwn import md as _md

# -- the approval request message --------------------------------------------------------


def request_summary_text(request: CancelRequest) -> str:
    """Notification text: what shows in push notifications and screen readers."""
    return clip(
        f"Cancel request for order {escape(request.order_id)} by <@{request.requester_id}>: "
        + {
            RequestStatus.PENDING: "waiting for approval",
            RequestStatus.APPROVED: (
                "approved, MouvONE unavailable" if request.awaits_retry else "approved, cancelling"
            ),
            RequestStatus.EXECUTING: "approved, cancelling",
            RequestStatus.SUCCEEDED: "cancelled",
            RequestStatus.FAILED: "not cancelled",
            RequestStatus.UNKNOWN: "outcome unknown",
            RequestStatus.REJECTED: "rejected",
            RequestStatus.EXPIRED: "expired",
            RequestStatus.WITHDRAWN: "withdrawn",
        }[request.status],
        FALLBACK_TEXT_LIMIT,
    )


def approvals_progress(request: CancelRequest, required: int) -> str:
    """'1 of 2 approvals: @a' while a quorum is being gathered; empty when one approval does."""
    if required <= 1 or not request.approver_ids:
        return ""
    who = ", ".join(f"<@{a}>" for a in request.approver_ids)
    return f"{len(request.approver_ids)} of {required} approvals: {who}"


def _status_line(request: CancelRequest, approvers: Sequence[str], required: int = 1) -> str:
    decided = (
        f"<@{request.decided_by}> {slack_date(request.decided_at)}"
        if request.decided_by and request.decided_at
        else "an approver"
    )
    if len(request.approver_ids) > 1 and request.status is not RequestStatus.REJECTED:
        # A quorum: every approver, the last one with the time.
        earlier = [f"<@{a}>" for a in request.approver_ids if a != request.decided_by]
        decided = ", ".join([*earlier, decided])
    match request.status:
        case RequestStatus.PENDING:
            who = ", ".join(mention(a) for a in approvers)
            progress = approvals_progress(request, required)
            if progress:
                return f":hourglass_flowing_sand: {progress} — waiting for more by {who}"
            needed = f" ({required} approvals needed)" if required > 1 else ""
            return f":hourglass_flowing_sand: Waiting for approval by {who}{needed}"
        case RequestStatus.APPROVED if request.awaits_retry:
            return (
                f":double_vertical_bar: Approved by {decided}, but *MouvONE is unavailable*: "
                "nothing was cancelled yet. An approver can press Retry."
            )
        case RequestStatus.APPROVED | RequestStatus.EXECUTING:
            return f":arrows_counterclockwise: Approved by {decided} — cancelling in MouvONE…"
        case RequestStatus.SUCCEEDED:
            return f":white_check_mark: *Cancelled in MouvONE* — approved by {decided}"
        case RequestStatus.FAILED:
            entry = outcome_entry(request)
            code = request.outcome_code or request.outcome_failure or "error"
            return (
                f":x: *Not cancelled*: {escape(entry.text(Language.EN).title)} (`{escape(code)}`)"
                f" — approved by {decided}. Details in the thread."
            )
        case RequestStatus.UNKNOWN:
            return (
                f":warning: *Outcome unknown*: MouvONE did not answer in time — approved by "
                f"{decided}. Check the order in MouvONE; details in the thread."
            )
        case RequestStatus.REJECTED:
            note = f": {escape(request.decision_note)}" if request.decision_note else ""
            return f":no_entry_sign: Rejected by {decided}{note}"
        case RequestStatus.EXPIRED:
            return (
                ":hourglass: *Expired*: nobody approved it in time. Nothing was sent to MouvONE; "
                f"ask again with `{SLASH_COMMAND} {escape(request.order_id)}` if it is still "
                "needed."
            )
        case RequestStatus.WITHDRAWN:
            note = f": {escape(request.decision_note)}" if request.decision_note else ""
            return f":heavy_minus_sign: Withdrawn{note}"
    return ""  # unreachable: every status is matched above


def _preview_blocks(request: CancelRequest) -> list[Block]:
    # Imported here: bot.preview_blocks builds on this module's helpers.
    from bot.slack.messages.preview import build_preview_blocks

    return build_preview_blocks(request)


def build_request_blocks(
    request: CancelRequest, approvers: Sequence[str], *, required_approvals: int = 1
) -> list[Block]:
    """The request message in the channel, in whatever state the request is."""
    reason = escape(request.reason) if request.reason else "_No reason given_"
    if request.reason_category:
        from bot.slack.messages.request_form import (
            category_label,  # a sibling builder built on this module
        )

        label = category_label(request.reason_category, Language.EN)
        reason = f"{escape(label)}: {reason}" if request.reason else escape(label)
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Cancel order {request.order_id}?", HEADER_TEXT_LIMIT)),
        SectionBlock(
            fields=[
                _md(f"*Order*\n`{escape(request.order_id)}`", FIELD_TEXT_LIMIT),
                _md(f"*Requested by*\n<@{request.requester_id}>", FIELD_TEXT_LIMIT),
                _md(f"*Reason*\n{reason}", FIELD_TEXT_LIMIT),
                _md(f"*Requested*\n{slack_date(request.created_at)}", FIELD_TEXT_LIMIT),
            ]
        ),
        *_preview_blocks(request),
        SectionBlock(
            block_id="cancel-order-status",
            text=_md(_status_line(request, approvers, required_approvals)),
        ),
    ]
    buttons = _buttons(request)
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.DECISION, elements=buttons))
    blocks.append(ContextBlock(elements=[_md(f"Request `{request.id[:12]}`")]))
    return blocks


def _buttons(request: CancelRequest) -> list[ButtonElement]:
    if request.is_pending:
        return [
            ButtonElement(
                text="Approve",
                action_id=ActionId.APPROVE,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title="Cancel this order?",
                    text=_md(
                        f"Order `{escape(request.order_id)}` will be cancelled in MouvONE. "
                        "This cannot be undone from Slack.",
                        CONFIRM_TEXT_LIMIT,
                    ),
                    confirm="Yes, cancel it",
                    deny="Back",
                    style="danger",
                ),
            ),
            ButtonElement(
                text="Reject", action_id=ActionId.REJECT, value=request.id, style="danger"
            ),
            ButtonElement(text="Withdraw", action_id=ActionId.WITHDRAW, value=request.id),
        ]
    if request.awaits_retry:
        return [
            ButtonElement(
                text="Retry",
                action_id=ActionId.RETRY,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title="Send the cancel again?",
                    text=_md(
                        f"The cancel of `{escape(request.order_id)}` is sent to MouvONE again. "
                        "If an earlier attempt went through, MouvONE says so and nothing changes.",
                        CONFIRM_TEXT_LIMIT,
                    ),
                    confirm="Retry",
                    deny="Back",
                ),
            )
        ]
    return []


# -- outcome in the thread ----------------------------------------------------------------


def outcome_entry(request: CancelRequest) -> CatalogueEntry:
    if request.outcome_code:
        return entry_for_code(request.outcome_code)
    if request.outcome_failure:
        try:
            return FAILURES[FailureKind(request.outcome_failure)]
        except ValueError:
            pass
    return FAILURES[FailureKind.UNEXPECTED_STATUS]


def build_outcome_blocks(
    request: CancelRequest, language: Language = Language.EN
) -> tuple[str, list[Block]]:
    """The thread reply that says what MouvONE did with the cancel. Returns (text, blocks)."""
    say = phrases(language)
    order = escape(request.order_id)
    requester = f"<@{request.requester_id}>"
    approver = f"<@{request.decided_by}>" if request.decided_by else say.an_approver
    if request.status is RequestStatus.SUCCEEDED:
        headline = say.cancelled.format(order=order)
        if request.outcome_code:
            # MouvONE's own code, verbatim, whenever its answer carried one.
            explanation = entry_for_code(request.outcome_code).text(language)
            headline += f"\n{escape(explanation.meaning)} (`{escape(request.outcome_code)}`)"
        signed = say.requested_and_approved.format(requester=requester, approver=approver)
        blocks: list[Block] = [SectionBlock(text=_md(f"{headline}\n{signed}"))]
        extra = []
        if request.outcome_note:
            note = say.notes.get(request.outcome_note, request.outcome_note)
            extra.append(say.note.format(note=escape(note)))
        if request.outcome_message:
            message = escape(_clip(request.outcome_message, 500))
            extra.append(say.api_said.format(message=message))
        if extra:
            blocks.append(ContextBlock(elements=[_md(" · ".join(extra), CONTEXT_TEXT_LIMIT)]))
        return fallback_text(say.cancelled_fallback.format(order=order)), blocks

    entry = outcome_entry(request)
    text = entry.text(language)
    code = request.outcome_code or request.outcome_failure or "unknown"
    lead_phrase, fallback = {
        RequestStatus.UNKNOWN: (say.outcome_unknown, say.unknown_fallback),
        RequestStatus.APPROVED: (say.unavailable, say.unavailable_fallback),
    }.get(request.status, (say.not_cancelled, say.not_cancelled_fallback))
    lead = lead_phrase.format(order=order)
    body = (
        f"{lead} {requester}\n*{escape(text.title)}* (`{escape(code)}`)\n"
        f"{escape(text.meaning)}\n{say.what_to_do} {escape(text.next_step)}"
    )
    blocks = [SectionBlock(text=_md(body))]
    details = []
    if request.outcome_message:
        message = escape(_clip(request.outcome_message, 500))
        details.append(say.api_said.format(message=message))
    if request.outcome_timestamp:
        details.append(say.api_said_at.format(timestamp=escape(request.outcome_timestamp)))
    if request.outcome_http_status:
        details.append(f"HTTP {request.outcome_http_status}")
    details.append(say.retry_may_help if entry.retry_can_help else say.retry_will_not_help)
    blocks.append(ContextBlock(elements=[_md(" · ".join(details), CONTEXT_TEXT_LIMIT)]))
    shown = fallback.format(order=order, title=escape(text.title), code=escape(code))
    return fallback_text(shown), blocks


# -- rejection ------------------------------------------------------------------------------


def build_rejection_reply(request: CancelRequest) -> str:
    note = f"\n>{escape(request.decision_note)}" if request.decision_note else ""
    return fallback_text(
        f":no_entry_sign: <@{request.requester_id}>, <@{request.decided_by}> rejected the "
        f"cancel of `{escape(request.order_id)}`. Nothing was sent to MouvONE.{note}"
    )
