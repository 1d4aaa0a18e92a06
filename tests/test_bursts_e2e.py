"""Bursts on the search and bulk paths: every ack in time (Bolt answers 404 past Slack's 3 s),
before the work it starts; MouvONE never sees more calls at once than the bot's pools allow;
nothing doubled."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.domain.requests import CancelRequest
from bot.slack.ids import ActionId
from tests.conftest import BotFactory, BotUnderTest
from tests.fakes.soget_api import Fault
from tests.test_search_e2e import _open_choice, submission, submitted_view

CONTAINER = "CSQU3054383"
POOL_SIZE = 10  # stands for the default 100 (bot.soget.client.POOL_LIMITS)


def _add(bot: BotUnderTest, count: int) -> list[str]:
    ids = [f"CDE{n:010d}" for n in range(1, count + 1)]
    for order_id in ids:
        bot.soget.add(order_id, container_reference=CONTAINER)
    return ids


async def test_two_hundred_searches_are_acked_first_and_never_flood_mouvone(
    bot_with: BotFactory,
) -> None:
    pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=POOL_SIZE))
    bot = await bot_with(soget_transport=pool, soget_timeout_seconds=20)
    ids = _add(bot, 60)  # two pages each
    bot.soget.gate = asyncio.Event()  # MouvONE answers nothing until every ack is in

    acks = await asyncio.gather(*(bot.command(f"container {CONTAINER}") for _ in range(200)))

    assert [a.status_code for a in acks] == [200] * 200
    assert all("Searching" in a.json()["text"] for a in acks)
    assert not bot.slack.webhooks()  # no answer before MouvONE's
    await bot.soget.wait_until(lambda: bot.soget.in_flight == POOL_SIZE, what="a full pool")
    bot.soget.gate.set()
    await bot.slack.wait_until(
        lambda: len(bot.slack.webhooks()) == 200, timeout=30, what="200 answers"
    )
    assert bot.soget.most_in_flight == POOL_SIZE
    assert len(bot.soget.searches()) == 400  # every page of every search, once
    assert all(ids[-1] in json.dumps(w.body) for w in bot.slack.webhooks())
    assert not bot.soget.deletes()


async def test_a_hundred_submissions_of_one_choice_open_one_request(bot: BotUnderTest) -> None:
    ids = _add(bot, 3)
    view = await _open_choice(bot, f"container:{CONTAINER}")
    body = submission(submitted_view(view, ids))
    reads = len(bot.soget.gets())

    acks = await asyncio.gather(*(bot.post_signed(body) for _ in range(100)))

    assert [(a.status_code, a.content) for a in acks] == [(200, b"")] * 100  # modal closes
    await bot.slack.wait_until(
        lambda: len(bot.slack.ephemerals()) == 99, timeout=20, what="99 replies"
    )
    [request] = await bot.runtime.store.history_of_order(ids[0])
    await bot.wait_request_posted(request.id)
    assert request.order_ids == tuple(ids)
    assert len(bot.slack.channel_posts()) == 1
    assert len(bot.soget.gets()) == reads + 3  # one preview of each order, once
    assert all("already" in json.dumps(e.body) for e in bot.slack.ephemerals())
    assert not bot.soget.deletes()


async def test_fifty_approvals_of_a_bulk_with_half_the_deletes_failing_send_each_once(
    bot_with: BotFactory,
) -> None:
    approvers = [f"U0APPR{n:04d}" for n in range(50)]
    bot = await bot_with(cancel_approvers=",".join(approvers), settle_after_seconds=60)
    orders = [f"CDE00000009{n:02d}" for n in range(8)]
    for order in orders:
        bot.soget.add(order)
    await bot.command(" ".join(orders) + " vessel cancelled")
    request = await _bulk_posted(bot, orders[0])
    bot.soget.delay_seconds = 0.05  # keep the DELETEs in flight while the clicks land
    bot.soget.most_in_flight = 0  # the previews' reads are done
    bot.soget.script(*[Fault(status=500), Fault(then_apply=True)] * 4)

    acks = await asyncio.gather(
        *(bot.click(ActionId.APPROVE, request, user=user) for user in approvers)
    )

    assert [a.status_code for a in acks] == [200] * 50
    done = await bot.wait_status(request.id, "unknown", timeout=15)
    await bot.wait_delivered(request.id, timeout=15)
    await bot.slack.wait_until(
        lambda: len(bot.slack.ephemerals()) == 49, timeout=15, what="49 refusals"
    )
    assert all(len(bot.soget.deletes(order)) == 1 for order in orders)
    assert bot.soget.most_in_flight <= 4  # BULK_CONCURRENCY
    states = sorted(o.state.value for o in done.orders)
    assert states == ["succeeded"] * 4 + ["unknown"] * 4
    assert len(bot.slack.thread_replies(request.message_ts)) == 1  # one summary


async def _bulk_posted(bot: BotUnderTest, first: str) -> CancelRequest:
    for _ in range(500):
        history = await bot.runtime.store.history_of_order(first)
        if history and history[0].message_ts:
            return history[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no bulk request was posted")
