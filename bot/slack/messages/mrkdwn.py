"""The shared helpers of every builder: Slack's limits, escaping, clipping, mrkdwn and plain text
objects, dates and mentions, and `Rendered`, what every builder returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from slack_sdk.models.blocks import Block, MarkdownTextObject, PlainTextObject

from bot.i18n.catalogue import Language
from bot.i18n.texts import say


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message as a builder made it: the `text` fallback (notifications, screen readers)
    and the blocks. Both are escaped and within Slack's limits."""

    text: str
    blocks: list[Block] = field(default_factory=list)


# Slack's Block Kit limits, in characters of the text as sent (after escaping).
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
CONTEXT_TEXT_LIMIT = 3000
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
CONFIRM_TITLE_LIMIT = 100
CONFIRM_TEXT_LIMIT = 300
# chat.postMessage's `text` (the notification and screen-reader fallback) is cut at 40,000.
FALLBACK_TEXT_LIMIT = 4000


def escape(text: str) -> str:
    """Escape user or API text for mrkdwn, so it cannot mention, link or format by accident."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """`text` (mrkdwn, already escaped) cut to `limit` characters with "…", never inside an
    entity (`&amp;`) or a Slack token (`<@U…>`, `<!date^…>`): a cut one would show raw."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    token = cut.rfind("<")
    if token != -1 and ">" not in cut[token:]:
        cut = cut[:token]
    return cut + "…"


def plain(text: str, limit: int) -> PlainTextObject:
    """A plain_text object (Slack shows it as is: no escaping), cut to `limit`."""
    return PlainTextObject(text=text if len(text) <= limit else text[: limit - 1] + "…", emoji=True)


def slack_date(moment: datetime, language: Language) -> str:
    """A date Slack shows in each reader's own time zone (its words in `language`)."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    shown = say("common.date_and_time", language, date="{date_short_pretty}", time="{time}")
    return f"<!date^{int(moment.timestamp())}^{shown}|{fallback}>"


def mention(approver_id: str) -> str:
    return f"<!subteam^{approver_id}>" if approver_id.startswith("S") else f"<@{approver_id}>"


def clip_raw(text: str, limit: int) -> str:
    """Raw text (not yet escaped) cut to a length that reads well."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(text: str, limit: int = SECTION_TEXT_LIMIT) -> MarkdownTextObject:
    """Escaped mrkdwn, clipped to the limit of where it goes (a field's is 2,000)."""
    return MarkdownTextObject(text=clip(text, limit))


def fallback_text(text: str) -> str:
    """A message's `text`: Slack renders it as mrkdwn in notifications, so escaped parts only."""
    return clip(text, FALLBACK_TEXT_LIMIT)
