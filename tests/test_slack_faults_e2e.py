"""Slack failing at each call of the bulk and search flows: the user gets a clear message,
nothing is lost, nothing is doubled, nothing is left pending."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, BotUnderTest
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


# -- the search and its choice ----------------------------------------------------------------

CONTAINER = "CSQU3054383"


async def _click_choose_orders(bot: BotUnderTest) -> httpx.Response:
    """The requester's click on the search answer's "Choose orders…" button."""
    click = payloads.ephemeral_button(
        ActionId.CHOOSE_ORDERS,
        user=REQUESTER,
        value=f"container:{CONTAINER}",
        response_url=bot.slack.response_url,
    )
    return await bot.post_signed(click)


def _add_found(bot: BotUnderTest) -> None:
    for order in ORDERS:
        bot.soget.add(order, container_reference=CONTAINER)


async def test_a_search_answer_slack_refused_on_the_response_url_is_told_another_way(
    bot: BotUnderTest,
) -> None:
    _add_found(bot)
    bot.slack.webhook_status = 500

    response = await bot.command(f"container {CONTAINER}")
    assert response.status_code == 200

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)), what="the answer")
    [answer] = bot.slack.ephemerals(REQUESTER)
    assert all(order in json.dumps(answer.body) for order in ORDERS)
    assert len(bot.soget.searches()) == 1  # told, not searched again


@pytest.mark.parametrize(
    "failure",
    [ScriptedFailure(200, {"ok": False, "error": "expired_trigger_id"}), DROPPED],
    ids=["expired_trigger_id", "dropped"],
)
async def test_a_choice_modal_slack_would_not_open_is_explained_privately(
    bot: BotUnderTest, failure: ScriptedFailure
) -> None:
    _add_found(bot)
    bot.slack.fail_next("views.open", *[failure] * 3)

    response = await _click_choose_orders(bot)
    assert response.status_code == 200

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)), what="a reply")
    told = json.dumps([r.body for r in bot.slack.ephemerals(REQUESTER) + bot.slack.webhooks()])
    assert "Choose orders" in told and "went wrong inside the bot" not in told
    assert not bot.slack.calls("views.update") and not bot.soget.searches()


# -- the bulk request's summary reply and direct messages -----------------------------------

LIMITED = ScriptedFailure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
SUMMARY_FAULTS = {
    "post-429": ("chat.postMessage", ScriptedFailure(**{**vars(LIMITED), "only_threads": True})),
    "post-dropped": ("chat.postMessage", ScriptedFailure(0, reset=True, only_threads=True)),
    "update-500": ("chat.update", ScriptedFailure(500, {"ok": False, "error": "fatal_error"})),
    "update-dropped": ("chat.update", DROPPED),
    "dm-channel_not_found": (
        "chat.postMessage",
        ScriptedFailure(200, {"ok": False, "error": "channel_not_found"}, channel=REQUESTER),
    ),
}


@pytest.mark.parametrize("fault", SUMMARY_FAULTS, ids=list(SUMMARY_FAULTS))
async def test_slack_failing_on_a_bulk_summary_or_dm_loses_and_doubles_nothing(
    bot: BotUnderTest, fault: str
) -> None:
    for order in ORDERS:
        bot.soget.add(order)
    await bot.command(" ".join(ORDERS) + " vessel cancelled")
    request = await bot.wait_request_posted((await _opened(bot, ORDERS[0])).id)
    method, failure = SUMMARY_FAULTS[fault]
    bot.slack.fail_next(method, failure)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "succeeded")
    await bot.wait_posted(request.id, timeout=10)
    await bot.wait_delivered(request.id, timeout=10)

    assert all(len(bot.soget.deletes(order)) == 1 for order in ORDERS)
    refused_posts = 1 if fault.startswith("post-") else 0
    assert len(bot.slack.thread_replies(request.message_ts)) == 1 + refused_posts
    summary_ts = await bot.runtime.store.summary_ts(request.id)
    edits = bot.slack.updates(summary_ts)
    final = edits[-1].body if edits else bot.slack.thread_replies(request.message_ts)[-1].body
    assert "*Done:* 3 cancelled" in json.dumps(final)
    finished = [d for d in bot.slack.dms(REQUESTER) if "has its answers" in json.dumps(d.body)]
    assert len(finished) == 1  # the "finished" DM, once


async def test_a_bulk_reply_slack_refused_on_the_response_url_is_told_another_way(
    bot: BotUnderTest,
) -> None:
    """Every order of the command is covered already: the requester is told which, even when
    Slack refuses the command's response_url."""
    for order in ORDERS:
        bot.soget.add(order)
    await bot.command(" ".join(ORDERS) + " vessel cancelled")
    await bot.wait_request_posted((await _opened(bot, ORDERS[0])).id)
    bot.slack.webhook_status = 500

    response = await bot.command(" ".join(ORDERS) + " again")
    assert response.status_code == 200

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)), what="the reply")
    told = json.dumps(bot.slack.ephemerals(REQUESTER)[0].body)
    assert all(order in told for order in ORDERS)
    assert len(bot.slack.channel_posts()) == 1  # nothing opened


@pytest.mark.parametrize(
    ("failure", "told"),
    [
        (ScriptedFailure(500, {"ok": False, "error": "fatal_error"}), True),
        (DROPPED, True),
        (ScriptedFailure(200, {"ok": False, "error": "not_found"}), False),  # closed meanwhile
    ],
    ids=["500", "dropped", "closed"],
)
async def test_a_choice_slack_would_not_show_is_explained_unless_the_modal_was_closed(
    bot: BotUnderTest, failure: ScriptedFailure, told: bool
) -> None:
    _add_found(bot)
    bot.slack.fail_next("views.update", *[failure] * 3)

    response = await _click_choose_orders(bot)
    assert response.status_code == 200

    await bot.slack.wait_for_calls("views.update")
    await bot.slack.wait_until(
        lambda: bool(bot.slack.ephemerals(REQUESTER)) or not told, what="a reply"
    )
    replies = json.dumps([r.body for r in bot.slack.ephemerals(REQUESTER) + bot.slack.webhooks()])
    assert ("Choose orders" in replies) is told
    assert "went wrong inside the bot" not in replies
