"""Block Kit of the App Home tab: what waits for an approver, and one's own recent requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.requests import CancelRequest
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.audit import md, request_line
from bot.slack.messages.mrkdwn import slack_date


def _header(text: str) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=text, emoji=True))


def build_home_view(
    *,
    is_approver: bool,
    waiting: Sequence[CancelRequest],
    mine: Sequence[CancelRequest],
    updated_at: datetime,
) -> View:
    blocks: list[Block] = [
        SectionBlock(
            text=md(
                f"Ask to cancel a MouvONE order with `{SLASH_COMMAND} CDE0000000001 reason` in a "
                "channel; an approver confirms it. "
                f"`{SLASH_COMMAND} status ORDER_ID` shows an order's history, "
                f"`{SLASH_COMMAND} list` what waits in a channel."
            )
        )
    ]
    if is_approver:
        blocks.append(_header(f"Waiting for your approval ({len(waiting)})"))
        if not waiting:
            blocks.append(SectionBlock(text=md("Nothing waits for you. :tada:")))
        for request in waiting:
            blocks.append(SectionBlock(text=md(request_line(request), 1500)))
        blocks.append(DividerBlock())
    blocks.append(_header("Your recent requests"))
    if not mine:
        blocks.append(SectionBlock(text=md("You have not asked to cancel any order yet.")))
    for request in mine:
        blocks.append(SectionBlock(text=md(request_line(request), 1500)))
    blocks.append(ContextBlock(elements=[md(f"Updated {slack_date(updated_at)}")]))
    return View(type="home", callback_id="cancel-order-home", blocks=blocks)
