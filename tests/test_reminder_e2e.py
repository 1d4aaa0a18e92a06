"""One reminder for a request left pending longer than REMIND_AFTER, from the background sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    APPROVER_GROUP,
    BotFactory,
    BotUnderTest,
    MutableClock,
)

ORDER = "CDE0000000095"


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
async def reminding_bot(bot_with: BotFactory, clock: MutableClock) -> BotUnderTest:
    return await bot_with(
        clock=clock, request_ttl=timedelta(hours=3), remind_after=timedelta(hours=2)
    )


async def test_a_stale_request_gets_one_reminder_mentioning_the_approvers(
    reminding_bot: BotUnderTest, clock: MutableClock
) -> None:
    bot = reminding_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    clock.advance(timedelta(hours=1))
    await bot.slack.wait_for_calls("chat.postMessage", 1)
    assert bot.slack.thread_replies(request.message_ts) == []

    clock.advance(timedelta(hours=1, minutes=1))

    await bot.slack.wait_until(lambda: bool(bot.slack.thread_replies(request.message_ts)))
    text = str(bot.slack.thread_replies(request.message_ts)[0].body["text"])
    assert "still waits for approval" in text
    assert f"<@{APPROVER}>" in text and f"<!subteam^{APPROVER_GROUP}>" in text
    reminded = await bot.request(request.id)
    assert reminded.reminded_at is not None and reminded.status.value == "pending"

    # Later sweeps do not remind again; the request can still be approved.
    clock.advance(timedelta(minutes=30))
    await bot.click(ActionId.APPROVE, request, user=APPROVER_2)
    await bot.wait_posted(request.id)
    replies = [str(r.body["text"]) for r in bot.slack.thread_replies(request.message_ts)]
    assert sum("still waits" in r for r in replies) == 1
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events.count("reminded") == 1


async def test_a_decided_request_is_never_reminded(
    reminding_bot: BotUnderTest, clock: MutableClock
) -> None:
    bot = reminding_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    await bot.submit_reject(request, user=APPROVER, reason=None)
    await bot.wait_status(request.id, "rejected")
    bot.soget.add("CDE0000000096")
    other = await bot.request_posted_for("CDE0000000096")

    clock.advance(timedelta(hours=2, minutes=1))
    # The still pending one is reminded: the sweep has run over both.
    await bot.slack.wait_until(lambda: bool(bot.slack.thread_replies(other.message_ts)))

    replies = [str(r.body["text"]) for r in bot.slack.thread_replies(request.message_ts)]
    assert not any("still waits" in r for r in replies)
    assert (await bot.request(request.id)).reminded_at is None
