"""The slash command over signed HTTP: bad input, help, channels, and Slack's signature."""

from __future__ import annotations

import json
import time

import pytest

from bot.domain.requests import RequestStatus
from tests import payloads
from tests.conftest import REQUESTER, BotUnderTest
from tests.fakes.server import RecordedRequest

# No text at all opens the request form instead (tests/test_request_form_e2e.py).
BAD_TEXTS = [
    "CDE123",
    "CDE00000000011",
    "ABC0000000001",
    "0000000001",
    # Several ids are a bulk request (tests/test_bulk_e2e.py); one bad among them refuses all.
    "CDE0000000001 CDE123 reason",
    "CDE0000000001,ABC0000000001",
    "CDE000000000\x00",
    "CDE0000000001\u202e reason",
    "<!channel>",
    "<@U0OUTSIDE1>",
    "x" * 5000,
    "CDE0000000001 " + "y" * 600,
]


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_bad_input_gets_a_private_usage_reply_and_nothing_else(
    bot: BotUnderTest, text: str
) -> None:
    response = await bot.command(text)

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "Usage" in json.dumps(reply["blocks"])
    assert "Nothing was sent" in json.dumps(reply["blocks"])
    assert await bot.runtime.store.with_status(*_all_statuses()) == []
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.soget.requests == []


async def test_lower_case_id_with_spaces_is_normalised(bot: BotUnderTest) -> None:
    bot.soget.add("CDE0000000004")

    response = await bot.command("   cde0000000004    customer asked  ")

    assert response.status_code == 200 and response.text == ""
    await bot.slack.wait_for_calls("chat.postMessage")
    [stored] = await bot.runtime.store.history_of_order("CDE0000000004")
    assert stored.reason == "customer asked"
    assert stored.requester_id == REQUESTER


async def test_help_is_private(bot: BotUnderTest) -> None:
    response = await bot.command("help")

    assert response.json()["response_type"] == "ephemeral"
    assert "/cancel-order CDE0000000001" in response.json()["text"]
    assert bot.slack.calls("chat.postMessage") == []


async def test_direct_message_is_refused(bot: BotUnderTest) -> None:
    response = await bot.command("CDE0000000004", channel="D0DIRECT01")

    assert response.json()["response_type"] == "ephemeral"
    assert "in a channel" in response.json()["text"]
    assert bot.slack.calls("chat.postMessage") == []


async def test_channel_without_the_bot_gets_a_private_explanation(bot: BotUnderTest) -> None:
    bot.soget.add("CDE0000000004")
    bot.slack.not_in_channels.add("C0NOTMEMBR")

    await bot.command("CDE0000000004 reason", channel="C0NOTMEMBR")

    [webhook] = await _wait_webhooks(bot)
    assert webhook.body["response_type"] == "ephemeral"
    assert "Invite me" in str(webhook.body["text"])
    [stored] = await bot.runtime.store.history_of_order("CDE0000000004")
    assert stored.status.value == "withdrawn"


@pytest.mark.parametrize("how", ["unsigned", "wrong secret", "stale"])
async def test_requests_not_signed_by_slack_are_refused(bot: BotUnderTest, how: str) -> None:
    before = len(bot.slack.requests)  # the approver-group warm-up at start
    body = payloads.slash_command(
        "CDE0000000004 x", user=REQUESTER, response_url=bot.slack.response_url
    )
    if how == "unsigned":
        response = await bot.http.post(
            bot.url + "/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    elif how == "wrong secret":
        response = await bot.post_signed(body, secret="not-the-signing-secret")
    else:
        response = await bot.post_signed(body, timestamp=int(time.time()) - 6 * 60)

    assert response.status_code == 401
    assert bot.slack.requests[before:] == []
    assert await bot.runtime.store.history_of_order("CDE0000000004") == []


async def test_healthz(bot: BotUnderTest) -> None:
    response = await bot.http.get(bot.url + "/healthz")
    assert response.status_code == 200 and response.json()["ok"] is True


def _all_statuses() -> list[RequestStatus]:
    return list(RequestStatus)


async def _wait_webhooks(bot: BotUnderTest) -> list[RecordedRequest]:
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="response_url post")
    return bot.slack.webhooks()
