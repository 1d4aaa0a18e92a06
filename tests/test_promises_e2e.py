"""The promises under Slack and SOGET faults and a second instance, over signed HTTP.

Each Slack effect is delivered once on its own; a DELETE that may have reached MouvONE is never
resent blindly; a second instance leaves a cancel in flight alone; a rate limit in one channel
holds back no other; a direct message that failed is retried.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.domain.requests import CancelRequest, Claim, MessageKind, OutboxMessage
from bot.services import outbox
from bot.slack.ids import ActionId
from tests import payloads
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
from tests.fakes.token_server import FakeTokenServer, TokenFailure

ORDER = "CDE0000000101"
OTHER_CHANNEL = "C0CHANNEL2"


def _text(body: dict[str, object]) -> str:
    return str(body.get("blocks")) + str(body.get("text"))


async def _posted_in(bot: BotUnderTest, order_id: str, channel: str) -> CancelRequest:
    response = await bot.command(f"{order_id} customer asked", channel=channel)
    assert response.status_code == 200
    for _ in range(500):
        history = await bot.runtime.store.history_of_order(order_id)
        if history and history[0].message_ts:
            return history[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no approval request was posted for {order_id}")


async def _approve_in(bot: BotUnderTest, request: CancelRequest, channel: str) -> None:
    assert request.message_ts is not None
    body = payloads.block_action(
        ActionId.APPROVE,
        user=APPROVER,
        request_id=request.id,
        message_ts=request.message_ts,
        response_url=bot.slack.response_url,
        channel=channel,
    )
    assert (await bot.post_signed(body)).status_code == 200


# -- item 2: each Slack effect is its own delivery ----------------------------------------------

UPDATE_FAILURES = [
    ScriptedFailure(500, {"ok": False, "error": "fatal_error"}),
    ScriptedFailure(200, {"ok": False, "error": "internal_error"}),
    ScriptedFailure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "0"}),
]


@pytest.mark.parametrize("failure", UPDATE_FAILURES, ids=["500", "internal_error", "429"])
async def test_a_failing_redraw_never_posts_the_outcome_twice(
    bot: BotUnderTest, failure: ScriptedFailure
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    # Every redraw fails several times over, more than slack_sdk's own retries absorb.
    bot.slack.fail_next("chat.update", *[failure] * 8)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id, timeout=15)

    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in _text(reply.body)
    final = bot.slack.updates(request.message_ts)[-1]
    assert "Cancelled in MouvONE" in _text(final.body)  # the redraw got through in the end
    assert len(bot.soget.deletes(ORDER)) == 1


async def test_message_not_found_on_the_redraw_still_counts_the_outcome_as_posted(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    gone = ScriptedFailure(200, {"ok": False, "error": "message_not_found"})
    bot.slack.fail_next("chat.update", *[gone] * 5)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)

    assert done.outcome_posted_at is not None
    assert len(bot.slack.thread_replies(request.message_ts)) == 1


# -- item 10: DMs through the outbox, rate limits per channel ------------------------------------


async def test_a_direct_message_that_failed_is_sent_again(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_next(
        "chat.postMessage",
        ScriptedFailure(200, {"ok": False, "error": "internal_error"}, channel=REQUESTER),
        ScriptedFailure(500, {"ok": False, "error": "fatal_error"}, channel=REQUESTER),
    )

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id, timeout=10)

    dms = [_text(dm.body) for dm in bot.slack.dms(REQUESTER)]
    # Two failed attempts recorded, then the "approved" and the "cancelled" notices, each once.
    delivered = dms[2:]
    assert len(delivered) == 2
    assert sum("approved" in dm for dm in delivered) == 1
    assert sum("cancelled" in dm.lower() for dm in delivered) >= 1


async def test_a_rate_limited_channel_holds_back_no_other_channel(bot: BotUnderTest) -> None:
    """One 429 with Retry-After 20 in one channel: the outcome in another channel is posted
    well within those 20 s (the deadline below), and the limited one waits its turn."""
    bot.soget.add(ORDER)
    bot.soget.add("CDE0000000102")
    limited = await _posted_in(bot, ORDER, payloads.CHANNEL)
    other = await _posted_in(bot, "CDE0000000102", OTHER_CHANNEL)
    bot.slack.fail_next(
        "chat.postMessage",
        ScriptedFailure(
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": "20"},
            only_threads=True,
            channel=payloads.CHANNEL,
        ),
    )

    await _approve_in(bot, limited, payloads.CHANNEL)
    await bot.wait_status(limited.id, "succeeded")
    await bot.slack.wait_until(
        lambda: any(r.body.get("channel") == payloads.CHANNEL for r in bot.slack.thread_replies()),
        what="the limited channel's attempt",
    )
    await _approve_in(bot, other, OTHER_CHANNEL)

    posted = await bot.wait_posted(other.id, timeout=8)
    assert posted.outcome_posted_at is not None
    assert (await bot.request(limited.id)).outcome_posted_at is None  # still waiting its turn


# -- item 4(b): a second instance on the same database --------------------------------------------


@pytest.fixture
async def two_bots_one_database(
    fake_slack: FakeSlack, fake_soget: FakeSoget, db_location: Path | str
) -> AsyncIterator[tuple[BotUnderTest, Path | str]]:
    """The first of two instances on one database (a SQLite file; PostgreSQL)."""
    database = db_location
    settings = make_settings(
        fake_slack,
        fake_soget,
        database,
        lease_seconds=1.0,
        settle_after_seconds=0.2,
        soget_timeout_seconds=30,
    )
    runner, first = await serve_bot(settings, fake_slack, fake_soget)
    yield first, database
    await stop_bot(runner, first)


async def test_a_second_instance_leaves_a_cancel_in_flight_alone(
    two_bots_one_database: tuple[BotUnderTest, Path | str],
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
) -> None:
    first, database = two_bots_one_database
    fake_soget.add(ORDER)
    request = await first.request_posted_for(ORDER)
    answer = asyncio.Event()
    fake_soget.script(Fault(hold=answer, then_apply=True))  # MouvONE takes its time
    await first.click(ActionId.APPROVE, request, user=APPROVER)
    await fake_soget.wait_until(lambda: len(fake_soget.deletes(ORDER)) == 1, what="the DELETE")

    # A second instance starts on the same database (a rolling deploy) and runs its sweeps
    # for several lease periods while the first still waits for MouvONE.
    settings = make_settings(
        fake_slack, fake_soget, database, lease_seconds=1.0, settle_after_seconds=0.2
    )
    runner, second = await serve_bot(settings, fake_slack, fake_soget)
    try:
        await asyncio.sleep(3.5)
        assert len(fake_soget.deletes(ORDER)) == 1
        events = [e.kind for e in await first.runtime.store.events_of(request.id)]
        assert "cancel_interrupted" not in events and "cancel_settling" not in events
        answer.set()
        await first.wait_status(request.id, "succeeded")
        await first.wait_delivered(request.id)
    finally:
        await stop_bot(runner, second)

    assert len(fake_soget.deletes(ORDER)) == 1
    [reply] = fake_slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in _text(reply.body)
    assert "probably" not in _text(reply.body)  # the first instance had the real answer


async def test_two_instances_post_each_outcome_once(
    two_bots_one_database: tuple[BotUnderTest, Path | str],
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
) -> None:
    first, database = two_bots_one_database
    settings = make_settings(fake_slack, fake_soget, database, lease_seconds=1.0)
    runner, second = await serve_bot(settings, fake_slack, fake_soget)
    orders = [f"CDE00000002{n:02d}" for n in range(12)]
    try:
        for order in orders:
            fake_soget.add(order)
        requests = [await first.request_posted_for(order) for order in orders]
        # Slow thread replies: both instances' sweeps find the same messages due meanwhile.
        fake_slack.delay("chat.postMessage", 0.4)
        await asyncio.gather(
            *(
                (first if n % 2 else second).click(ActionId.APPROVE, request, user=APPROVER)
                for n, request in enumerate(requests)
            )
        )
        for request in requests:
            await first.wait_posted(request.id, timeout=10)
            await first.wait_delivered(request.id, timeout=10)
        await asyncio.sleep(0.5)  # room for a duplicate to show up
    finally:
        await stop_bot(runner, second)

    for request in requests:
        assert len(fake_slack.thread_replies(request.message_ts)) == 1
        assert len(fake_soget.deletes(request.order_id)) == 1
    per_requester = fake_slack.dms(REQUESTER)
    assert len(per_requester) == 2 * len(orders)  # decided + finished, once each


# -- item 13: the token endpoint failing ---------------------------------------------------------


async def test_a_token_endpoint_failure_keeps_the_approval_for_a_retry(
    bot_with: BotFactory, fake_soget: FakeSoget
) -> None:
    tokens = FakeTokenServer(
        client_id="bot-client",
        client_secret="bot-secret-0123",
        on_issue=fake_soget.access_tokens.add,
        expires_in=1,  # renewed for every call half a second apart
    )
    await tokens.start()
    try:
        bot = await bot_with(
            soget_access_token=None,
            soget_token_url=tokens.token_url,
            soget_client_id="bot-client",
            soget_client_secret="bot-secret-0123",
        )
        bot.soget.add(ORDER)
        request = await bot.request_posted_for(ORDER)
        await asyncio.sleep(0.6)  # the preview's token has run out
        tokens.fail_next(TokenFailure(500), TokenFailure(503))  # the re-read, the DELETE

        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        waiting = await bot.wait_posted(request.id)

        assert waiting.status.value == "approved"  # nothing was sent: Retry is offered
        assert bot.soget.deletes(ORDER) == []
        await bot.wait_delivered(request.id)
        assert ActionId.RETRY.value in _text(bot.slack.updates(request.message_ts)[-1].body)

        await bot.click(ActionId.RETRY, request, user=APPROVER)
        done = await bot.wait_status(request.id, "succeeded")
        assert done.attempts == 2 and len(bot.soget.deletes(ORDER)) == 1
    finally:
        await tokens.stop()


# -- item 17: MouvONE's code is shown verbatim, success included ---------------------------------


async def test_an_already_cancelled_answer_shows_its_code(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.soget.orders[ORDER].status = "Cancelled"  # cancelled elsewhere after the preview

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    # The re-read at approval sees it: the approver is asked to confirm, and does.
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    body = payloads.block_action(
        ActionId.SEND_ANYWAY,
        user=APPROVER,
        request_id=request.id,
        message_ts="1700000001.000001",
        response_url=bot.slack.response_url,
    )
    await bot.post_signed(body)
    done = await bot.wait_posted(request.id)

    assert done.status.value == "succeeded"
    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "`ORDER_ALREADY_CANCELED`" in _text(reply.body)


async def test_a_reply_superseded_by_a_retry_is_not_posted(bot: BotUnderTest) -> None:
    """MouvONE was unavailable, Slack is failing, an approver retries and the cancel goes
    through: the stale "unavailable" reply never reaches the thread, the outcome does, once."""
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.soget.script(*[Fault(status=429, headers={"Retry-After": "0"})] * 3)
    # Thread replies fail for a while: the "unavailable" reply waits in the outbox.
    failing = ScriptedFailure(500, {"ok": False, "error": "fatal_error"}, only_threads=True)
    bot.slack.fail_always("chat.postMessage", failing)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "approved")
    await bot.slack.wait_until(
        lambda: bool(bot.slack.thread_replies(request.message_ts)), what="a failed reply"
    )

    await bot.click(ActionId.RETRY, request, user=APPROVER_2)
    await bot.wait_status(request.id, "succeeded")
    failed = len(bot.slack.thread_replies(request.message_ts))
    bot.slack.fail_always("chat.postMessage", None)
    await bot.wait_posted(request.id, timeout=10)
    await bot.wait_delivered(request.id, timeout=10)

    delivered = bot.slack.thread_replies(request.message_ts)[failed:]
    assert len(delivered) == 1
    assert "is cancelled in MouvONE" in _text(delivered[0].body)


async def test_a_reply_superseded_while_it_was_being_claimed_is_not_posted(
    bot: BotUnderTest,
) -> None:
    """The deliverer read the request, then an approver's Retry began before it claimed the
    "unavailable" reply: what it read is stale. The reply is not posted, the outcome is, once."""
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    store = bot.runtime.store
    claim = store.claim_message
    reached, release = asyncio.Event(), asyncio.Event()

    async def held(message: OutboxMessage, owner: str, until: datetime) -> Claim | None:
        if message.kind is MessageKind.UNAVAILABLE and not release.is_set():
            reached.set()
            await release.wait()
        return await claim(message, owner, until)

    store.claim_message = held  # type: ignore[method-assign]
    bot.soget.script(*[Fault(status=429, headers={"Retry-After": "0"})] * 3)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await asyncio.wait_for(reached.wait(), timeout=5)  # read, not yet claimed

    await bot.click(ActionId.RETRY, request, user=APPROVER_2)
    await bot.wait_status(request.id, "succeeded")
    release.set()
    await bot.wait_posted(request.id, timeout=10)
    await bot.wait_delivered(request.id, timeout=10)

    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in _text(reply.body)


PERMALINK_STALL = 3.5


async def test_a_delivery_stalled_past_its_claim_never_sends_after_a_take_over(
    two_bots_one_database: tuple[BotUnderTest, Path | str],
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A direct message whose permalink call stalls longer than the claim: once the claim runs
    out, the other instance takes the message and sends it. The stalled attempt gave up before
    its claim ran out, so it sends no second one when its answer finally comes."""
    monkeypatch.setattr(outbox, "CLAIM_SECONDS", 3.0)  # a delivery may take 1 s
    first, database = two_bots_one_database
    settings = make_settings(fake_slack, fake_soget, database)
    runner, second = await serve_bot(settings, fake_slack, fake_soget)
    try:
        fake_soget.add(ORDER)
        request = await first.request_posted_for(ORDER)
        fake_slack.delay("chat.getPermalink", PERMALINK_STALL)
        await first.click(ActionId.APPROVE, request, user=APPROVER)
        await fake_slack.wait_until(
            lambda: bool(fake_slack.calls("chat.getPermalink")), what="the stalled call"
        )
        fake_slack.delay("chat.getPermalink", 0)  # only the first one stalls
        await first.wait_posted(request.id, timeout=10)
        await first.wait_delivered(request.id, timeout=10)
        # Past the moment the stalled call is answered: an attempt still alive sends then.
        await asyncio.sleep(PERMALINK_STALL + 0.5)
    finally:
        await stop_bot(runner, second)

    decided = [m for m in fake_slack.posted_dms(REQUESTER) if "approved your" in str(m.blocks)]
    assert len(decided) == 1
