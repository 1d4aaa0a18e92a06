"""What MouvONE answers to the cancel, as the channel sees it in the request's thread."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import datetime, timedelta

import pytest

from bot.domain.requests import Claim, MessageKind, OutboxMessage
from bot.i18n.catalogue import CATALOGUE, FAILURES, FailureKind, Language
from bot.i18n.notes import NOTE_CONFIRMED_BY_READING
from bot.slack.ids import ActionId
from bot.storage.store import Store
from tests.conftest import APPROVER, REQUESTER, BotFactory, BotUnderTest, MutableClock
from tests.fakes.slack_api import ScriptedFailure
from tests.fakes.soget_api import FakeOrder, Fault

ORDER = "CDE0000000003"


def _shown(body: dict[str, object]) -> str:
    blocks = body.get("blocks")
    return (json.dumps(blocks) if not isinstance(blocks, str) else blocks) + str(body.get("text"))


async def _approve_and_get_reply(bot: BotUnderTest) -> tuple[str, str]:
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)
    [reply] = bot.slack.thread_replies(request.message_ts)
    final = bot.slack.updates(request.message_ts)[-1]
    return done.status.value, _shown(reply.body) + "\n" + _shown(final.body)


@pytest.mark.parametrize(
    ("order_fields", "code"),
    [
        ({"status": "Submitted"}, "R0008"),
        ({"status": "InProcess"}, "R0008"),
        ({"delivered_segment": True}, "R0009"),
        ({"type": "Elementary"}, "CANNOT_CANCEL_NOT_MASTER_ORDER"),
        ({"container_booked": True}, "CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER"),
        ({"forced_code": "ORGANIZATION_ACTOR_CODE_INVALID"}, "ORGANIZATION_ACTOR_CODE_INVALID"),
        ({"forced_code": "NOT_SUPPORTED_ORDER_TYPE"}, "NOT_SUPPORTED_ORDER_TYPE"),
        ({"forced_code": "USER_ID_INVALID"}, "USER_ID_INVALID"),
        ({"forced_code": "CONFLICT"}, "CONFLICT"),
    ],
)
async def test_documented_refusal_is_explained_in_the_thread(
    bot: BotUnderTest, order_fields: dict[str, object], code: str
) -> None:
    bot.soget.add(ORDER, **order_fields)

    status, shown = await _approve_and_get_reply(bot)

    explanation = CATALOGUE[code].text(Language.EN)
    assert status == "failed"
    assert f"`{code}`" in shown
    assert explanation.title in shown and explanation.next_step in shown
    assert "was not cancelled" in shown
    assert "Not cancelled" in shown  # the request message itself says so
    assert len(bot.soget.deletes(ORDER)) == 1  # business refusals are never retried


async def test_unknown_order_is_explained(bot: BotUnderTest) -> None:
    # The order existed at the preview and is gone by the time of the cancel.
    bot.soget.add(ORDER)
    bot.soget.script(
        Fault(
            body='{"code": "CUSTOMER_ORDER_NOT_FOUND", "message": "Commande introuvable"}',
            status=400,
        )
    )

    status, shown = await _approve_and_get_reply(bot)

    assert status == "failed"
    assert "CUSTOMER_ORDER_NOT_FOUND" in shown
    assert "Commande introuvable" in shown  # the API's own message, quoted


async def test_already_cancelled_is_reported_as_cancelled(bot: BotUnderTest) -> None:
    # Valid at the preview, cancelled elsewhere before the approval.
    bot.soget.add(ORDER, forced_code="ORDER_ALREADY_CANCELED")

    status, shown = await _approve_and_get_reply(bot)

    assert status == "succeeded"
    assert "is cancelled in MouvONE" in shown
    assert "already cancelled" in shown


async def test_unknown_code_is_shown_raw_with_a_generic_explanation(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER, forced_code="BRAND_NEW_CODE")

    status, shown = await _approve_and_get_reply(bot)

    assert status == "failed"
    assert "BRAND_NEW_CODE" in shown
    assert FAILURES[FailureKind.UNKNOWN_CODE].text(Language.EN).title in shown


async def test_timeout_says_the_outcome_is_unknown(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(Fault(delay=5.0))  # longer than SOGET_TIMEOUT_SECONDS=2 in the tests

    status, shown = await _approve_and_get_reply(bot)

    assert status == "unknown"
    assert "outcome unknown" in shown.lower()
    assert "was not cancelled" not in shown
    assert "Traceback" not in shown
    assert len(bot.soget.deletes(ORDER)) == 1  # a DELETE that may have landed is not resent blindly


@pytest.mark.parametrize(
    ("fault", "kind", "deletes"),
    [
        (
            Fault(status=401, body='{"statusCode": 401, "message": "denied"}'),
            "gateway_unauthorized",
            1,
        ),
        (Fault(status=403, body='{"statusCode": 403, "message": "no"}'), "gateway_forbidden", 1),
        (
            Fault(status=404, body="Resource not found", content_type="text/plain"),
            "endpoint_not_found",
            1,
        ),
        (Fault(status=400, body="<html>bad</html>", content_type="text/html"), "invalid_body", 1),
        (Fault(status=400, body='{"code": ""}'), "invalid_body", 1),
        (Fault(status=400, body="{not json", content_type="application/json"), "invalid_body", 1),
    ],
)
async def test_failures_outside_the_documented_body_are_explained(
    bot: BotUnderTest, fault: Fault, kind: str, deletes: int
) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(*[fault] * deletes)

    status, shown = await _approve_and_get_reply(bot)

    assert status == "failed"
    assert FAILURES[FailureKind(kind)].text(Language.EN).title in shown
    assert "Traceback" not in shown and "<html>" not in shown
    assert len(bot.soget.deletes(ORDER)) == deletes
    assert bot.soget.orders[ORDER].status == "Valid"


async def test_rate_limited_api_keeps_the_approval_and_offers_retry(bot: BotUnderTest) -> None:
    # A 429 comes from the gateway before the backend acts: resent (3 attempts), then Retry.
    bot.soget.add(ORDER)
    bot.soget.script(*[Fault(status=429, body="", headers={"Retry-After": "0"})] * 3)

    status, shown = await _approve_and_get_reply(bot)

    assert status == "approved"
    assert "MouvONE is unavailable" in shown
    assert ActionId.RETRY.value in shown
    assert len(bot.soget.deletes(ORDER)) == 3
    assert bot.soget.orders[ORDER].status == "Valid"


SETTLE_AFTER = timedelta(seconds=30)
SERVER_ERRORS = [
    Fault(status=500, body="<html>oops</html>", content_type="text/html"),
    Fault(status=502, body="<html>bad gateway</html>", content_type="text/html"),
    Fault(status=503, body=""),
    Fault(status=504, body=""),
]


@pytest.mark.parametrize("fault", SERVER_ERRORS, ids=lambda f: str(f.status))
async def test_server_error_after_the_cancel_was_applied_is_settled_by_reading(
    bot_with: BotFactory, fault: Fault
) -> None:
    """A 5xx may come after MouvONE applied the cancel: never resent, outcome unknown, then
    the order is read back and the thread says the first attempt probably went through."""
    clock = MutableClock()  # the read-back is due only once the test moves the clock
    bot = await bot_with(clock=clock, settle_after_seconds=SETTLE_AFTER.total_seconds())
    bot.soget.add(ORDER)
    bot.soget.script(dataclasses.replace(fault, then_apply=True))
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    unknown = await bot.wait_posted(request.id)  # "outcome unknown" reached the thread
    assert unknown.status.value == "unknown"
    clock.advance(SETTLE_AFTER)
    await bot.wait_until_replies(request, 2)  # what is asserted below, not the status first
    await bot.wait_delivered(request.id)
    done = await bot.request(request.id)
    assert done.status.value == "succeeded"

    assert len(bot.soget.deletes(ORDER)) == 1
    first, confirmed = bot.slack.thread_replies(request.message_ts)
    assert "outcome unknown" in _shown(first.body)
    assert "nothing was cancelled" not in _shown(first.body).lower()
    shown = _shown(confirmed.body)
    assert "is cancelled in MouvONE" in shown and "probably went through" in shown
    assert "already cancelled before this request" not in shown
    assert done.outcome_note == NOTE_CONFIRMED_BY_READING  # a key, rendered when sent


async def test_an_unknown_outcome_still_waiting_when_the_read_back_settles_is_posted_once(
    bot_with: BotFactory,
) -> None:
    """Slack fails while the read-back finds the order cancelled: the "outcome unknown" reply
    and DM, rendered when sent, would now say "cancelled" like the newer ones. The thread and
    the requester get the outcome once each."""
    clock = MutableClock()
    bot = await bot_with(clock=clock, settle_after_seconds=SETTLE_AFTER.total_seconds())
    bot.soget.add(ORDER)
    bot.soget.script(Fault(status=503, body="", then_apply=True))
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_always("chat.postMessage", ScriptedFailure(500, {"ok": False, "error": "x"}))

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "unknown")
    clock.advance(SETTLE_AFTER)
    # Read on a connection of its own: only the committed change (the bot's own connection
    # also shows another task's transaction half-done; see test_storage.py, DIRTY_READS).
    committed = await Store.open(bot.runtime.settings.database_path)
    try:
        for _ in range(1000):
            found = await committed.get(request.id)
            if found is not None and found.status.value == "succeeded":
                break
            await asyncio.sleep(0.01)
    finally:
        await committed.close()
    assert found is not None and found.status.value == "succeeded"
    tried = len(bot.slack.calls("chat.postMessage"))
    bot.slack.fail_always("chat.postMessage", None)
    for _ in range(500):  # every retry is due, even one that failed just now
        clock.advance(timedelta(minutes=10))
        if await bot.runtime.store.undelivered_count(request.id) == 0:
            break
        await asyncio.sleep(0.02)
    await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)

    delivered = bot.slack.calls("chat.postMessage")[tried:]
    # A retry already under way when the read-back settled was rendered before (it may say
    # anything of the state then; see the report). What must never happen: the outcome twice.
    replies = [_shown(r.body) for r in delivered if r.body.get("thread_ts") == request.message_ts]
    assert [r for r in replies if "probably went through" in r] == replies[-1:]
    dms = [str(r.body["text"]) for r in delivered if r.body.get("channel") == REQUESTER]
    assert dms.count(f"Order {ORDER} is cancelled in MouvONE.") == 1
    assert len(bot.soget.deletes(ORDER)) == 1


@pytest.mark.parametrize("fault", SERVER_ERRORS, ids=lambda f: str(f.status))
async def test_server_error_without_effect_stays_unknown_after_the_read(
    bot_with: BotFactory, fault: Fault
) -> None:
    bot = await bot_with(settle_after_seconds=0.3)
    bot.soget.add(ORDER)
    bot.soget.script(dataclasses.replace(fault))
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_until_replies(request, 2)
    await bot.wait_delivered(request.id)

    done = await bot.request(request.id)
    assert done.status.value == "unknown"
    assert len(bot.soget.deletes(ORDER)) == 1  # never resent on its own
    assert len(bot.soget.gets(ORDER)) >= 2  # the preview, then the read-back
    first, verified = bot.slack.thread_replies(request.message_ts)
    assert "outcome unknown" in _shown(first.body)
    assert "Valid" in _shown(verified.body)
    assert ActionId.RETRY.value in _shown(bot.slack.updates(request.message_ts)[-1].body)
    assert bot.soget.orders[ORDER].status == "Valid"


async def test_429_then_success_is_retried_once_and_succeeds(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(Fault(status=429, body="", headers={"Retry-After": "0"}))

    status, _shown_text = await _approve_and_get_reply(bot)

    assert status == "succeeded"
    assert len(bot.soget.deletes(ORDER)) == 2


async def test_api_unreachable_keeps_the_approval(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    await bot.soget.stop()  # nothing listens on the port any more

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)

    assert done.status.value == "approved"
    assert done.outcome_failure == "connection_failed"
    [reply] = bot.slack.thread_replies(request.message_ts)
    assert FAILURES[FailureKind.CONNECTION_FAILED].text(Language.EN).title in _shown(reply.body)


def test_fake_orders_default_to_a_cancellable_master() -> None:
    order = FakeOrder("CDE0000000009")
    assert (order.type, order.status) == ("Master", "Valid")


async def test_an_unknown_outcome_claimed_as_the_read_back_settles_is_posted_once(
    bot_with: BotFactory,
) -> None:
    """The "outcome unknown" reply is claimed for sending just as the read-back settles the
    cancel: read under the claim, it would say "cancelled" like the newer reply. It is not
    sent; the newer one is, once."""
    clock = MutableClock()
    # Well inside the claim's 20 s: the held delivery keeps its claim while the read-back runs.
    settle_after = timedelta(seconds=5)
    bot = await bot_with(clock=clock, settle_after_seconds=settle_after.total_seconds())
    bot.soget.add(ORDER)
    bot.soget.script(Fault(status=503, body="", then_apply=True))
    request = await bot.request_posted_for(ORDER)
    store = bot.runtime.store
    claim = store.claim_message
    reached, release = asyncio.Event(), asyncio.Event()

    async def held(message: OutboxMessage, owner: str, until: datetime) -> Claim | None:
        taken = await claim(message, owner, until)
        if taken is not None and message.kind is MessageKind.OUTCOME and not reached.is_set():
            reached.set()  # claimed, not yet read nor sent
            await release.wait()
        return taken

    store.claim_message = held  # type: ignore[method-assign]
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "unknown")
    await asyncio.wait_for(reached.wait(), timeout=5)  # the "unknown" reply, claimed

    clock.advance(settle_after)
    await bot.runtime.deps.runner.sweep()
    await bot.wait_status(request.id, "succeeded")
    release.set()
    await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)

    replies = [_shown(r.body) for r in bot.slack.thread_replies(request.message_ts)]
    assert sum("is cancelled in MouvONE" in r for r in replies) == 1, replies
    assert len(bot.soget.deletes(ORDER)) == 1
