"""Block Kit for the order preview: its part of the request message, and the private reply
when the preview shows there is nothing to approve."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.preview import IN_PROGRESS, NOT_MASTER, Preview, PreviewState
from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import FAILURES, CatalogueEntry, FailureKind, Language, entry_for_code
from bot.i18n.texts import say
from bot.slack.messages.mrkdwn import (
    CONTEXT_TEXT_LIMIT,
    FIELD_TEXT_LIMIT,
    SECTION_TEXT_LIMIT,
    Rendered,
    clip,
    escape,
    fallback_text,
    slack_date,
)
from bot.soget.models import Actor, CustomerOrder

_FIELD_LIMIT = 200
_MISSING = "—"


def _md(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def _field(text: str) -> MarkdownTextObject:
    return _md(text, FIELD_TEXT_LIMIT)


def _value(text: str | None) -> str:
    if not text or not text.strip():
        return _MISSING
    text = text.strip()
    # Short enough to read at a glance; the whole field is clipped again once escaped.
    return escape(text if len(text) <= _FIELD_LIMIT else text[: _FIELD_LIMIT - 1] + "…")


def _actor(actor: Actor | None) -> str:
    if actor is None or not (actor.name or actor.code):
        return _MISSING
    if actor.name and actor.code:
        return f"{_value(actor.name)} ({_value(actor.code)})"
    return _value(actor.name or actor.code)


def _container(order: CustomerOrder) -> str:
    container = order.container
    if container is None or not container.reference:
        return _MISSING
    size = f" ({_value(container.type)})" if container.type else ""
    return _value(container.reference) + size


def order_fields(order: CustomerOrder, language: Language) -> list[MarkdownTextObject]:
    """What an approver needs in order to decide, as section fields (at most 10)."""
    date = slack_date(order.date, language) if order.date else _MISSING
    return [
        _field(f"{say('preview.field.type', language)}\n{_value(order.type)}"),
        _field(f"{say('preview.field.status', language)}\n{_value(order.status)}"),
        _field(
            f"{say('preview.field.transport_order', language)}\n"
            f"{_value(order.transport_order_number)}"
        ),
        _field(f"{say('preview.field.container', language)}\n{_container(order)}"),
        _field(f"{say('preview.field.carrier', language)}\n{_actor(order.carrier)}"),
        _field(f"{say('preview.field.contractor', language)}\n{_actor(order.contractor)}"),
        _field(
            f"{say('preview.field.client_reference', language)}\n{_value(order.client_reference)}"
        ),
        _field(f"{say('preview.field.order_date', language)}\n{date}"),
    ]


def _why(code: str, order: CustomerOrder, language: Language) -> str:
    if code == NOT_MASTER:
        return say("preview.why_not_master", language, type=_value(order.type))
    if code == IN_PROGRESS:
        return say("preview.why_in_progress", language, status=_value(order.status))
    return ""


def _entry(code: str | None, failure: str | None) -> CatalogueEntry:
    if code:
        return entry_for_code(code)
    try:
        return FAILURES[FailureKind(failure or "")]
    except ValueError:
        return FAILURES[FailureKind.UNEXPECTED_STATUS]


def preview_blocks(request: CancelRequest, language: Language = Language.EN) -> list[Block]:
    """The preview's part of the request message (in the channel's language, like the rest of
    that message)."""
    state = request.preview_state
    if state is None:
        return []  # stored before previews existed
    order = request.preview_order
    if state == PreviewState.UNAVAILABLE or order is None:
        entry = _entry(request.preview_code, request.preview_failure)
        code = request.preview_code or request.preview_failure or "unknown"
        title = escape(entry.text(language).title)
        line = say("preview.unavailable", language, title=title, code=escape(code))
        return [ContextBlock(elements=[_md(line, CONTEXT_TEXT_LIMIT)])]
    blocks: list[Block] = [SectionBlock(fields=order_fields(order, language))]
    if state == PreviewState.WARNING and request.preview_code:
        code = escape(request.preview_code)
        title = escape(entry_for_code(request.preview_code).text(language).title)
        why = _why(request.preview_code, order, language)
        lines = [
            say("preview.warning", language, title=title, code=code),
            *([why] if why else []),
            say("preview.warning_anyway", language, code=code),
        ]
        blocks.append(SectionBlock(text=_md("\n".join(lines))))
    return blocks


def build_not_requested_reply(order_id: str, preview: Preview, language: Language) -> Rendered:
    """The private reply to a requester whose order does not exist or is cancelled already."""
    code = preview.code or (preview.failure.value if preview.failure else "unknown")
    text = _entry(preview.code, preview.failure.value if preview.failure else None).text(language)
    body = (
        f"{say('preview.not_requested', language, order=escape(order_id))}\n"
        f"*{escape(text.title)}* (`{escape(code)}`)\n{escape(text.meaning)}\n"
        f"{say('thread.what_to_do', language)} {escape(text.next_step)}"
    )
    details = []
    if preview.api_message:
        clipped = preview.api_message[:500]
        details.append(say("thread.api_said", language, message=escape(clipped)))
    details.append(say("preview.not_requested_footer", language))
    blocks: list[Block] = [
        SectionBlock(text=_md(body)),
        ContextBlock(elements=[_md(" · ".join(details), CONTEXT_TEXT_LIMIT)]),
    ]
    fallback = say(
        "preview.not_requested_fallback",
        language,
        order=escape(order_id),
        title=escape(text.title),
        code=escape(code),
    )
    return Rendered(fallback_text(fallback), blocks)


def build_bulk_not_requested_reply(
    skipped: Sequence[tuple[str, Preview]], language: Language
) -> Rendered:
    """The private reply when none of a bulk request's orders can be cancelled: one line each
    (the order, the code's title and code)."""
    lines = [say("private.bulk_not_requested", language)]
    for order_id, preview in skipped:
        code = preview.code or (preview.failure.value if preview.failure else "unknown")
        title = _entry(preview.code, preview.failure.value if preview.failure else None)
        lines.append(
            f"• `{escape(order_id)}`: {escape(title.text(language).title)} (`{escape(code)}`)"
        )
    text = clip("\n".join(lines), SECTION_TEXT_LIMIT)
    return Rendered(fallback_text(text), [SectionBlock(text=_md(text))])
