"""Audit from Slack over signed HTTP: `status ORDER_ID`, `list`, and ALLOWED_CHANNELS."""

from __future__ import annotations

import json

import pytest

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    OUTSIDER,
    REQUESTER,
    BotFactory,
    BotUnderTest,
)

ORDER = "CDE0000000011"
OTHER_CHANNEL = "C0OTHERCH1"


def _reply(response_json: dict[str, object]) -> str:
    return json.dumps(response_json.get("blocks")) + str(response_json.get("text"))


async def test_status_shows_each_request_its_decision_and_outcome_privately(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER, status="Submitted")  # the first cancel will be refused (R0008)
    first = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, first, user=APPROVER)
    await bot.wait_posted(first.id)
    second = await bot.request_posted_for(ORDER)
    await bot.submit_reject(second, user=APPROVER, reason="duplicate of the first")
    await bot.wait_status(second.id, "rejected")
    # Everything the decisions post is posted before counting: the rejection reply (from the
    # outbox, delivered in the background) and the requester's three direct messages.
    await bot.slack.wait_until(
        lambda: len(bot.slack.thread_replies(second.message_ts)) == 1, what="rejection reply"
    )
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) == 3, what="the DMs")
    await bot.runtime.ops.drain()
    await bot.wait_delivered(first.id)
    await bot.wait_delivered(second.id)
    posts_before = len(bot.slack.calls("chat.postMessage"))

    response = await bot.command(f"status {ORDER.lower()}", user=OUTSIDER)

    assert response.status_code == 200
    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    text = _reply(reply)
    assert f"Cancel requests for {ORDER}" in text
    assert "not cancelled" in text and "R0008" in text  # the first, refused by MouvONE
    assert "rejected" in text and "duplicate of the first" in text  # the second
    assert f"<@{APPROVER}>" in text and f"<@{REQUESTER}>" in text
    assert first.id[:12] in text and second.id[:12] in text
    assert "cancel sent to MouvONE" in text  # the audit trail of the first
    assert "customer asked" in text  # asked in this channel: the reason is shown
    # Newest first.
    assert text.index(second.id[:12]) < text.index(first.id[:12])
    assert len(bot.slack.calls("chat.postMessage")) == posts_before  # nothing public


async def test_status_of_an_order_without_requests(bot: BotUnderTest) -> None:
    response = await bot.command("status CDE0000000099")

    assert response.json()["response_type"] == "ephemeral"
    assert "No cancel request for `CDE0000000099`" in _reply(response.json())


@pytest.mark.parametrize("text", ["status", "status CDE12", "status CDE0000000001 x", "list x"])
async def test_malformed_subcommands_get_the_usage(bot: BotUnderTest, text: str) -> None:
    response = await bot.command(text)

    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    assert "Usage" in _reply(reply)
    assert await bot.runtime.store.find_requests() == []


async def test_reason_from_another_channel_is_shown_to_approvers_only(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    await bot.command(f"{ORDER} secret reason from elsewhere", channel=OTHER_CHANNEL)
    await bot.slack.wait_for_calls("chat.postMessage")

    outsider_view = _reply((await bot.command(f"status {ORDER}", user=OUTSIDER)).json())
    approver_view = _reply((await bot.command(f"status {ORDER}", user=APPROVER)).json())

    assert f"<#{OTHER_CHANNEL}>" in outsider_view
    assert "secret reason" not in outsider_view
    assert "secret reason from elsewhere" in approver_view


async def test_list_shows_the_pending_requests_of_this_channel_only(bot: BotUnderTest) -> None:
    for order in ("CDE0000000012", "CDE0000000013", "CDE0000000014"):
        bot.soget.add(order)
    waiting = await bot.request_posted_for("CDE0000000012")
    approved = await bot.request_posted_for("CDE0000000013")
    await bot.command("CDE0000000014 not here", channel=OTHER_CHANNEL)
    await bot.click(ActionId.APPROVE, approved, user=APPROVER)
    await bot.wait_status(approved.id, "succeeded", "failed")

    response = await bot.command("list")

    reply = response.json()
    assert reply["response_type"] == "ephemeral"
    text = _reply(reply)
    assert "Waiting for approval" in text
    assert waiting.order_id in text
    assert "CDE0000000013" not in text  # decided
    assert "CDE0000000014" not in text  # another channel
    other = _reply((await bot.command("list", channel=OTHER_CHANNEL)).json())
    assert "CDE0000000014" in other and "CDE0000000012" not in other


async def test_list_of_a_quiet_channel(bot: BotUnderTest) -> None:
    reply = (await bot.command("list")).json()
    assert "No cancel request is waiting" in _reply(reply)


@pytest.fixture
async def restricted_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(allowed_channels="C0CHANNEL1")


async def test_allowed_channels_refuse_elsewhere_with_a_clear_reply(
    restricted_bot: BotUnderTest,
) -> None:
    bot = restricted_bot
    bot.soget.add(ORDER)

    refused = await bot.command(f"{ORDER} reason", channel=OTHER_CHANNEL)
    audit_refused = await bot.command("list", channel=OTHER_CHANNEL)
    help_reply = await bot.command("help", channel=OTHER_CHANNEL)

    for response in (refused, audit_refused):
        assert response.json()["response_type"] == "ephemeral"
        assert "works only in <#C0CHANNEL1>" in response.json()["text"]
    assert "Usage" in help_reply.json()["text"]
    assert await bot.runtime.store.find_requests() == []
    assert bot.slack.calls("chat.postMessage") == []

    request = await bot.request_posted_for(ORDER)  # the allowed channel works as usual
    assert request.channel_id == "C0CHANNEL1"
