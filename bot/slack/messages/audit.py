"""Block Kit of the audit replies: `/cancel-order status ORDER_ID` and `/cancel-order list`."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.domain.requests import CancelRequest, RequestEvent, RequestStatus
from bot.i18n.catalogue import Language
from bot.i18n.notes import note_text
from bot.services.audit import RequestHistory
from bot.slack.messages.blocks import outcome_entry
from bot.slack.messages.mrkdwn import (
    HEADER_TEXT_LIMIT,
    clip,
    escape,
    fallback_text,
    plain,
    slack_date,
)

MAX_EVENTS_SHOWN = 12
_TEXT_LIMIT = 3000

_STATUS_LABELS: dict[str, tuple[str, str]] = {
    RequestStatus.PENDING: (":hourglass_flowing_sand:", "waiting for approval"),
    RequestStatus.APPROVED: (":arrows_counterclockwise:", "approved, cancelling"),
    RequestStatus.EXECUTING: (":arrows_counterclockwise:", "approved, cancelling"),
    RequestStatus.SUCCEEDED: (":white_check_mark:", "cancelled in MouvONE"),
    RequestStatus.FAILED: (":x:", "not cancelled"),
    RequestStatus.UNKNOWN: (":warning:", "outcome unknown: check the order in MouvONE"),
    RequestStatus.REJECTED: (":no_entry_sign:", "rejected"),
    RequestStatus.WITHDRAWN: (":heavy_minus_sign:", "withdrawn"),
}

_EVENT_LABELS = {
    "requested": "requested",
    "posted": "approval request posted",
    "approved": "approved",
    "rejected": "rejected",
    "withdrawn": "withdrawn",
    "cancel_sent": "cancel sent to MouvONE",
    "cancel_resent": "cancel sent again",
    "outcome_succeeded": "MouvONE cancelled it",
    "outcome_failed": "MouvONE did not cancel it",
    "outcome_unknown": "no answer from MouvONE",
    "outcome_posted": "outcome posted in the thread",
}


def md(text: str, limit: int = _TEXT_LIMIT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def status_label(status: RequestStatus) -> str:
    """An emoji and a few words; statuses added later still get a readable line."""
    icon, words = _STATUS_LABELS.get(status, (":grey_question:", str(status)))
    return f"{icon} {words}"


def outcome_line(request: CancelRequest) -> str | None:
    """What MouvONE answered, in a line, for requests that reached it."""
    if request.status in (RequestStatus.FAILED, RequestStatus.UNKNOWN):
        code = request.outcome_code or request.outcome_failure or "error"
        title = outcome_entry(request).text(Language.EN).title
        return f"{escape(title)} (`{escape(code)}`)"
    if request.status is RequestStatus.SUCCEEDED and request.outcome_note:
        return escape(note_text(request.outcome_note, Language.EN))  # stored as a key
    return None


def request_line(request: CancelRequest, *, show_reason: bool = True) -> str:
    """One request in a few lines: who asked, where, when, why, and where it stands."""
    lines = [
        f"*{status_label(request.status)}* — `{escape(request.order_id)}` asked by "
        f"<@{request.requester_id}> in <#{request.channel_id}> {slack_date(request.created_at)}"
    ]
    if show_reason:
        lines.append(f"Reason: {escape(request.reason)}" if request.reason else "No reason given")
    if request.decided_by and request.decided_at:
        verb = "Rejected" if request.status is RequestStatus.REJECTED else "Approved"
        note = f": {escape(request.decision_note)}" if request.decision_note else ""
        lines.append(f"{verb} by <@{request.decided_by}> {slack_date(request.decided_at)}{note}")
    outcome = outcome_line(request)
    if outcome:
        lines.append(f"MouvONE: {outcome}")
    return "\n".join(lines)


def _event_text(event: RequestEvent) -> str:
    label = _EVENT_LABELS.get(event.kind, event.kind.replace("_", " "))
    who = f" by <@{event.actor}>" if event.actor else ""
    return f"{slack_date(event.at)} {escape(label)}{who}"


def build_status_blocks(
    order_id: str, histories: Sequence[RequestHistory], visible_reasons: set[str]
) -> tuple[str, list[Block]]:
    """The private answer to `status ORDER_ID`: each request, newest first, with its timeline.

    Reasons are shown only for the ids in `visible_reasons` (a private channel's reasons stay
    with the people who could see them there).
    """
    shown = escape(order_id)
    if not histories:
        text = fallback_text(f"No cancel request for order {shown} in the bot's records.")
        return text, [SectionBlock(text=md(f"No cancel request for `{shown}` in my records."))]
    text = fallback_text(f"Cancel requests for order {shown}: {len(histories)}")
    blocks: list[Block] = [
        HeaderBlock(text=plain(f"Cancel requests for {order_id}", HEADER_TEXT_LIMIT))
    ]
    for history in histories:
        request = history.request
        blocks.append(
            SectionBlock(text=md(request_line(request, show_reason=request.id in visible_reasons)))
        )
        events = history.events[-MAX_EVENTS_SHOWN:]
        timeline = "\n".join(_event_text(e) for e in events)
        skipped = len(history.events) - len(events)
        if skipped:
            timeline = f"… {skipped} earlier events\n" + timeline
        footer = f"Request `{request.id[:12]}`" + (f"\n{timeline}" if timeline else "")
        blocks.append(ContextBlock(elements=[md(footer)]))
    return text, blocks


def build_list_blocks(
    channel_id: str, pending: Sequence[CancelRequest], *, more: bool
) -> tuple[str, list[Block]]:
    """The private answer to `list`: the requests of this channel waiting for an approver."""
    if not pending:
        text = "No cancel request is waiting for approval in this channel."
        return text, [SectionBlock(text=md(f"No cancel request is waiting in <#{channel_id}>."))]
    text = f"{len(pending)} cancel request(s) waiting for approval in this channel"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text="Waiting for approval", emoji=True))
    ]
    for request in pending:
        reason = f" — {escape(request.reason)}" if request.reason else ""
        blocks.append(
            SectionBlock(
                text=md(
                    f"`{escape(request.order_id)}` asked by <@{request.requester_id}> "
                    f"{slack_date(request.created_at)}{reason}",
                    1000,
                )
            )
        )
    if more:
        blocks.append(ContextBlock(elements=[md("Older requests are not shown.")]))
    return text, blocks
