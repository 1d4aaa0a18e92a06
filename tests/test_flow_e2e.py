"""The core flow end to end: signed Slack requests over HTTP → the bot → fake Slack and SOGET."""

from __future__ import annotations

import json

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    SOGET_KEY,
    SOGET_TOKEN,
    BotUnderTest,
)

ORDER = "CDE0000000001"


def _blocks_text(call_body: dict[str, object]) -> str:
    blocks = call_body.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return json.dumps(blocks) + str(call_body.get("text", ""))


async def test_happy_path_request_approve_cancel(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)

    request = await bot.request_posted_for(ORDER)

    [post] = bot.slack.channel_posts()
    assert post.body["channel"] == "C0CHANNEL1"
    shown = _blocks_text(post.body)
    assert ORDER in shown
    assert f"<@{REQUESTER}>" in shown
    assert "customer asked" in shown
    assert ActionId.APPROVE.value in shown and ActionId.REJECT.value in shown
    assert '"confirm"' in shown  # Approve asks for confirmation
    assert bot.soget.deletes() == []  # nothing is cancelled before approval

    response = await bot.click(ActionId.APPROVE, request, user=APPROVER)
    assert response.status_code == 200

    done = await bot.wait_posted(request.id)  # the thread reply sent (the redraw: below)
    assert done.status.value == "succeeded"

    [delete] = bot.soget.deletes()
    assert delete.path == f"/customer-orders/v1/customer-orders/{ORDER}"
    assert delete.headers["Authorization"] == f"Bearer {SOGET_TOKEN}"
    assert delete.headers["Ocp-Apim-Subscription-Key"] == SOGET_KEY
    assert bot.soget.orders[ORDER].status == "Cancelled"

    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in _blocks_text(reply.body)
    await bot.wait_delivered(request.id)
    updates = bot.slack.updates(request.message_ts)
    final = _blocks_text(updates[-1].body)
    assert "Cancelled in MouvONE" in final and ActionId.APPROVE.value not in final
    assert done.decided_by == APPROVER


async def test_second_approver_click_is_refused_privately(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "succeeded")
    await bot.click(ActionId.APPROVE, request, user=APPROVER_2)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER_2)), what="ephemeral")
    [told] = bot.slack.ephemerals(APPROVER_2)
    assert f"already approved by <@{APPROVER}>" in str(told.body["text"])
    assert len(bot.soget.deletes()) == 1


async def test_concurrent_approvals_send_one_cancel(bot: BotUnderTest) -> None:
    import asyncio

    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    responses = await asyncio.gather(
        bot.click(ActionId.APPROVE, request, user=APPROVER),
        bot.click(ActionId.APPROVE, request, user=APPROVER_2),
        bot.click(ActionId.APPROVE, request, user=APPROVER),
    )
    assert all(r.status_code == 200 for r in responses)
    done = await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals()) == 2, what="two refusals")

    assert len(bot.soget.deletes()) == 1
    assert len(bot.slack.thread_replies()) == 1
    assert done.decided_by in {APPROVER, APPROVER_2}
    for told in bot.slack.ephemerals():
        assert "already approved" in str(told.body["text"])
