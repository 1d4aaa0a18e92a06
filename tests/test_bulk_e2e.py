"""Bulk requests over signed HTTP: several orders in one `/cancel-order`, one approval, each
order's DELETE exactly once, one summary reply edited to its final line."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bot.domain.requests import CancelRequest, OrderState, RequestStatus
from bot.i18n.catalogue import CATALOGUE, Language
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING
from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    BotFactory,
    BotUnderTest,
    make_settings,
    serve_bot,
    stop_bot,
)
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ops_helpers import open_home
from tests.ops_helpers import shown as shown_home

ORDERS = ("CDE0000000011", "CDE0000000012", "CDE0000000013")


def shown(body: dict[str, Any]) -> str:
    blocks = body.get("blocks")
    return (json.dumps(blocks) if not isinstance(blocks, str) else blocks) + str(body.get("text"))


async def bulk_posted(bot: BotUnderTest, text: str, first: str) -> CancelRequest:
    """Send a several-order `/cancel-order` and wait until its request message is stored."""
    response = await bot.command(text)
    assert response.status_code == 200
    for _ in range(500):
        history = await bot.runtime.store.history_of_order(first)
        if history and history[0].message_ts:
            return history[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no bulk request was posted")


async def test_several_ids_open_one_request_listing_every_order(bot: BotUnderTest) -> None:
    for order in ORDERS:
        bot.soget.add(order)

    request = await bulk_posted(
        bot, "CDE0000000011 cde0000000012,CDE0000000013\nCDE0000000011 customer withdrew", ORDERS[0]
    )

    assert request.order_ids == ORDERS  # in the order typed, the duplicate folded
    assert request.reason == "customer withdrew"
    assert [o.state for o in request.orders] == [OrderState.WAITING] * 3
    [post] = bot.slack.channel_posts()
    text = shown(post.body)
    assert "Cancel 3 orders?" in text
    assert all(f"`{order}`" in text for order in ORDERS)
    assert text.count(f'"action_id": "{ActionId.APPROVE.value}"') == 1  # one Approve for all
    # `status` finds the bulk request from any of its orders.
    for order in ORDERS:
        [found] = await bot.runtime.store.history_of_order(order)
        assert found.id == request.id
    status = json.dumps((await bot.command(f"status {ORDERS[2].lower()}")).json())
    assert "3 orders:" in status and all(f"`{order}`" in status for order in ORDERS)
    assert bot.soget.deletes() == []


async def test_bulk_of_three_with_one_r0008_cancels_two_and_explains_the_refusal(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDERS[0])
    bot.soget.add(ORDERS[1], status="Submitted")  # MouvONE answers R0008
    bot.soget.add(ORDERS[2])
    request = await bulk_posted(bot, " ".join(ORDERS) + " vessel cancelled", ORDERS[0])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_status(request.id, "succeeded")
    await bot.wait_delivered(request.id)

    assert [o.state for o in done.orders] == [
        OrderState.SUCCEEDED,
        OrderState.FAILED,
        OrderState.SUCCEEDED,
    ]
    for order in ORDERS:
        assert len(bot.soget.deletes(order)) == 1  # one DELETE each
    # One summary reply in the thread, edited in place to its final line.
    [summary] = bot.slack.thread_replies(request.message_ts)
    summary_ts = await bot.runtime.store.summary_ts(request.id)
    edits = bot.slack.updates(summary_ts)
    final = shown(edits[-1].body) if edits else shown(summary.body)
    explanation = CATALOGUE["R0008"].text(Language.EN)
    assert "Done:" in final and "2 cancelled, 1 refused: R0008" in final
    assert f"`{ORDERS[1]}` refused" in final and explanation.title in final
    # The request message shows the totals.
    redraw = shown(bot.slack.updates(request.message_ts)[-1].body)
    assert "2 cancelled, 1 refused: R0008" in redraw
    # The requester's direct message and App Home summarise it as one item with its totals.
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) == 2, what="2 DMs")
    [finished] = [d for d in bot.slack.dms(REQUESTER) if "has its answers" in shown(d.body)]
    assert "3 orders" in shown(finished.body) and "2 cancelled, 1 refused: R0008" in shown(
        finished.body
    )
    await open_home(bot, REQUESTER)
    await bot.slack.wait_until(lambda: len(bot.slack.homes(REQUESTER)) == 1, what="the home")
    home = shown_home(bot.slack.homes(REQUESTER)[0].body)
    assert home.count("3 orders:") == 1 and "2 cancelled, 1 refused: R0008" in home


def _deletes_are(bot: BotUnderTest, count: int) -> bool:
    return len(bot.soget.deletes()) == count


MANY_APPROVERS = [f"U0MANY{i:04d}" for i in range(50)]


async def test_fifty_racing_approvals_of_a_bulk_request_send_one_delete_per_order(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(cancel_approvers=",".join(MANY_APPROVERS))
    for order in ORDERS:
        bot.soget.add(order)
    bot.soget.delay_seconds = 0.2  # keep the cancels in flight while the clicks land
    request = await bulk_posted(bot, " ".join(ORDERS), ORDERS[0])

    responses = await asyncio.gather(
        *(bot.click(ActionId.APPROVE, request, user=user) for user in MANY_APPROVERS)
    )

    assert all(r.status_code == 200 for r in responses)
    done = await bot.wait_status(request.id, "succeeded")
    await bot.wait_delivered(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals()) == 49, what="49 refusals")
    for order in ORDERS:
        assert len(bot.soget.deletes(order)) == 1
    assert [o.attempts for o in done.orders] == [1, 1, 1]
    assert len(bot.slack.thread_replies(request.message_ts)) == 1  # the one summary
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events.count("approved") == 1 and events.count("cancel_sent") == 1


async def test_an_order_covered_by_another_request_is_left_out_and_named(
    bot: BotUnderTest,
) -> None:
    for order in ORDERS:
        bot.soget.add(order)
    single = await bot.request_posted_for(ORDERS[1])

    bulk = await bulk_posted(bot, " ".join(ORDERS) + " customer withdrew", ORDERS[0])

    assert bulk.order_ids == (ORDERS[0], ORDERS[2])
    await bot.slack.wait_until(lambda: len(bot.slack.webhooks()) == 1, what="the private reply")
    told = shown(bot.slack.webhooks()[0].body)
    assert "posted without these orders" in told and f"`{ORDERS[1]}`" in told
    assert "portops.example.invalid" in told  # a link to the request that covers it
    assert bot.slack.webhooks()[0].body.get("response_type") == "ephemeral"

    # Every order covered now: nothing is opened, the requester is told which covers what.
    await bot.command(" ".join(ORDERS) + " again")
    await bot.slack.wait_until(lambda: len(bot.slack.webhooks()) == 2, what="the second reply")
    told = shown(bot.slack.webhooks()[1].body)
    assert "No request was opened" in told
    assert all(f"`{order}`" in told for order in ORDERS)
    found = {r.id for order in ORDERS for r in await bot.runtime.store.history_of_order(order)}
    assert found == {single.id, bulk.id}
    assert len(bot.slack.channel_posts()) == 2
    assert bot.soget.deletes() == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (" ".join(ORDERS) + " too many", "Too many orders: 3 (at most 2"),
        ("CDE0000000011 CDE00000012 typo", "`CDE00000012` is not an order id"),
        ("CDE0000000011,CDE0000000012,ABC0000000013 typo", "`ABC0000000013` is not an order id"),
    ],
)
async def test_limit_and_bad_id_refuse_the_whole_command_privately(
    bot_with: BotFactory, text: str, said: str
) -> None:
    bot = await bot_with(max_orders_per_request=2)

    response = await bot.command(text)

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert said in json.dumps(reply)
    assert await bot.runtime.store.with_status(*RequestStatus) == []
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.soget.requests == []


async def test_retry_sends_again_only_the_orders_that_may_be_retried(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(bulk_concurrency=1)
    unavailable, cancelled, refused = "CDE0000000031", "CDE0000000032", "CDE0000000033"
    bot.soget.add(unavailable)
    bot.soget.add(cancelled)
    bot.soget.add(refused, status="Submitted")
    # The first DELETE meets a gateway 429 on every try: MouvONE surely did not act.
    bot.soget.script(*[Fault(status=429, headers={"Retry-After": "0"})] * 3)
    request = await bulk_posted(bot, f"{unavailable} {cancelled} {refused} x", unavailable)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    waiting = await bot.wait_status(request.id, "approved")
    for _ in range(500):
        waiting = await bot.request(request.id)
        if waiting.awaits_retry:
            break
        await asyncio.sleep(0.01)
    await bot.wait_delivered(request.id)
    assert [o.state for o in waiting.orders] == [
        OrderState.UNAVAILABLE,
        OrderState.SUCCEEDED,
        OrderState.FAILED,
    ]
    redraw = shown(bot.slack.updates(request.message_ts)[-1].body)
    assert ActionId.RETRY.value in redraw

    await bot.click(ActionId.RETRY, request, user=APPROVER)
    done = await bot.wait_status(request.id, "succeeded")
    await bot.wait_delivered(request.id)

    assert len(bot.soget.deletes(unavailable)) == 4  # 3 tries turned away, then the Retry's
    assert len(bot.soget.deletes(cancelled)) == 1
    assert len(bot.soget.deletes(refused)) == 1  # a refusal is never retried
    assert [o.state for o in done.orders] == [
        OrderState.SUCCEEDED,
        OrderState.SUCCEEDED,
        OrderState.FAILED,
    ]
    # A second click finds nothing left to retry: no call.
    await bot.click(ActionId.RETRY, request, user=APPROVER)
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals(APPROVER)) >= 1, what="refusal")
    assert len(bot.soget.deletes()) == 6
    assert len(bot.slack.thread_replies(request.message_ts)) == 1


async def test_deletes_are_bounded_and_a_failing_summary_post_is_posted_once(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(bulk_concurrency=2)
    orders = [f"CDE00000000{50 + i}" for i in range(5)]
    for order in orders:
        bot.soget.add(order)
    answers = [asyncio.Event() for _ in orders]
    bot.soget.script(*(Fault(hold=answer, then_apply=True) for answer in answers))
    # Slack refuses the first tries of the summary reply (a thread reply).
    bot.slack.fail_next("chat.postMessage", *[ScriptedFailure(500, only_threads=True)] * 3)
    request = await bulk_posted(bot, " ".join(orders), orders[0])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.soget.wait_until(lambda: len(bot.soget.deletes()) == 2, what="2 DELETEs")
    await asyncio.sleep(0.3)  # room for a third DELETE, which must not come
    assert len(bot.soget.deletes()) == 2  # BULK_CONCURRENCY in flight, no more
    for sent, answer in enumerate(answers[:3], start=3):
        answer.set()  # one answer frees one slot: one more DELETE goes out
        await bot.soget.wait_until(partial(_deletes_are, bot, sent), what=f"{sent} DELETEs")
    for answer in answers:
        answer.set()
    done = await bot.wait_status(request.id, "succeeded")
    await bot.wait_delivered(request.id, timeout=10)

    assert [o.state for o in done.orders] == [OrderState.SUCCEEDED] * 5
    assert all(len(bot.soget.deletes(order)) == 1 for order in orders)
    # Three refused tries, one accepted post; every later change edits that one message.
    assert len(bot.slack.thread_replies(request.message_ts)) == 4
    summary_ts = await bot.runtime.store.summary_ts(request.id)
    assert summary_ts is not None
    assert "Done:" in shown(bot.slack.updates(summary_ts)[-1].body) or "Done:" in shown(
        bot.slack.thread_replies(request.message_ts)[-1].body
    )


async def test_a_server_error_after_the_cancel_was_applied_is_settled_by_reading(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(bulk_concurrency=1, settle_after_seconds=0.2)
    for order in ORDERS:
        bot.soget.add(order)
    # MouvONE applies the first cancel, then answers 500: the order may be cancelled.
    bot.soget.script(Fault(status=500, then_apply=True))
    request = await bulk_posted(bot, " ".join(ORDERS), ORDERS[0])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_status(request.id, "succeeded", timeout=10)
    await bot.wait_delivered(request.id)

    assert [o.state for o in done.orders] == [OrderState.SUCCEEDED] * 3
    assert done.orders[0].outcome_note == NOTE_CONFIRMED_BY_READING
    assert all(len(bot.soget.deletes(order)) == 1 for order in ORDERS)  # never resent
    assert bot.soget.gets(ORDERS[0])[-1].at > bot.soget.deletes(ORDERS[0])[0].at
    summary_ts = await bot.runtime.store.summary_ts(request.id)
    assert "3 cancelled" in shown(bot.slack.updates(summary_ts)[-1].body)


async def test_a_second_instance_leaves_a_bulk_in_flight_alone(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    database = tmp_path / "shared.sqlite3"
    settings = make_settings(
        fake_slack,
        fake_soget,
        database,
        lease_seconds=1.0,
        settle_after_seconds=0.2,
        soget_timeout_seconds=30,
        bulk_concurrency=1,
    )
    runner_a, first = await serve_bot(settings, fake_slack, fake_soget)
    runner_b, second = await serve_bot(settings, fake_slack, fake_soget)  # a rolling deploy
    try:
        for order in ORDERS:
            fake_soget.add(order)
        request = await bulk_posted(first, " ".join(ORDERS), ORDERS[0])
        answer = asyncio.Event()
        fake_soget.script(Fault(then_apply=True), Fault(hold=answer, then_apply=True))
        # Both instances get an Approve at once; the second DELETE is held at MouvONE.
        await asyncio.gather(
            first.click(ActionId.APPROVE, request, user=APPROVER),
            second.click(ActionId.APPROVE, request, user=APPROVER_2),
        )
        await fake_soget.wait_until(lambda: len(fake_soget.deletes()) == 2, what="2 DELETEs")
        await asyncio.sleep(2.5)  # two and a half lease periods of sweeps on both instances

        assert len(fake_soget.deletes()) == 2
        events = [e.kind for e in await second.runtime.store.events_of(request.id)]
        assert "cancel_interrupted" not in events and "settle_read" not in events
        answer.set()
        done = await first.wait_status(request.id, "succeeded")
        await first.wait_delivered(request.id)
    finally:
        await stop_bot(runner_b, second)
        await stop_bot(runner_a, first)

    assert [o.state for o in done.orders] == [OrderState.SUCCEEDED] * 3
    assert all(len(fake_soget.deletes(order)) == 1 for order in ORDERS)
    assert len(fake_slack.thread_replies(request.message_ts)) == 1
