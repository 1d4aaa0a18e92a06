"""Outcome unknown, verified by one read of the order (never an automatic resend)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n.notes import NOTE_CONFIRMED_BY_READING
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, BotFactory, BotUnderTest, make_settings, serve_bot
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget, Fault

ORDER = "CDE0000000090"


@pytest.fixture
async def settling_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(settle_after_seconds=0.3)


def _replies(bot: BotUnderTest, ts: str | None) -> list[str]:
    return [str(r.body.get("text", "")) for r in bot.slack.thread_replies(ts)]


async def test_unknown_outcome_is_confirmed_by_reading_the_order(
    settling_bot: BotUnderTest,
) -> None:
    bot = settling_bot
    bot.soget.add(ORDER)
    bot.soget.script(Fault(reset=True, then_apply=True))  # cancelled, but no answer came
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    done = await bot.wait_status(request.id, "succeeded")
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events.index("outcome_unknown") < events.index("settle_read")
    assert done.outcome_note == NOTE_CONFIRMED_BY_READING
    await bot.slack.wait_until(lambda: len(bot.slack.thread_replies(request.message_ts)) == 2)
    first, final = _replies(bot, request.message_ts)
    assert "outcome unknown" in first.lower()
    assert "is cancelled in MouvONE" in final
    assert "confirmed by reading" in str(bot.slack.thread_replies(request.message_ts)[1].body)
    assert len(bot.soget.deletes(ORDER)) == 1
    assert len(bot.soget.gets(ORDER)) == 3  # the preview, the re-read at approval, the settle


async def test_order_still_not_cancelled_stays_unknown_with_what_was_found(
    settling_bot: BotUnderTest,
) -> None:
    bot = settling_bot
    bot.soget.add(ORDER)
    bot.soget.script(Fault(reset=True))  # the DELETE did not go through, and no answer came
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.slack.wait_until(lambda: len(bot.slack.thread_replies(request.message_ts)) == 2)
    final = await bot.request(request.id)
    assert final.status.value == "unknown"
    verified = _replies(bot, request.message_ts)[1]
    assert "status is Valid" in verified and "not confirmed as cancelled" in verified
    await bot.slack.wait_until(
        lambda: ActionId.RETRY.value in str(bot.slack.updates(request.message_ts)[-1].body)
    )
    assert len(bot.soget.deletes(ORDER)) == 1  # read only: no automatic resend
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert "settle_unconfirmed" in events and "failed" not in " ".join(events)


async def test_unreadable_order_says_so_and_stays_unknown(settling_bot: BotUnderTest) -> None:
    bot = settling_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    # The approval's re-read (3 attempts), then three read-backs of 3 attempts each all fail.
    bot.soget.script(Fault(reset=True), *[Fault(status=503, method="GET")] * 12)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.slack.wait_until(
        lambda: len(bot.slack.thread_replies(request.message_ts)) == 2, timeout=10
    )
    assert "could not be read" in _replies(bot, request.message_ts)[1]
    done = await bot.request(request.id)
    assert done.status.value == "unknown" and done.settle_at is None
    assert done.settle_reads == 3  # read back three times, then left to an approver's Retry
    assert len(bot.soget.deletes(ORDER)) == 1


def test_settle_note_and_no_second_notice_for_a_settle() -> None:
    from bot.domain.outcomes import settle_note
    from bot.services.notices import notice_for
    from tests.test_blocks import make_request

    # Stored as keys, rendered in the reader's language when sent.
    assert settle_note("Accepted") == "order_status:Accepted"
    assert settle_note(None) == "order_unreadable"
    from bot.domain.requests import RequestStatus

    unknown = make_request(RequestStatus.UNKNOWN)
    assert notice_for(unknown, "settle_unconfirmed") is None
    assert notice_for(unknown, "outcome_unknown") == "finished"


async def test_a_restart_checks_the_unknown_outcomes_it_finds(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    database = tmp_path / "restart.sqlite3"
    # The first run never gets to check: it stops before its read-back is due.
    first_settings = make_settings(fake_slack, fake_soget, database, settle_after_seconds=1.5)
    runner, bot = await serve_bot(first_settings, fake_slack, fake_soget)
    fake_soget.add(ORDER)
    fake_soget.script(Fault(reset=True, then_apply=True))
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "unknown")
    await bot.http.aclose()
    await runner.cleanup()
    assert fake_soget.orders[ORDER].status == "Cancelled"
    reads_before_restart = len(fake_soget.gets(ORDER))

    settings = make_settings(fake_slack, fake_soget, database, settle_after_seconds=0.1)
    runner, restarted = await serve_bot(settings, fake_slack, fake_soget)
    try:
        done = await restarted.wait_status(request.id, "succeeded")
    finally:
        await restarted.http.aclose()
        await runner.cleanup()

    assert done.outcome_note == NOTE_CONFIRMED_BY_READING
    assert len(fake_soget.deletes(ORDER)) == 1  # read, never resent
    assert len(fake_soget.gets(ORDER)) == reads_before_restart + 1
