"""Direct messages to the requester, and APPROVAL_CHANNEL, over signed HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import (
    APPROVER,
    REQUESTER,
    BotFactory,
    BotUnderTest,
    MutableClock,
)
from tests.fakes.slack_api import ScriptedFailure
from tests.ops_helpers import shown

ORDER = "CDE0000000021"
APPROVALS = "C0APPROVAL"


async def test_requester_is_told_of_the_approval_then_of_the_cancel(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    assert bot.slack.dms() == []  # nothing to tell before a decision

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) == 2, what="two DMs")

    decided, finished = (shown(dm.body) for dm in bot.slack.dms(REQUESTER))
    assert request.message_ts is not None
    link = f"/archives/C0CHANNEL1/p{request.message_ts.replace('.', '')}"
    assert f"<@{APPROVER}> approved your request to cancel `{ORDER}`" in decided
    assert "is cancelled in MouvONE" in finished
    for text in (decided, finished):
        assert link in text  # a link to the request and its thread
    assert bot.slack.dms(APPROVER) == []


async def test_a_direct_message_waiting_for_its_retry_holds_back_the_next_one(
    bot_with: BotFactory,
) -> None:
    """Slack fails the "approved" DM; it waits for its retry while the cancel finishes. The
    "cancelled" DM waits behind it: the requester reads them in the order they happened."""
    clock = MutableClock()  # the retry is due only once the test moves the clock
    bot = await bot_with(clock=clock)
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_next(
        "chat.postMessage",
        ScriptedFailure(500, {"ok": False, "error": "internal_error"}, channel=REQUESTER),
    )

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)  # the cancel is done, its thread reply out
    await bot.runtime.deps.runner.sweep()  # a pass over the outbox with the retry not yet due
    clock.advance(timedelta(hours=1))
    bot.runtime.deps.runner.kick()
    await bot.wait_delivered(request.id)

    failed, *delivered = (shown(dm.body) for dm in bot.slack.dms(REQUESTER))
    assert "approved your request" in failed  # the attempt Slack refused
    assert len(delivered) == 2
    assert "approved your request" in delivered[0]
    assert "is cancelled in MouvONE" in delivered[1]


async def test_requester_is_told_of_a_rejection_with_its_reason(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.submit_reject(request, user=APPROVER, reason="wrong container")

    await bot.slack.wait_until(lambda: bool(bot.slack.dms(REQUESTER)), what="the DM")
    [dm] = bot.slack.dms(REQUESTER)
    text = shown(dm.body)
    assert f"<@{APPROVER}> rejected your request to cancel `{ORDER}`" in text
    assert "wrong container" in text and "Nothing was sent to MouvONE" in text


async def test_refusal_is_explained_in_the_finished_notice(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER, delivered_segment=True)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) == 2, what="two DMs")

    finished = shown(bot.slack.dms(REQUESTER)[-1].body)
    assert f"`{ORDER}` was not cancelled" in finished
    assert "R0009" in finished


async def test_self_approval_gets_only_the_finished_notice(
    self_approving_bot: BotUnderTest,
) -> None:
    bot = self_approving_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=REQUESTER)
    await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: bool(bot.slack.dms(REQUESTER)), what="the DM")
    await bot.runtime.ops.drain()  # a "decided" notice, if any, would be sent by now

    [dm] = bot.slack.dms(REQUESTER)
    assert "is cancelled in MouvONE" in shown(dm.body)


@pytest.fixture
async def approval_channel_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(approval_channel=APPROVALS)


async def test_approval_channel_gets_the_requests_with_a_link_back(
    approval_channel_bot: BotUnderTest,
) -> None:
    bot = approval_channel_bot
    bot.soget.add(ORDER)

    request = await bot.request_posted_for(ORDER)

    [post] = bot.slack.channel_posts()
    assert post.body["channel"] == APPROVALS
    assert "Asked in <#C0CHANNEL1>" in shown(post.body)
    assert request.channel_id == "C0CHANNEL1"  # where it was asked, for audit and `list`
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)), what="pointer")
    [pointer] = bot.slack.ephemerals(REQUESTER)
    assert pointer.body["channel"] == "C0CHANNEL1"
    assert f"waits for approval in <#{APPROVALS}>" in shown(pointer.body)
    assert f"/archives/{APPROVALS}/p" in shown(pointer.body)

    listed = (await bot.command("list", channel=APPROVALS)).json()
    assert ORDER in shown(listed)

    assert request.message_ts is not None
    click = payloads.block_action(  # on the request message, in the approval channel
        ActionId.APPROVE,
        user=APPROVER,
        request_id=request.id,
        message_ts=request.message_ts,
        response_url=bot.slack.response_url,
        channel=APPROVALS,
    )
    await bot.post_signed(click)
    await bot.wait_posted(request.id)
    [reply] = bot.slack.thread_replies(request.message_ts)
    assert reply.body["channel"] == APPROVALS
    for update in bot.slack.updates(request.message_ts):
        assert update.body["channel"] == APPROVALS
        assert "Asked in <#C0CHANNEL1>" in shown(update.body)  # kept on every redraw
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) == 2, what="two DMs")
    assert f"/archives/{APPROVALS}/p" in shown(bot.slack.dms(REQUESTER)[-1].body)
