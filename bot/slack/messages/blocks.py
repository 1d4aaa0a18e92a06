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
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.approval import Denial
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import (
    FAILURES,
    CatalogueEntry,
    FailureKind,
    Language,
    entry_for_code,
)
from bot.i18n.phrases import phrases
from bot.slack.ids import SLASH_COMMAND, ActionId, BlockId, CallbackId, InputActionId
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
            CATEGORY_LABELS,  # a sibling builder built on this module
        )

        label = CATEGORY_LABELS.get(request.reason_category, request.reason_category)
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


def build_reject_modal(request: CancelRequest) -> View:
    return View(
        type="modal",
        callback_id=CallbackId.REJECT_MODAL,
        private_metadata=request.id,
        title=PlainTextObject(text="Reject cancel request"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Back"),
        blocks=[
            SectionBlock(
                text=_md(
                    f"Reject the cancel of `{escape(request.order_id)}` requested by "
                    f"<@{request.requester_id}>?"
                )
            ),
            InputBlock(
                block_id=BlockId.REJECT_REASON,
                label=PlainTextObject(text="Reason (optional)"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=InputActionId.REJECT_REASON,
                    multiline=True,
                    max_length=500,
                    placeholder=PlainTextObject(text="Shown to the requester in the thread"),
                ),
            ),
        ],
    )


# -- private replies -------------------------------------------------------------------------


def usage_text(order_id_pattern: str) -> str:
    return (
        f"*Usage:* `{SLASH_COMMAND} ORDER_ID [reason]`, for example "
        f"`{SLASH_COMMAND} CDE0000000001 customer asked to cancel`.\n"
        f"An order id looks like `CDE0000000001` (pattern `{escape(order_id_pattern)}`). "
        "One order per request. An approver then approves or rejects it in the channel."
    )


def build_usage_blocks(problem: str | None, order_id_pattern: str) -> list[Block]:
    blocks: list[Block] = []
    if problem:
        blocks.append(SectionBlock(text=_md(f":warning: {escape(problem)} Nothing was sent.")))
    blocks.append(SectionBlock(text=_md(usage_text(order_id_pattern))))
    return blocks


def denial_text(
    denial: Denial | None, request: CancelRequest | None, approvers: Sequence[str]
) -> str:
    match denial:
        case Denial.NOT_FOUND | Denial.WRONG_MESSAGE | None:
            return "This cancel request does not exist or the button was altered. Nothing changed."
        case Denial.NOT_APPROVER:
            who = ", ".join(mention(a) for a in approvers)
            return (
                "Only the approvers named for this bot can approve or reject cancel requests "
                f"(ask {who}). Nothing changed."
            )
        case Denial.OWN_REQUEST:
            return "You cannot approve your own cancel request: another approver has to."
        case Denial.MEMBERSHIP_UNKNOWN:
            return (
                "I could not check the approvers' user group in Slack just now. Nothing changed; "
                "try again in a minute."
            )
        case Denial.ALREADY_DECIDED:
            return already_decided_text(request)
        case Denial.EXPIRED:
            return (
                "This cancel request has expired: nobody approved it in time. Nothing was sent "
                f"to MouvONE; the requester can ask again with `{SLASH_COMMAND}`."
            )
        case Denial.NOT_REQUESTER:
            return "Only the person who asked for this cancel can withdraw it. Nothing changed."
        case Denial.NOTHING_TO_RETRY:
            return "There is nothing to retry on this request. Nothing changed."
        case Denial.ALREADY_APPROVED:
            return (
                "You have approved this request already: it needs another approver. "
                "Nothing changed."
            )
    return "Nothing changed."  # unreachable: every denial is matched above


def approval_counted_text(request: CancelRequest, required: int) -> str:
    return (
        f"Your approval is recorded ({approvals_progress(request, required)}). The cancel of "
        f"`{escape(request.order_id)}` is sent once {required} approvers have approved."
    )


def already_decided_text(request: CancelRequest | None) -> str:
    if request is None:
        return "This cancel request no longer exists. Nothing changed."
    when = f" {slack_date(request.decided_at)}" if request.decided_at else ""
    by = f" by <@{request.decided_by}>" if request.decided_by else ""
    if request.status is RequestStatus.EXPIRED:
        return "This cancel request has expired: nobody approved it in time. Nothing changed."
    verb = {
        RequestStatus.REJECTED: "rejected",
        RequestStatus.WITHDRAWN: "withdrawn",
    }.get(request.status, "approved")
    return f"This cancel request was already {verb}{by}{when}. Nothing changed."


def build_not_posted_text(error: str) -> str:
    return (
        f"I could not post the approval request in this channel (`{escape(error)}`). "
        "Invite me to the channel (`/invite @Cancel Order`) and try again. Nothing was sent "
        "to MouvONE."
    )


CLICK_NOT_TAKEN = (
    ":warning: Your click was *not taken*: the bot could not record it. Nothing changed; "
    "try again in a moment."
)
