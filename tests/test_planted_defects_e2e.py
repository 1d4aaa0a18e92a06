"""Promises a planted defect could break unseen: expiry at the click, Retry by the requester,
and the duplicate guard of a request whose outcome is unknown."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    APPROVER_2,
    REQUESTER,
    BotFactory,
    MutableClock,
)
from tests.fakes.soget_api import Fault

ORDER = "CDE0000000081"


async def test_a_click_after_the_ttl_between_two_sweeps_is_refused_as_expired(
    bot_with: BotFactory,
) -> None:
    clock = MutableClock()
    # The sweep would expire it only in an hour: the click itself must see the TTL is over.
    bot = await bot_with(
        clock=clock, request_ttl=timedelta(minutes=10), sweep_interval_seconds=3600
    )
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    updates_before = len(bot.slack.updates(request.message_ts))

    clock.advance(timedelta(minutes=11))
    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)), what="the refusal")
    assert "expired" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    expired = await bot.wait_status(request.id, "expired")
    assert expired.decided_by is None
    await bot.slack.wait_until(
        lambda: len(bot.slack.updates(request.message_ts)) > updates_before, what="the redraw"
    )
    shown = str(bot.slack.updates(request.message_ts)[-1].body["blocks"])
    assert "Expired" in shown and ActionId.APPROVE.value not in shown
    assert bot.soget.deletes() == []


async def test_the_requester_cannot_retry_their_own_request_without_self_approval(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(allow_self_approval=False)  # REQUESTER is an approver too
    bot.soget.add(ORDER)
    # MouvONE rate-limits every attempt: the approval stands, Retry is offered.
    bot.soget.script(*[Fault(status=429, headers={"Retry-After": "0"})] * 3)
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    waiting = await bot.wait_posted(request.id)
    assert waiting.awaits_retry
    deletes_before = len(bot.soget.deletes(ORDER))

    await bot.click(ActionId.RETRY, waiting, user=REQUESTER)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)), what="refusal")
    assert "your own cancel request" in str(bot.slack.ephemerals(REQUESTER)[0].body["text"])
    assert len(bot.soget.deletes(ORDER)) == deletes_before
    assert (await bot.request(request.id)).attempts == waiting.attempts

    # Another approver may.
    await bot.click(ActionId.RETRY, waiting, user=APPROVER_2)
    await bot.wait_status(request.id, "succeeded")


async def test_an_unknown_outcome_still_covers_its_order(bot_with: BotFactory) -> None:
    bot = await bot_with(settle_after_seconds=3600)  # stays unknown for the test
    bot.soget.add(ORDER)
    bot.soget.script(Fault(reset=True))  # the DELETE's answer never comes back
    first = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, first, user=APPROVER)
    assert (await bot.wait_posted(first.id)).status.value == "unknown"

    response = await bot.command(f"{ORDER} try again", user=APPROVER_2)

    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="the guard's reply")
    text = str(bot.slack.webhooks()[-1].body.get("text"))
    assert "already has a cancel request" in text and "outcome" in text
    assert [r.id for r in await bot.runtime.store.history_of_order(ORDER)] == [first.id]
    assert len(bot.slack.channel_posts()) == 1
    assert len(bot.soget.deletes(ORDER)) == 1
