"""Block Kit of the App Home tab, in its reader's language: what waits for an approver, and
one's own recent requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block, ContextBlock, DividerBlock, HeaderBlock, SectionBlock
from slack_sdk.models.views import View

from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import Language
from bot.i18n.texts import say
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.audit import request_line
from bot.slack.messages.mrkdwn import HEADER_TEXT_LIMIT, md, plain, slack_date


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=plain(text, HEADER_TEXT_LIMIT))


def build_home_view(
    *,
    is_approver: bool,
    waiting: Sequence[CancelRequest],
    mine: Sequence[CancelRequest],
    updated_at: datetime,
    language: Language,
) -> View:
    blocks: list[Block] = [
        SectionBlock(text=md(say("home.intro", language, command=SLASH_COMMAND)))
    ]
    if is_approver:
        blocks.append(_header(say("home.waiting_header", language, count=len(waiting))))
        if not waiting:
            blocks.append(SectionBlock(text=md(say("home.nothing_waits", language))))
        for request in waiting:
            blocks.append(SectionBlock(text=md(request_line(request, language), 1500)))
        blocks.append(DividerBlock())
    blocks.append(_header(say("home.mine_header", language)))
    if not mine:
        blocks.append(SectionBlock(text=md(say("home.none_yet", language))))
    for request in mine:
        blocks.append(SectionBlock(text=md(request_line(request, language), 1500)))
    updated = say("home.updated", language, when=slack_date(updated_at, language))
    blocks.append(ContextBlock(elements=[md(updated)]))
    return View(type="home", callback_id="cancel-order-home", blocks=blocks)
