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
    MarkdownTextObject,
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
from bot.i18n.notes import note_text
from bot.i18n.texts import say
from bot.slack.ids import SLASH_COMMAND, ActionId, BlockId
from bot.slack.messages.bulk import build_bulk_request_blocks, order_label
from bot.slack.messages.mrkdwn import (
    CONFIRM_TEXT_LIMIT,
    CONTEXT_TEXT_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    HEADER_TEXT_LIMIT,
    Rendered,
    clip,
    escape,
    fallback_text,
    mention,
    plain,
    slack_date,
)
from bot.slack.messages.mrkdwn import clip_raw as _clip
from bot.slack.messages.mrkdwn import md as _md
from bot.slack.messages.preview import preview_blocks
from bot.slack.messages.request_form import category_label
from bot.slack.messages.status import status_phrase

# -- the approval request message --------------------------------------------------------
# It lives in a shared channel, so it speaks the channel's language (CHANNEL_LANGUAGES).


def request_summary_text(request: CancelRequest, language: Language = Language.EN) -> str:
    """Notification text: what shows in push notifications and screen readers."""
    state = (
        say("request.summary_awaits_retry", language)
        if request.status is RequestStatus.APPROVED and request.awaits_retry
        else status_phrase(request.status, language)
    )
    return clip(
        say(
            "request.summary",
            language,
            order=escape(request.order_id),
            requester=f"<@{request.requester_id}>",
            state=state,
        ),
        FALLBACK_TEXT_LIMIT,
    )


def approvals_progress(
    request: CancelRequest, required: int, language: Language = Language.EN
) -> str:
    """'1 of 2 approvals: @a' while a quorum is being gathered; empty when one approval does."""
    if required <= 1 or not request.approver_ids:
        return ""
    who = ", ".join(f"<@{a}>" for a in request.approver_ids)
    return say(
        "request.progress", language, count=len(request.approver_ids), required=required, who=who
    )


def _status_line(
    request: CancelRequest, approvers: Sequence[str], required: int, language: Language
) -> str:
    decided = (
        f"<@{request.decided_by}> {slack_date(request.decided_at, language)}"
        if request.decided_by and request.decided_at
        else say("request.an_approver", language)
    )
    if len(request.approver_ids) > 1 and request.status is not RequestStatus.REJECTED:
        # A quorum: every approver, the last one with the time.
        earlier = [f"<@{a}>" for a in request.approver_ids if a != request.decided_by]
        decided = ", ".join([*earlier, decided])
    note = escape(request.decision_note) if request.decision_note else ""
    match request.status:
        case RequestStatus.PENDING:
            who = ", ".join(mention(a) for a in approvers)
            progress = approvals_progress(request, required, language)
            if progress:
                return say("request.status.waiting_more", language, progress=progress, who=who)
            if required > 1:
                return say("request.status.waiting_quorum", language, who=who, required=required)
            return say("request.status.waiting", language, who=who)
        case RequestStatus.SUCCEEDED | RequestStatus.FAILED if request.is_bulk:
            return say("bulk.status.done", language, decided=decided)
        case RequestStatus.APPROVED if request.awaits_retry:
            return say("request.status.awaiting_retry", language, decided=decided)
        case RequestStatus.APPROVED | RequestStatus.EXECUTING:
            return say("request.status.cancelling", language, decided=decided)
        case RequestStatus.SUCCEEDED:
            return say("request.status.succeeded", language, decided=decided)
        case RequestStatus.FAILED:
            title = escape(outcome_entry(request).text(language).title)
            code = escape(request.outcome_code or request.outcome_failure or "error")
            return say("request.status.failed", language, title=title, code=code, decided=decided)
        case RequestStatus.UNKNOWN:
            return say("request.status.unknown", language, decided=decided)
        case RequestStatus.REJECTED if note:
            return say("request.status.rejected_because", language, decided=decided, note=note)
        case RequestStatus.REJECTED:
            return say("request.status.rejected", language, decided=decided)
        case RequestStatus.EXPIRED:
            order = escape(" ".join(request.order_ids))
            return say("request.status.expired", language, command=SLASH_COMMAND, order=order)
        case RequestStatus.WITHDRAWN if note:
            return say("request.status.withdrawn_because", language, note=note)
        case RequestStatus.WITHDRAWN:
            return say("request.status.withdrawn", language)
    return ""  # unreachable: every status is matched above


def build_request_blocks(
    request: CancelRequest,
    approvers: Sequence[str],
    *,
    required_approvals: int = 1,
    language: Language = Language.EN,
) -> Rendered:
    """The request message in the channel, in whatever state the request is."""
    reason = escape(request.reason) if request.reason else say("request.no_reason", language)
    if request.reason_category:
        label = category_label(request.reason_category, language)
        reason = f"{escape(label)}: {reason}" if request.reason else escape(label)
    if request.is_bulk:
        buttons = _buttons(request, language)
        return build_bulk_request_blocks(
            request,
            status_line=_status_line(request, approvers, required_approvals, language),
            buttons=[ActionsBlock(block_id=BlockId.DECISION, elements=buttons)] if buttons else [],
            reason=reason,
            language=language,
        )
    header = say("request.header", language, order=request.order_id)
    blocks: list[Block] = [
        HeaderBlock(text=plain(header, HEADER_TEXT_LIMIT)),
        SectionBlock(
            fields=[
                _field("request.field.order", language, f"`{escape(request.order_id)}`"),
                _field("request.field.requested_by", language, f"<@{request.requester_id}>"),
                _field("request.field.reason", language, reason),
                _field(
                    "request.field.requested", language, slack_date(request.created_at, language)
                ),
            ]
        ),
        *preview_blocks(request, language),
        SectionBlock(
            block_id="cancel-order-status",
            text=_md(_status_line(request, approvers, required_approvals, language)),
        ),
    ]
    buttons = _buttons(request, language)
    if buttons:
        blocks.append(ActionsBlock(block_id=BlockId.DECISION, elements=buttons))
    footer = say("request.footer", language, id=request.id[:12])
    blocks.append(ContextBlock(elements=[_md(footer)]))
    return Rendered(request_summary_text(request, language), blocks)


def _field(label_key: str, language: Language, value: str) -> MarkdownTextObject:
    return _md(f"{say(label_key, language)}\n{value}", FIELD_TEXT_LIMIT)


def _buttons(request: CancelRequest, language: Language) -> list[ButtonElement]:
    order = escape(request.order_id)
    back = say("request.button.back", language)
    count = len(request.orders)
    approve_title = say(
        "request.confirm_approve.bulk_title" if count else "request.confirm_approve.title",
        language,
    )
    approve_text = (
        say("request.confirm_approve.bulk_text", language, count=count)
        if count
        else say("request.confirm_approve.text", language, order=order)
    )
    retry_text = (
        say("request.confirm_retry.bulk_text", language)
        if count
        else say("request.confirm_retry.text", language, order=order)
    )
    if request.is_pending:
        return [
            ButtonElement(
                text=say("request.button.approve", language),
                action_id=ActionId.APPROVE,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title=approve_title,
                    text=_md(approve_text, CONFIRM_TEXT_LIMIT),
                    confirm=say("request.confirm_approve.confirm", language),
                    deny=back,
                    style="danger",
                ),
            ),
            ButtonElement(
                text=say("request.button.reject", language),
                action_id=ActionId.REJECT,
                value=request.id,
                style="danger",
            ),
            ButtonElement(
                text=say("request.button.withdraw", language),
                action_id=ActionId.WITHDRAW,
                value=request.id,
            ),
        ]
    if request.awaits_retry:
        retry = say("request.button.retry", language)
        return [
            ButtonElement(
                text=retry,
                action_id=ActionId.RETRY,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title=say("request.confirm_retry.title", language),
                    text=_md(retry_text, CONFIRM_TEXT_LIMIT),
                    confirm=retry,
                    deny=back,
                ),
            )
        ]
    return []


# -- outcome in the thread (the channel's language) ---------------------------------------


def outcome_entry(request: CancelRequest) -> CatalogueEntry:
    if request.outcome_code:
        return entry_for_code(request.outcome_code)
    if request.outcome_failure:
        try:
            return FAILURES[FailureKind(request.outcome_failure)]
        except ValueError:
            pass
    return FAILURES[FailureKind.UNEXPECTED_STATUS]


def build_outcome_blocks(request: CancelRequest, language: Language = Language.EN) -> Rendered:
    """The thread reply that says what MouvONE did with the cancel."""
    order = escape(request.order_id)
    requester = f"<@{request.requester_id}>"
    approver = (
        f"<@{request.decided_by}>" if request.decided_by else say("request.an_approver", language)
    )
    if request.status is RequestStatus.SUCCEEDED:
        headline = say("thread.cancelled", language, order=order)
        if request.outcome_code:
            # MouvONE's own code, verbatim, whenever its answer carried one.
            explanation = entry_for_code(request.outcome_code).text(language)
            headline += f"\n{escape(explanation.meaning)} (`{escape(request.outcome_code)}`)"
        signed = say(
            "thread.requested_and_approved", language, requester=requester, approver=approver
        )
        blocks: list[Block] = [SectionBlock(text=_md(f"{headline}\n{signed}"))]
        extra = []
        if request.outcome_note:
            note = escape(note_text(request.outcome_note, language))
            extra.append(say("thread.note", language, note=note))
        if request.outcome_message:
            message = escape(_clip(request.outcome_message, 500))
            extra.append(say("thread.api_said", language, message=message))
        if extra:
            blocks.append(ContextBlock(elements=[_md(" · ".join(extra), CONTEXT_TEXT_LIMIT)]))
        return Rendered(
            fallback_text(say("thread.cancelled_fallback", language, order=order)), blocks
        )

    entry = outcome_entry(request)
    text = entry.text(language)
    code = request.outcome_code or request.outcome_failure or "unknown"
    lead_key, fallback_key = {
        RequestStatus.UNKNOWN: ("thread.outcome_unknown", "thread.unknown_fallback"),
        # A reply that waited in the outbox while the order is read back (or sent again): its
        # answer is not known yet, and "not cancelled" would be false.
        RequestStatus.EXECUTING: ("thread.outcome_unknown", "thread.unknown_fallback"),
        RequestStatus.APPROVED: ("thread.unavailable", "thread.unavailable_fallback"),
    }.get(request.status, ("thread.not_cancelled", "thread.not_cancelled_fallback"))
    lead = say(lead_key, language, order=order)
    body = (
        f"{lead} {requester}\n*{escape(text.title)}* (`{escape(code)}`)\n"
        f"{escape(text.meaning)}\n{say('thread.what_to_do', language)} {escape(text.next_step)}"
    )
    blocks = [SectionBlock(text=_md(body))]
    details = []
    if request.outcome_message:
        message = escape(_clip(request.outcome_message, 500))
        details.append(say("thread.api_said", language, message=message))
    if request.outcome_timestamp:
        timestamp = escape(request.outcome_timestamp)
        details.append(say("thread.api_said_at", language, timestamp=timestamp))
    if request.outcome_http_status:
        details.append(f"HTTP {request.outcome_http_status}")
    retry_key = "thread.retry_may_help" if entry.retry_can_help else "thread.retry_will_not_help"
    details.append(say(retry_key, language))
    blocks.append(ContextBlock(elements=[_md(" · ".join(details), CONTEXT_TEXT_LIMIT)]))
    shown = say(fallback_key, language, order=order, title=escape(text.title), code=escape(code))
    return Rendered(fallback_text(shown), blocks)


# -- rejection ------------------------------------------------------------------------------


def build_rejection_reply(request: CancelRequest, language: Language = Language.EN) -> Rendered:
    note = f"\n>{escape(request.decision_note)}" if request.decision_note else ""
    reply = say(
        "thread.rejection",
        language,
        requester=f"<@{request.requester_id}>",
        approver=f"<@{request.decided_by}>",
        order=escape(order_label(request)),
    )
    return Rendered(fallback_text(reply + note))
