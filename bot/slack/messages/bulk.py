"""Block Kit of a bulk request (several orders, one approval): its request message (every order
with its preview line, the totals) and its one summary reply in the thread (each order's answer,
then a final line). Both speak the channel's language.

Slack allows 50 blocks and 3,000 characters a section: orders are packed a few lines a section,
and those beyond what fits are shown as a compact list of ids with a count.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.domain.preview import PreviewState
from bot.domain.requests import (
    CancelRequest,
    OrderItem,
    OrderState,
    OrderTotals,
    RequestStatus,
    order_totals,
)
from bot.i18n.catalogue import FAILURES, CatalogueEntry, FailureKind, Language, entry_for_code
from bot.i18n.notes import note_text
from bot.i18n.texts import say
from bot.slack.messages.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    FALLBACK_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    HEADER_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Rendered,
    clip,
    escape,
    fallback_text,
    plain,
    slack_date,
)
from bot.slack.messages.mrkdwn import md as _md

# Sections of order lines in one message, at most; the rest is a compact list and a count.
MAX_ORDER_SECTIONS = 8
_LINE_LIMIT = 600  # one order's line, before it is packed


def _entry(code: str | None, failure: str | None) -> CatalogueEntry:
    if code:
        return entry_for_code(code)
    if failure:
        try:
            return FAILURES[FailureKind(failure)]
        except ValueError:
            pass
    return FAILURES[FailureKind.UNEXPECTED_STATUS]


def pack_lines(lines: Sequence[tuple[str, str]], language: Language) -> list[Block]:
    """`(order id, line)` pairs packed into sections within Slack's limits; the orders that do
    not fit in MAX_ORDER_SECTIONS sections are listed compactly, with their count."""
    blocks: list[Block] = []
    current: list[str] = []
    size = 0
    shown = 0
    for _order_id, line in lines:
        line = clip(line, _LINE_LIMIT)
        if current and size + len(line) + 1 > SECTION_TEXT_LIMIT:
            if len(blocks) + 1 >= MAX_ORDER_SECTIONS:
                break
            blocks.append(SectionBlock(text=_md("\n".join(current))))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
        shown += 1
    if current:
        blocks.append(SectionBlock(text=_md("\n".join(current))))
    rest = [order_id for order_id, _line in lines[shown:]]
    if rest:
        blocks.append(ContextBlock(elements=[_md(_compact(rest, language), CONTEXT_TEXT_LIMIT)]))
    return blocks


def _compact(order_ids: Sequence[str], language: Language) -> str:
    """'…and 12 more: `CDE…`, `CDE…`' within one context element; ids that would not fit are
    counted ('+3'), never dropped silently."""
    listed: list[str] = []
    size = 0
    for order_id in order_ids:
        item = f"`{escape(order_id if len(order_id) <= 20 else order_id[:19] + '…')}`"
        if size + len(item) + 2 > CONTEXT_TEXT_LIMIT - 200:
            break
        listed.append(item)
        size += len(item) + 2
    unlisted = len(order_ids) - len(listed)
    shown = ", ".join(listed) + (f" +{unlisted}" if unlisted else "")
    return say("bulk.more_orders", language, count=len(order_ids), orders=shown)


# -- the request message ----------------------------------------------------------------------


def preview_line(order: OrderItem, language: Language) -> str:
    """`CDE…` · Master, Valid (· a warning naming the code MouvONE will answer)."""
    head = f"`{escape(order.order_id)}`"
    if order.state is OrderState.SKIPPED:
        entry = _entry(order.preview_code, order.preview_failure)
        code = escape(order.preview_code or order.preview_failure or "unknown")
        title = escape(entry.text(language).title)
        return say("bulk.line.skipped", language, order=head, title=title, code=code)
    found = order.preview_order
    if order.preview_state == PreviewState.UNAVAILABLE or found is None:
        if order.preview_state is None:
            return head
        entry = _entry(order.preview_code, order.preview_failure)
        code = escape(order.preview_code or order.preview_failure or "unknown")
        title = escape(entry.text(language).title)
        return say("bulk.line.unavailable", language, order=head, title=title, code=code)
    what = f"{head} · {escape(found.type)}, {escape(found.status)}"
    if order.preview_state == PreviewState.WARNING and order.preview_code:
        code = escape(order.preview_code)
        title = escape(entry_for_code(order.preview_code).text(language).title)
        what += " · " + say("bulk.line.warning", language, title=title, code=code)
    return what


def totals_text(totals: OrderTotals, language: Language) -> str:
    """'11 cancelled, 1 refused: R0008' (the parts that are not zero)."""
    parts = []
    if totals.cancelled:
        parts.append(say("bulk.totals.cancelled", language, count=totals.cancelled))
    if totals.refused:
        codes = ", ".join(escape(code) for code in totals.refused_codes)
        parts.append(say("bulk.totals.refused", language, count=totals.refused, codes=codes))
    if totals.unknown:
        parts.append(say("bulk.totals.unknown", language, count=totals.unknown))
    if totals.unavailable:
        parts.append(say("bulk.totals.unavailable", language, count=totals.unavailable))
    if totals.skipped:
        parts.append(say("bulk.totals.skipped", language, count=totals.skipped))
    if totals.open:
        parts.append(say("bulk.totals.open", language, count=totals.open))
    return ", ".join(parts)


def build_bulk_request_blocks(
    request: CancelRequest,
    *,
    status_line: str,
    buttons: list[Block],
    reason: str,
    language: Language,
) -> Rendered:
    """The bulk request message: header, who/why/when, every order with its preview line, the
    request's status line and, once the cancels started, the totals; one Approve / Reject."""
    count = len(request.orders)
    header = say("bulk.header", language, count=count)

    def field(key: str, value: str) -> MarkdownTextObject:
        return _md(f"{say(key, language)}\n{value}", FIELD_TEXT_LIMIT)

    blocks: list[Block] = [
        HeaderBlock(text=plain(header, HEADER_TEXT_LIMIT)),
        SectionBlock(
            fields=[
                field("bulk.field.orders", str(count)),
                field("request.field.requested_by", f"<@{request.requester_id}>"),
                field("request.field.reason", reason),
                field("request.field.requested", slack_date(request.created_at, language)),
            ]
        ),
        *pack_lines([(o.order_id, preview_line(o, language)) for o in request.orders], language),
        SectionBlock(block_id="cancel-order-status", text=_md(status_line)),
    ]
    if request.status not in (
        RequestStatus.PENDING,
        RequestStatus.REJECTED,
        RequestStatus.EXPIRED,
        RequestStatus.WITHDRAWN,
    ):
        totals = order_totals(request.orders)
        line = say("bulk.totals.line", language, totals=totals_text(totals, language))
        blocks.append(ContextBlock(elements=[_md(line, CONTEXT_TEXT_LIMIT)]))
    blocks.extend(buttons)
    footer = say("request.footer", language, id=request.id[:12])
    blocks.append(ContextBlock(elements=[_md(footer)]))
    return Rendered(bulk_summary_text(request, language), blocks)


def bulk_summary_text(request: CancelRequest, language: Language) -> str:
    """Notification text of the request message."""
    totals = order_totals(request.orders)
    return clip(
        say(
            "bulk.notification",
            language,
            count=len(request.orders),
            requester=f"<@{request.requester_id}>",
            totals=totals_text(totals, language) or str(len(request.orders)),
        ),
        FALLBACK_TEXT_LIMIT,
    )


def orders_label(request: CancelRequest) -> str:
    """A bulk request's orders in a few words, for inline code: the first three and a count."""
    ids = request.order_ids
    shown = ", ".join(ids[:3])
    return shown + (f" +{len(ids) - 3}" if len(ids) > 3 else "")


def order_label(request: CancelRequest) -> str:
    """The request's order, or its orders in a few words for a bulk request (unescaped)."""
    return orders_label(request) if request.is_bulk else request.order_id


def orders_line(request: CancelRequest, language: Language) -> str:
    """The orders of a bulk request, for the lists (status, list, App Home)."""
    ids = request.order_ids
    listed = ", ".join(f"`{escape(order_id)}`" for order_id in ids[:10])
    if len(ids) > 10:
        listed += " " + say("bulk.and_more", language, count=len(ids) - 10)
    return say("bulk.line.orders", language, count=len(ids), orders=listed)


# -- the summary reply in the thread -----------------------------------------------------------


def result_line(order: OrderItem, language: Language) -> str:
    """✓ cancelled, ✗ code and explanation, ? unknown, … still to come, – not sent."""
    head = f"`{escape(order.order_id)}`"
    note = f" ({escape(note_text(order.outcome_note, language))})" if order.outcome_note else ""
    match order.state:
        case OrderState.SUCCEEDED:
            code = f" (`{escape(order.outcome_code)}`)" if order.outcome_code else ""
            return say("bulk.result.cancelled", language, order=head) + code + note
        case OrderState.FAILED | OrderState.UNAVAILABLE | OrderState.UNKNOWN:
            entry = _entry(order.outcome_code, order.outcome_failure).text(language)
            code = escape(order.outcome_code or order.outcome_failure or "error")
            key = {
                OrderState.FAILED: "bulk.result.refused",
                OrderState.UNAVAILABLE: "bulk.result.unavailable",
                OrderState.UNKNOWN: "bulk.result.unknown",
            }[order.state]
            line = say(
                key,
                language,
                order=head,
                title=escape(entry.title),
                code=code,
                meaning=escape(entry.meaning),
            )
            return line + note
        case OrderState.SKIPPED:
            return preview_line(order, language)
        case OrderState.WAITING | OrderState.SENDING:
            return say("bulk.result.waiting", language, order=head)
    return head  # unreachable: every state is matched above


def build_summary_reply(request: CancelRequest, language: Language) -> Rendered:
    """The one summary reply of a bulk request, edited as the answers come in: a line per
    order, then the final line once every order has its answer."""
    totals = order_totals(request.orders)
    blocks = pack_lines([(o.order_id, result_line(o, language)) for o in request.orders], language)
    done = totals.finished and request.status is not RequestStatus.EXECUTING
    key = "bulk.summary.final" if done else "bulk.summary.running"
    final = say(key, language, totals=totals_text(totals, language))
    blocks.append(SectionBlock(text=_md(final)))
    return Rendered(fallback_text(final), blocks)
