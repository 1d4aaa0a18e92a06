"""Exactly-once cancels, retries and the Slack outbox, over signed HTTP against the fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.i18n.notes import NOTE_EARLIER_ATTEMPT
from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    BotFactory,
    BotUnderTest,
    MutableClock,
    make_settings,
    serve_bot,
)
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.soget_api import FakeSoget, Fault

ORDER = "CDE0000000010"
MANY_APPROVERS = [f"U0MANY{i:04d}" for i in range(50)]


@pytest.fixture
async def crowded_bot(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    settings = make_settings(
        fake_slack,
        fake_soget,
        tmp_path / "crowd.sqlite3",
        cancel_approvers=",".join(MANY_APPROVERS),
    )
    runner, under_test = await serve_bot(settings, fake_slack, fake_soget)
    yield under_test
    await under_test.http.aclose()
    await runner.cleanup()


async def test_fifty_concurrent_approvals_send_exactly_one_cancel(
    crowded_bot: BotUnderTest,
) -> None:
    bot = crowded_bot
    bot.soget.add(ORDER)
    bot.soget.delay_seconds = 0.2  # keep the cancel in flight while the clicks land
    request = await bot.request_posted_for(ORDER)

    responses = await asyncio.gather(
        *(bot.click(ActionId.APPROVE, request, user=user) for user in MANY_APPROVERS)
    )

    assert all(r.status_code == 200 for r in responses)
    done = await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals()) == 49, what="49 refusals")
    assert done.status.value == "succeeded"
    assert len(bot.soget.deletes(ORDER)) == 1
    assert len(bot.slack.thread_replies(request.message_ts)) == 1
    assert {e.body["user"] for e in bot.slack.ephemerals()} == set(MANY_APPROVERS) - {
        done.decided_by
    }
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events.count("approved") == 1 and events.count("cancel_sent") == 1


async def test_retry_after_unavailable_sends_the_cancel_once_more(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(*[Fault(status=429, headers={"Retry-After": "0"})] * 3)
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    waiting = await bot.wait_posted(request.id)
    assert waiting.status.value == "approved"

    # Two approvers press Retry at once: one cancel goes out.
    await asyncio.gather(
        bot.click(ActionId.RETRY, request, user=APPROVER),
        bot.click(ActionId.RETRY, request, user=APPROVER_2),
    )

    done = await bot.wait_status(request.id, "succeeded")
    assert len(bot.soget.deletes(ORDER)) == 4
    await bot.slack.wait_until(lambda: len(bot.slack.thread_replies(request.message_ts)) == 2)
    assert done.attempts == 2


async def test_retry_is_refused_to_outsiders_and_when_nothing_waits(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.RETRY, request, user=APPROVER)  # still pending: nothing to retry
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "nothing to retry" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert bot.soget.deletes() == []


async def test_unknown_outcome_then_already_cancelled_is_reported_as_cancelled(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    # The first DELETE is applied but its connection drops; the read to settle fails too.
    bot.soget.script(Fault(reset=True, then_apply=True))
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    unknown = await bot.wait_posted(request.id)
    assert unknown.status.value == "unknown"
    assert "outcome unknown" in str(bot.slack.thread_replies(request.message_ts)[0].body["text"])

    bot.soget.script(Fault(status=500, body="oops", content_type="text/plain", method="GET"))
    await bot.click(ActionId.RETRY, request, user=APPROVER_2)

    done = await bot.wait_status(request.id, "succeeded")
    assert done.outcome_code == "ORDER_ALREADY_CANCELED"
    assert done.outcome_note == NOTE_EARLIER_ATTEMPT  # a key, rendered when sent
    await bot.slack.wait_until(lambda: len(bot.slack.thread_replies(request.message_ts)) == 2)
    final = bot.slack.thread_replies(request.message_ts)[-1]
    assert "is cancelled in MouvONE" in str(final.body["text"])
    assert "earlier attempt" in str(final.body["blocks"])


async def test_slack_server_errors_delay_the_outcome_but_never_lose_it(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    # More failures than slack_sdk's own retries absorb: the outbox takes over.
    bot.slack.fail_next("chat.postMessage", *[ScriptedFailure(500, only_threads=True)] * 4)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    done = await bot.wait_posted(request.id, timeout=15)
    replies = bot.slack.thread_replies(request.message_ts)
    assert len(replies) == 5  # four refused, one taken
    assert done.status.value == "succeeded"
    assert len(bot.soget.deletes(ORDER)) == 1
    assert await bot.runtime.store.undelivered_count() == 0


async def test_slack_rate_limit_is_honoured(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_next(
        "chat.postMessage",
        ScriptedFailure(
            429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}, only_threads=True
        ),
    )

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.wait_posted(request.id, timeout=10)
    assert len(bot.slack.thread_replies(request.message_ts)) == 2
    assert len(bot.soget.deletes(ORDER)) == 1


@pytest.fixture
def clock() -> MutableClock:
    return MutableClock()


@pytest.fixture
async def clocked_bot(bot_with: BotFactory, clock: MutableClock) -> BotUnderTest:
    return await bot_with(clock=clock, request_ttl=timedelta(hours=1))


async def test_pending_request_expires_without_a_click(
    clocked_bot: BotUnderTest, clock: MutableClock
) -> None:
    bot = clocked_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    clock.advance(timedelta(hours=1, minutes=1))
    expired = await bot.wait_status(request.id, "expired")
    await bot.slack.wait_until(lambda: bool(bot.slack.updates(request.message_ts)))
    shown = str(bot.slack.updates(request.message_ts)[-1].body["blocks"])
    assert "Expired" in shown and ActionId.APPROVE.value not in shown

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "expired" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert bot.soget.deletes() == []
    assert expired.decided_by is None


async def test_requester_can_withdraw_and_others_cannot(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.WITHDRAW, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "Only the person who asked" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert (await bot.request(request.id)).status.value == "pending"

    await bot.click(ActionId.WITHDRAW, request, user=REQUESTER)
    await bot.wait_status(request.id, "withdrawn")
    await bot.slack.wait_until(lambda: bool(bot.slack.updates(request.message_ts)))
    assert "Withdrawn" in str(bot.slack.updates(request.message_ts)[-1].body["blocks"])

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals(APPROVER)) == 2)
    assert bot.soget.deletes() == []
