"""Bulk requests over signed HTTP: several orders in one `/cancel-order`, one approval, each
order's DELETE exactly once, one summary reply edited to its final line."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot.domain.requests import CancelRequest, OrderState
from bot.i18n.catalogue import CATALOGUE, Language
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, BotUnderTest

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
