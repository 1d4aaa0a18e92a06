"""Slack failing at each call of the bulk and search flows: the user gets a clear message,
nothing is lost, nothing is doubled, nothing is left pending."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from tests.conftest import BotUnderTest
from tests.fakes.slack_api import ScriptedFailure

ORDERS = ("CDE0000000081", "CDE0000000082", "CDE0000000083")
DROPPED = ScriptedFailure(0, reset=True)
# What Slack answers chat.postMessage with, each as often as the bot's client tries (3 times).
POST_FAULTS = {
    "500": [ScriptedFailure(500, {"ok": False, "error": "fatal_error"})] * 3,
    "dropped": [DROPPED] * 3,
    "channel_not_found": [ScriptedFailure(200, {"ok": False, "error": "channel_not_found"})],
    "not_in_channel": [ScriptedFailure(200, {"ok": False, "error": "not_in_channel"})],
}


@pytest.mark.parametrize("fault", POST_FAULTS, ids=list(POST_FAULTS))
async def test_a_bulk_request_slack_would_not_post_is_withdrawn_and_the_requester_told(
    bot: BotUnderTest, fault: str
) -> None:
    for order in ORDERS:
        bot.soget.add(order)
    bot.slack.fail_next("chat.postMessage", *POST_FAULTS[fault])

    response = await bot.command(" ".join(ORDERS) + " vessel cancelled")
    assert response.status_code == 200

    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="a private reply")
    told = json.dumps(bot.slack.webhooks()[-1].body)
    member = fault in ("channel_not_found", "not_in_channel")
    assert ("/invite" if member else "Slack did not take the approval request") in told
    [request] = await bot.runtime.store.history_of_order(ORDERS[0])
    assert request.status is RequestStatus.WITHDRAWN  # nothing left pending, orders free again
    assert not bot.soget.deletes()


async def test_a_rate_limited_post_of_a_bulk_request_is_posted_once_after_retry_after(
    bot: BotUnderTest,
) -> None:
    for order in ORDERS:
        bot.soget.add(order)
    limited = ScriptedFailure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
    bot.slack.fail_next("chat.postMessage", limited)

    response = await bot.command(" ".join(ORDERS) + " vessel cancelled")
    assert response.status_code == 200

    request = await _opened(bot, ORDERS[0])
    posted = await bot.wait_request_posted(request.id)
    assert posted.status is RequestStatus.PENDING
    assert len(bot.slack.channel_posts()) == 2  # the refused one, then the one in the channel
    assert not bot.slack.webhooks()  # nothing to tell: the request speaks for itself


async def _opened(bot: BotUnderTest, order_id: str) -> CancelRequest:
    """The request a command opened (after its ack)."""
    for _ in range(500):
        if found := await bot.runtime.store.history_of_order(order_id):
            return found[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no request was opened for {order_id}")
