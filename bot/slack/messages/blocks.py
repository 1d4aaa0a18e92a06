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
    MarkdownTextObject,
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
from bot.i18n.notes import note_text
from bot.i18n.texts import say
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
        f"<@{request.decided_by}> {slack_date(request.decided_at)}"
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
            order = escape(request.order_id)
            return say("request.status.expired", language, command=SLASH_COMMAND, order=order)
        case RequestStatus.WITHDRAWN if note:
            return say("request.status.withdrawn_because", language, note=note)
        case RequestStatus.WITHDRAWN:
            return say("request.status.withdrawn", language)
    return ""  # unreachable: every status is matched above


def _preview_blocks(request: CancelRequest, language: Language) -> list[Block]:
    # Imported here: bot.preview_blocks builds on this module's helpers.
    from bot.slack.messages.preview import build_preview_blocks

    return build_preview_blocks(request, language)


def build_request_blocks(
    request: CancelRequest,
    approvers: Sequence[str],
    *,
    required_approvals: int = 1,
    language: Language = Language.EN,
) -> list[Block]:
    """The request message in the channel, in whatever state the request is."""
    reason = escape(request.reason) if request.reason else say("request.no_reason", language)
    if request.reason_category:
        from bot.slack.messages.request_form import (
            CATEGORY_LABELS,  # a sibling builder built on this module
        )

        label = CATEGORY_LABELS.get(request.reason_category, request.reason_category)
        reason = f"{escape(label)}: {reason}" if request.reason else escape(label)
    header = say("request.header", language, order=request.order_id)
    blocks: list[Block] = [
        HeaderBlock(text=plain(header, HEADER_TEXT_LIMIT)),
        SectionBlock(
            fields=[
                _field("request.field.order", language, f"`{escape(request.order_id)}`"),
                _field("request.field.requested_by", language, f"<@{request.requester_id}>"),
                _field("request.field.reason", language, reason),
                _field("request.field.requested", language, slack_date(request.created_at)),
            ]
        ),
        *_preview_blocks(request, language),
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
    return blocks


def _field(label_key: str, language: Language, value: str) -> MarkdownTextObject:
    return _md(f"{say(label_key, language)}\n{value}", FIELD_TEXT_LIMIT)


def _buttons(request: CancelRequest, language: Language) -> list[ButtonElement]:
    order = escape(request.order_id)
    back = say("request.button.back", language)
    if request.is_pending:
        return [
            ButtonElement(
                text=say("request.button.approve", language),
                action_id=ActionId.APPROVE,
                value=request.id,
                style="primary",
                confirm=ConfirmObject(
                    title=say("request.confirm_approve.title", language),
                    text=_md(
                        say("request.confirm_approve.text", language, order=order),
                        CONFIRM_TEXT_LIMIT,
                    ),
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
                    text=_md(
                        say("request.confirm_retry.text", language, order=order),
                        CONFIRM_TEXT_LIMIT,
                    ),
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


def build_outcome_blocks(
    request: CancelRequest, language: Language = Language.EN
) -> tuple[str, list[Block]]:
    """The thread reply that says what MouvONE did with the cancel. Returns (text, blocks)."""
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
        return fallback_text(say("thread.cancelled_fallback", language, order=order)), blocks

    entry = outcome_entry(request)
    text = entry.text(language)
    code = request.outcome_code or request.outcome_failure or "unknown"
    lead_key, fallback_key = {
        RequestStatus.UNKNOWN: ("thread.outcome_unknown", "thread.unknown_fallback"),
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
    return fallback_text(shown), blocks


# -- rejection ------------------------------------------------------------------------------


def build_rejection_reply(request: CancelRequest, language: Language = Language.EN) -> str:
    note = f"\n>{escape(request.decision_note)}" if request.decision_note else ""
    reply = say(
        "thread.rejection",
        language,
        requester=f"<@{request.requester_id}>",
        approver=f"<@{request.decided_by}>",
        order=escape(request.order_id),
    )
    return fallback_text(reply + note)


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
