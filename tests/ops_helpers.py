"""Helpers shared by the operations tests (audit, notices, App Home, sandbox)."""

from __future__ import annotations

import json

import httpx

from bot.app import SLACK_EVENTS_PATH
from tests import payloads
from tests.conftest import SIGNING_SECRET, BotUnderTest


def shown(body: dict[str, object]) -> str:
    """Everything a person could read in a recorded message or view: text and blocks."""
    parts = []
    for key in ("text", "blocks", "view"):
        value = body.get(key)
        if value is not None:
            parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return "\n".join(parts)


async def open_home(bot: BotUnderTest, user: str, *, tab: str = "home") -> httpx.Response:
    body = payloads.app_home_opened(user=user, tab=tab)
    return await bot.http.post(
        bot.url + SLACK_EVENTS_PATH,
        content=body,
        headers=payloads.signed_headers(body, SIGNING_SECRET, content_type="application/json"),
    )
