"""Block Kit of the audit replies (`/cancel-order status ORDER_ID` and `/cancel-order list`) and
the request lines the App Home shares with them, in their reader's language."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, HeaderBlock, SectionBlock

from bot.domain.history import RequestHistory
from bot.domain.requests import CancelRequest, RequestEvent, RequestStatus, order_totals
from bot.i18n.catalogue import Language
from bot.i18n.notes import note_text
from bot.i18n.texts import TEXTS, say
from bot.slack.messages import bulk as bulk_blocks
from bot.slack.messages.blocks import outcome_entry
from bot.slack.messages.bulk import order_label
from bot.slack.messages.mrkdwn import (
    HEADER_TEXT_LIMIT,
    Rendered,
    escape,
    fallback_text,
    md,
    plain,
    slack_date,
)
from bot.slack.messages.status import status_words

MAX_EVENTS_SHOWN = 12


def status_label(status: RequestStatus, language: Language) -> str:
    """An emoji and a few words: the one status table every surface reads."""
    return status_words(status, language)


def event_label(kind: str, language: Language) -> str:
    """What an audit event means (`audit.event.<kind>`); a kind without words shows as stored,
    so a trail written by a newer version still reads."""
    key = f"audit.event.{kind}"
    return say(key, language) if key in TEXTS else kind.replace("_", " ")


def outcome_line(request: CancelRequest, language: Language) -> str | None:
    """What MouvONE answered, in a line, for requests that reached it."""
    if request.status in (RequestStatus.FAILED, RequestStatus.UNKNOWN):
        code = request.outcome_code or request.outcome_failure or "error"
        title = outcome_entry(request).text(language).title
        return f"{escape(title)} (`{escape(code)}`)"
    if request.status is RequestStatus.SUCCEEDED and request.outcome_note:
        return escape(note_text(request.outcome_note, language))  # stored as a key
    return None


def request_line(request: CancelRequest, language: Language, *, show_reason: bool = True) -> str:
    """One request in a few lines: who asked, where, when, why, and where it stands."""
    lines = [
        say(
            "audit.line.asked",
            language,
            status=status_label(request.status, language),
            order=escape(order_label(request)),
            requester=f"<@{request.requester_id}>",
            channel=f"<#{request.channel_id}>",
            when=slack_date(request.created_at, language),
        )
    ]
    if show_reason:
        lines.append(
            say("audit.line.reason", language, reason=escape(request.reason))
            if request.reason
            else say("audit.line.no_reason", language)
        )
    if request.decided_by and request.decided_at:
        note = f": {escape(request.decision_note)}" if request.decision_note else ""
        approver, when = f"<@{request.decided_by}>", slack_date(request.decided_at, language)
        if request.status is RequestStatus.REJECTED:
            decided = say(
                "audit.line.rejected_by", language, approver=approver, when=when, note=note
            )
        else:
            decided = say(
                "audit.line.approved_by", language, approver=approver, when=when, note=note
            )
        lines.append(decided)
    if request.is_bulk:
        lines.append(bulk_blocks.orders_line(request, language))
        totals = bulk_blocks.totals_text(order_totals(request.orders), language)
        if request.status not in (RequestStatus.PENDING, RequestStatus.REJECTED) and totals:
            lines.append(say("audit.line.mouvone", language, outcome=totals))
        return "\n".join(lines)
    outcome = outcome_line(request, language)
    if outcome:
        lines.append(say("audit.line.mouvone", language, outcome=outcome))
    return "\n".join(lines)


def _event_text(event: RequestEvent, language: Language) -> str:
    label = escape(event_label(event.kind, language))
    if event.actor:
        label += " " + say("audit.event_by", language, actor=f"<@{event.actor}>")
    return f"{slack_date(event.at, language)} {label}"


def build_status_blocks(
    order_id: str,
    histories: Sequence[RequestHistory],
    visible_reasons: set[str],
    language: Language,
) -> Rendered:
    """The private answer to `status ORDER_ID`: each request, newest first, with its timeline.

    Reasons are shown only for the ids in `visible_reasons` (a private channel's reasons stay
    with the people who could see them there).
    """
    shown = escape(order_id)
    if not histories:
        text = fallback_text(say("audit.status_answer.none_text", language, order=shown))
        none = say("audit.status_answer.none", language, order=shown)
        return Rendered(text, [SectionBlock(text=md(none))])
    count = len(histories)
    text = fallback_text(say("audit.status_answer.text", language, order=shown, count=count))
    header = say("audit.status_answer.header", language, order=order_id)
    blocks: list[Block] = [HeaderBlock(text=plain(header, HEADER_TEXT_LIMIT))]
    for history in histories:
        request = history.request
        line = request_line(request, language, show_reason=request.id in visible_reasons)
        blocks.append(SectionBlock(text=md(line)))
        events = history.events[-MAX_EVENTS_SHOWN:]
        timeline = "\n".join(_event_text(e, language) for e in events)
        skipped = len(history.events) - len(events)
        if skipped:
            earlier = say("audit.status_answer.earlier_events", language, count=skipped)
            timeline = f"{earlier}\n{timeline}"
        footer = say("audit.status_answer.request_id", language, id=request.id[:12])
        if timeline:
            footer += f"\n{timeline}"
        blocks.append(ContextBlock(elements=[md(footer)]))
    return Rendered(text, blocks)


def build_list_blocks(
    channel_id: str, pending: Sequence[CancelRequest], language: Language, *, more: bool
) -> Rendered:
    """The private answer to `list`: the requests of this channel waiting for an approver."""
    if not pending:
        text = say("audit.list.none_text", language)
        none = say("audit.list.none", language, channel=f"<#{channel_id}>")
        return Rendered(text, [SectionBlock(text=md(none))])
    text = say("audit.list.text", language, count=len(pending))
    header = plain(say("audit.list.header", language), HEADER_TEXT_LIMIT)
    blocks: list[Block] = [HeaderBlock(text=header)]
    for request in pending:
        reason = f" — {escape(request.reason)}" if request.reason else ""
        line = say(
            "audit.list.line",
            language,
            order=escape(order_label(request)),
            requester=f"<@{request.requester_id}>",
            when=slack_date(request.created_at, language),
            reason=reason,
        )
        blocks.append(SectionBlock(text=md(line, 1000)))
    if more:
        blocks.append(ContextBlock(elements=[md(say("audit.list.more", language))]))
    return Rendered(text, blocks)
