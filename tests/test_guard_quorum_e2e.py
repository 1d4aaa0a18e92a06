"""Duplicate guard and approval quorum, over signed HTTP against the fakes."""

from __future__ import annotations

import asyncio

import pytest

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    GROUP_MEMBER,
    REQUESTER,
    BotFactory,
    BotUnderTest,
)

ORDER = "CDE0000000070"


def _webhook_texts(bot: BotUnderTest) -> list[str]:
    return [str(w.body.get("text", "")) for w in bot.slack.webhooks()]


async def test_second_request_for_a_pending_order_opens_nothing_and_links_to_it(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    first = await bot.request_posted_for(ORDER)

    response = await bot.command(f"{ORDER} again please", user=APPROVER)

    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()))
    text = _webhook_texts(bot)[-1]
    assert "already has a cancel request" in text and "waiting for approval" in text
    assert f"p{first.message_ts}".replace(".", "") in text  # the permalink to its thread
    assert len(await bot.runtime.store.history_of_order(ORDER)) == 1
    assert len(bot.slack.channel_posts()) == 1
    assert len(bot.soget.gets(ORDER)) == 1  # no second preview either


async def test_order_cancelled_by_the_bot_says_so_and_opens_nothing(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    first = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, first, user=APPROVER)
    await bot.wait_posted(first.id)

    await bot.command(ORDER, user=APPROVER_2)

    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()))
    text = _webhook_texts(bot)[-1]
    assert "already cancelled through this bot" in text and "archives" in text
    assert len(await bot.runtime.store.history_of_order(ORDER)) == 1
    assert len(bot.soget.deletes(ORDER)) == 1


async def test_after_a_rejection_a_new_request_can_be_opened(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    first = await bot.request_posted_for(ORDER)
    await bot.submit_reject(first, user=APPROVER, reason="no")
    await bot.wait_status(first.id, "rejected")

    second = await bot.request_posted_for(ORDER)

    assert second.id != first.id
    assert len(bot.slack.channel_posts()) == 2


async def test_two_commands_at_once_open_one_request(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    await asyncio.gather(bot.command(ORDER), bot.command(ORDER, user=APPROVER))

    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()))
    assert len(await bot.runtime.store.history_of_order(ORDER)) == 1


@pytest.fixture
async def quorum_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(required_approvals=2)


async def test_two_distinct_approvals_are_needed_and_shown(quorum_bot: BotUnderTest) -> None:
    bot = quorum_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    assert "2 approvals needed" in str(bot.slack.channel_posts()[0].body["blocks"])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.updates(request.message_ts)))
    shown = str(bot.slack.updates(request.message_ts)[-1].body["blocks"])
    assert f"1 of 2 approvals: <@{APPROVER}>" in shown
    assert ActionId.APPROVE.value in shown
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "approval is recorded" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)  # the same person again
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals(APPROVER)) == 2)
    assert "approved this request already" in str(bot.slack.ephemerals(APPROVER)[1].body["text"])
    await bot.click(ActionId.APPROVE, request, user=REQUESTER)  # self-approval still refused
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)))
    assert (await bot.request(request.id)).status.value == "pending"
    assert bot.soget.deletes() == []

    await bot.click(ActionId.APPROVE, request, user=APPROVER_2)

    done = await bot.wait_posted(request.id)
    assert done.status.value == "succeeded"
    assert done.approver_ids == (APPROVER, APPROVER_2)
    assert len(bot.soget.deletes(ORDER)) == 1
    await bot.wait_delivered(request.id)  # the final redraw is a delivery of its own
    final = str(bot.slack.updates(request.message_ts)[-1].body["blocks"])
    assert f"<@{APPROVER}>" in final and f"<@{APPROVER_2}>" in final
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events.count("approval") == 1 and events.count("approved") == 1


async def test_one_rejection_ends_a_partly_approved_request(quorum_bot: BotUnderTest) -> None:
    bot = quorum_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))

    await bot.submit_reject(request, user=APPROVER_2, reason="wrong order")
    await bot.wait_status(request.id, "rejected")
    await bot.click(ActionId.APPROVE, request, user=GROUP_MEMBER)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(GROUP_MEMBER)))
    assert "already rejected" in str(bot.slack.ephemerals(GROUP_MEMBER)[0].body["text"])
    assert bot.soget.deletes() == []


async def test_last_approval_and_a_rejection_racing_have_exactly_one_winner(
    quorum_bot: BotUnderTest,
) -> None:
    bot = quorum_bot
    orders = [f"CDE00000008{i:02d}" for i in range(12)]
    outcomes: list[str] = []
    for order in orders:
        bot.soget.add(order)
        request = await bot.request_posted_for(order)
        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        await bot.slack.wait_until(lambda: len(bot.slack.ephemerals(APPROVER)) == len(outcomes) + 1)

        await asyncio.gather(
            bot.click(ActionId.APPROVE, request, user=APPROVER_2),
            bot.submit_reject(request, user=GROUP_MEMBER, reason="race"),
        )

        final = await bot.wait_status(request.id, "rejected", "succeeded")
        events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
        assert (events.count("approved"), events.count("rejected")) in {(1, 0), (0, 1)}
        assert len(bot.soget.deletes(order)) == (1 if final.status.value == "succeeded" else 0)
        outcomes.append(final.status.value)
    assert set(outcomes) <= {"succeeded", "rejected"}
