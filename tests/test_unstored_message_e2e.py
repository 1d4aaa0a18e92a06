"""A click on the request message before its ts is stored: the bot posted the request, Slack
showed it, and an approver clicked while the store write of chat.postMessage's answer was still
waiting (a busy database), or after the bot stopped between the two. The click names the message;
the decision's redraw must edit it and the replies go in its thread, not into the channel."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.domain.events import EventKind
from bot.domain.requests import RequestStatus
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, BotFactory, BotUnderTest, MutableClock

ORDER = "CDE0000000051"


async def _posted_but_not_stored(
    bot: BotUnderTest, release: asyncio.Event | None, stored: asyncio.Event | None = None
) -> tuple[str, str]:
    """Send the command with the store write of the post's ts held back until `release`
    (`stored` is set once it ran), or lost if `release` is None (the bot stopped in between);
    the request's id and the ts Slack gave its message."""
    service = bot.runtime.deps.service
    store_ts = service.attach_message

    async def held(request_id: str, message_ts: str) -> None:
        if release is None:
            return
        await release.wait()
        await store_ts(request_id, message_ts)
        if stored is not None:
            stored.set()

    service.attach_message = held  # type: ignore[method-assign]
    assert (await bot.command(f"{ORDER} customer asked")).status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()), what="the request")
    [request] = await bot.runtime.store.history_of_order(ORDER)
    assert request.message_ts is None  # held back: the window the click falls into
    ts = str(bot.slack.messages[0].ts)
    return request.id, ts


def _click_on(bot: BotUnderTest, action: ActionId, request_id: str, ts: str, user: str) -> str:
    return payloads.block_action(
        action, user=user, request_id=request_id, message_ts=ts, response_url=bot.slack.response_url
    )


async def test_an_approval_before_the_ts_is_stored_is_answered_in_the_thread(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    release, stored = asyncio.Event(), asyncio.Event()
    request_id, ts = await _posted_but_not_stored(bot, release, stored)

    await bot.post_signed(_click_on(bot, ActionId.APPROVE, request_id, ts, APPROVER))
    done = await bot.wait_status(request_id, "succeeded")
    await bot.wait_delivered(request_id)

    assert done.message_ts == ts
    assert len(bot.slack.thread_replies(ts)) == 1  # the outcome, in the request's thread
    assert len(bot.slack.channel_posts()) == 1  # nothing landed in the channel itself
    assert bot.slack.updates(ts)  # the message no longer offers the buttons
    assert len(bot.soget.deletes()) == 1

    release.set()  # the post's own answer is stored late: it names the same message
    await asyncio.wait_for(stored.wait(), timeout=5)
    assert (await bot.request(request_id)).message_ts == ts
    events = await bot.runtime.store.events_of(request_id)
    assert [e.kind for e in events].count(EventKind.POSTED.value) == 1  # posted once, said once


@pytest.mark.parametrize("decision", ["reject", "withdraw"])
async def test_a_request_whose_ts_was_lost_is_decided_on_its_own_message(
    bot: BotUnderTest, decision: str
) -> None:
    """The bot stopped between posting and storing: the ts never comes; a click brings it."""
    bot.soget.add(ORDER)
    request_id, ts = await _posted_but_not_stored(bot, None)
    await bot.wait_status(request_id, "pending")

    if decision == "reject":
        await bot.post_signed(_click_on(bot, ActionId.REJECT, request_id, ts, APPROVER))
        await bot.slack.wait_for_calls("views.open")
        request = await bot.request(request_id)
        await bot.submit_reject(request, user=APPROVER, reason="duplicate")
        status = RequestStatus.REJECTED
    else:
        await bot.post_signed(_click_on(bot, ActionId.WITHDRAW, request_id, ts, REQUESTER))
        status = RequestStatus.WITHDRAWN
    decided = await bot.wait_status(request_id, status.value)
    await bot.wait_delivered(request_id)

    assert decided.message_ts == ts
    assert bot.slack.updates(ts)  # redrawn: no button left to click
    assert len(bot.slack.channel_posts()) == 1
    if decision == "reject":
        [reply] = bot.slack.thread_replies(ts)
        assert "duplicate" in str(reply.body)
    assert bot.soget.deletes() == []


async def test_a_request_that_expired_while_its_ts_was_lost_is_redrawn_at_the_next_click(
    bot_with: BotFactory,
) -> None:
    """The expiry's redraw found no message (the ts was lost): the buttons stayed. The first
    click on them brings the ts, and the message is redrawn as expired then."""
    clock = MutableClock()
    bot = await bot_with(
        clock=clock, request_ttl=timedelta(minutes=10), sweep_interval_seconds=3600
    )
    bot.soget.add(ORDER)
    request_id, ts = await _posted_but_not_stored(bot, None)
    await bot.wait_status(request_id, "pending")
    clock.advance(timedelta(minutes=11))
    assert [r.id for r in await bot.runtime.deps.service.expire_overdue()] == [request_id]
    await bot.wait_delivered(request_id)
    assert bot.slack.updates(ts) == []  # nothing to redraw: the bot did not know the message

    await bot.post_signed(_click_on(bot, ActionId.APPROVE, request_id, ts, APPROVER))

    await bot.slack.wait_until(lambda: bool(bot.slack.updates(ts)), what="the redraw")
    await bot.wait_delivered(request_id)
    shown = str(bot.slack.updates(ts)[-1].body["blocks"])
    assert "Expired" in shown and ActionId.APPROVE.value not in shown
    assert "expired" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert bot.soget.deletes() == []


async def _cut_off_before_its_post(bot: BotUnderTest) -> str:
    """What a bot stopped between opening a request and posting it leaves in the database."""
    opened = await bot.runtime.deps.service.open_for_orders(
        order_ids=[ORDER], channel_id=payloads.CHANNEL, requester_id=REQUESTER, reason="asked"
    )
    assert opened.request is not None
    return opened.request.id


async def test_a_request_the_bot_stopped_before_posting_is_withdrawn_and_its_requester_told(
    bot_with: BotFactory,
) -> None:
    clock = MutableClock()
    bot = await bot_with(clock=clock, sweep_interval_seconds=3600)
    bot.soget.add(ORDER)
    request_id = await _cut_off_before_its_post(bot)

    clock.advance(timedelta(minutes=5))  # a post can still be on its way: left alone
    await bot.runtime.deps.runner.sweep()
    assert (await bot.request(request_id)).status is RequestStatus.PENDING
    clock.advance(timedelta(minutes=6))
    await bot.runtime.deps.runner.sweep()

    await bot.wait_status(request_id, "withdrawn")
    await bot.wait_delivered(request_id)
    [dm] = bot.slack.dms(REQUESTER)
    assert "nothing was cancelled" in str(dm.body) and ORDER in str(dm.body)
    assert bot.slack.channel_posts() == [] and bot.soget.deletes() == []
    # The order is free again: asking again opens and posts a new request.
    again = await bot.request_posted_for(ORDER)
    assert again.id != request_id and again.status is RequestStatus.PENDING


async def test_a_posted_request_is_not_taken_for_one_never_posted(bot_with: BotFactory) -> None:
    clock = MutableClock()
    bot = await bot_with(clock=clock, sweep_interval_seconds=3600)
    bot.soget.add(ORDER)
    posted = await bot.request_posted_for(ORDER)

    clock.advance(timedelta(minutes=11))
    await bot.runtime.deps.runner.sweep()

    assert (await bot.request(posted.id)).status is RequestStatus.PENDING
    assert bot.slack.dms(REQUESTER) == []
