"""Leases on EXECUTING requests and claims on outbox messages, two connections on one file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.events import EventKind
from bot.domain.requests import MessageKind
from bot.domain.requests import RequestStatus as S
from bot.storage.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def stores(db_location: Path | str, clock: Clock) -> AsyncIterator[tuple[Store, Store]]:
    """Two instances' stores on one database (each engine)."""
    first = await Store.open(db_location, clock=clock)
    second = await Store.open(db_location, clock=clock)
    yield first, second
    await first.close()
    await second.close()


async def _executing(store: Store, owner: str, until: datetime) -> str:
    request = await store.create_request(
        order_id="CDE0000000001", channel_id="C1", requester_id="U1", reason=""
    )
    await store.transition(
        request.id, expected=S.PENDING, target=S.APPROVED, actor="U2", event=EventKind.APPROVED
    )
    claimed = await store.transition(
        request.id,
        expected=S.APPROVED,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SENT,
        lease_owner=owner,
        lease_until=until,
    )
    assert claimed is not None
    return request.id


async def test_a_live_lease_is_not_an_orphan_and_cannot_be_taken_over(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    first, second = stores
    request_id = await _executing(first, "instance-a", clock.now + timedelta(seconds=30))

    assert await second.orphaned_executions() == []
    taken = await second.transition(
        request_id,
        expected=S.EXECUTING,
        target=S.UNKNOWN,
        actor=None,
        event=EventKind.CANCEL_INTERRUPTED,
        lease_expired_before=clock.now,
    )
    assert taken is None  # the lease still runs: the owner may get its answer any moment


async def test_an_expired_lease_is_taken_over_once_and_the_owner_can_no_longer_record(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    first, second = stores
    request_id = await _executing(first, "instance-a", clock.now + timedelta(seconds=30))
    clock.now += timedelta(seconds=31)

    [orphan] = await second.orphaned_executions()
    assert orphan.id == request_id and orphan.lease_owner == "instance-a"

    async def take_over(store: Store) -> object:
        return await store.transition(
            request_id,
            expected=S.EXECUTING,
            target=S.UNKNOWN,
            actor=None,
            event=EventKind.CANCEL_INTERRUPTED,
            lease_expired_before=clock.now,
            lease_owner=None,
        )

    assert await take_over(second) is not None
    assert await take_over(first) is None  # exactly one takes it over
    # The late owner's answer is not recorded over the take-over: the read-back decides.
    late = await first.transition(
        request_id,
        expected=S.EXECUTING,
        target=S.SUCCEEDED,
        actor=None,
        event=EventKind.OUTCOME_SUCCEEDED,
        owner="instance-a",
    )
    assert late is None
    assert not await first.renew_lease(request_id, "instance-a", clock.now)


async def test_a_late_owner_cannot_record_over_the_read_back_of_its_successor(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    """The owner that lost its lease answers while the instance that took over reads the order
    back (EXECUTING again, under the new owner): only the lease tells them apart."""
    first, second = stores
    request_id = await _executing(first, "instance-a", clock.now + timedelta(seconds=30))
    clock.now += timedelta(seconds=31)
    taken = await second.transition(
        request_id,
        expected=S.EXECUTING,
        target=S.UNKNOWN,
        actor=None,
        event=EventKind.CANCEL_INTERRUPTED,
        lease_expired_before=clock.now,
        lease_owner=None,
    )
    assert taken is not None
    reading = await second.transition(
        request_id,
        expected=S.UNKNOWN,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.SETTLE_READ,
        lease_owner="instance-b",
        lease_until=clock.now + timedelta(seconds=30),
    )
    assert reading is not None

    late = await first.transition(
        request_id,
        expected=S.EXECUTING,
        target=S.SUCCEEDED,
        actor=None,
        event=EventKind.OUTCOME_SUCCEEDED,
        owner="instance-a",
    )

    assert late is None
    current = await second.get(request_id)
    assert current is not None
    assert (current.status, current.lease_owner) == (S.EXECUTING, "instance-b")


async def test_renewing_keeps_the_lease_alive(stores: tuple[Store, Store], clock: Clock) -> None:
    first, second = stores
    request_id = await _executing(first, "instance-a", clock.now + timedelta(seconds=30))
    for _ in range(5):
        clock.now += timedelta(seconds=10)
        assert await first.renew_lease(request_id, "instance-a", clock.now + timedelta(seconds=30))
        assert await second.orphaned_executions() == []
    assert not await second.renew_lease(request_id, "instance-b", clock.now)


async def test_an_outbox_message_is_claimed_by_one_instance_at_a_time(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000002", channel_id="C1", requester_id="U1", reason=""
    )
    await first.transition(
        request.id,
        expected=S.PENDING,
        target=S.WITHDRAWN,
        actor="U1",
        event=EventKind.WITHDRAWN,
        notify=(MessageKind.REDRAW,),
    )
    [message] = await first.due_messages()
    until = clock.now + timedelta(seconds=20)

    assert await first.claim_message(message, "instance-a", until)
    assert not await second.claim_message(message, "instance-b", until)
    assert await second.due_messages() == []  # claimed: not due for anyone else
    clock.now += timedelta(seconds=21)  # the claimer died: the message is due again
    [again] = await second.due_messages()
    assert await second.claim_message(again, "instance-b", clock.now + timedelta(seconds=20))
    await second.message_delivered(again, outcome=False)
    assert not await first.claim_message(message, "instance-a", clock.now + timedelta(seconds=20))
    assert await first.undelivered_count() == 0


async def test_a_newer_redraw_stands_for_the_older_ones(
    db_location: Path | str, clock: Clock
) -> None:
    store = await Store.open(db_location, clock=clock)
    try:
        request = await store.create_request(
            order_id="CDE0000000003", channel_id="C1", requester_id="U1", reason=""
        )
        for _ in range(3):
            await store.update_fields(request.id, notify=(MessageKind.REDRAW,), message_ts="1.2")
        messages = await store.due_messages()
        assert len(messages) == 3
        await store.message_delivered(messages[-1], outcome=False)
        assert await store.undelivered_count() == 0
    finally:
        await store.close()


async def test_a_message_waits_behind_an_earlier_one_of_its_lane(
    db_location: Path | str, clock: Clock
) -> None:
    """Lanes keep order: a DM waits while an earlier DM to the same person waits for its retry
    or is claimed (a dead instance's claim holds it back only until it runs out); a redraw
    never waits, nor a DM behind one a newer one supersedes."""
    store = await Store.open(db_location, clock=clock)
    try:
        request = await store.create_request(
            order_id="CDE0000000005", channel_id="C1", requester_id="U1", reason=""
        )
        for kind in (MessageKind.DM_DECIDED, MessageKind.DM_FINISHED, MessageKind.REDRAW):
            await store.update_fields(request.id, notify=(kind,), message_ts="1.2")
        decided, finished, redraw = await store.due_messages()  # the earlier one comes first
        assert (decided.kind, finished.kind) == (MessageKind.DM_DECIDED, MessageKind.DM_FINISHED)

        retry_at = clock.now + timedelta(minutes=1)
        assert await store.claim_message(decided, "a", clock.now + timedelta(seconds=20))
        await store.message_failed(decided, "internal_error", retry_at)
        assert [m.kind for m in await store.due_messages()] == [MessageKind.REDRAW]
        await store.message_delivered(redraw, outcome=False)
        assert await store.next_message_due_at() == retry_at  # not now: no busy loop

        clock.now = retry_at
        assert [m.id for m in await store.due_messages()] == [decided.id, finished.id]
        assert await store.claim_message(decided, "dead", clock.now + timedelta(seconds=20))
        assert await store.due_messages() == []  # being sent: the next one waits
        clock.now += timedelta(seconds=21)  # the dead instance's claim ran out
        assert [m.id for m in await store.due_messages()] == [decided.id, finished.id]
        await store.message_delivered(decided, outcome=False)

        # A "finished" DM waiting for its retry, superseded by a newer one: the newer goes out.
        assert await store.claim_message(finished, "a", clock.now + timedelta(seconds=20))
        await store.message_failed(finished, "internal_error", clock.now + timedelta(minutes=1))
        await store.update_fields(request.id, notify=(MessageKind.DM_FINISHED,), message_ts="1.2")
        [newer] = await store.due_messages()
        assert newer.kind is MessageKind.DM_FINISHED and newer.id > finished.id
    finally:
        await store.close()


async def test_clicks_arriving_together_are_all_stored_and_marked(
    stores: tuple[Store, Store],
) -> None:
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000004", channel_id="C1", requester_id="U1", reason=""
    )
    ids = await asyncio.gather(
        *(first.record_click(request.id, f"U{n:03d}", "approve", "C1") for n in range(200))
    )
    assert len(set(ids)) == 200
    for click_id in ids[:150]:
        await first.click_handled(click_id)
    await first.record_click(request.id, "U999", "approve", "C1")  # flushes the marks
    rows = await second._db.execute_fetchall(
        "SELECT count(*), count(handled_at) FROM clicks WHERE request_id = ?", (request.id,)
    )
    assert tuple(next(iter(rows))) == (201, 150)


async def test_click_marks_queued_before_close_reach_the_file(
    stores: tuple[Store, Store],
) -> None:
    """Closing waits for the clicks being written: a shutdown right after a click was handled
    must not make the next start report it lost."""
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000006", channel_id="C1", requester_id="U1", reason=""
    )
    click_id = await first.record_click(request.id, "U0APPROVER", "approve", "C1")
    await first.click_handled(click_id)  # written by the next batch, none comes
    await first.close()  # closed again by the fixture: a no-op

    rows = await second._db.execute_fetchall(
        "SELECT handled_at FROM clicks WHERE id = ?", (click_id,)
    )
    assert next(iter(rows))[0] is not None


async def test_only_clicks_without_effect_are_reported_as_lost(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000005", channel_id="C1", requester_id="U1", reason=""
    )
    taken = await first.record_click(request.id, "U0APPROVER", "approve", "C1")
    lost = await first.record_click(request.id, "U0OTHER", "approve", "C1")
    retried = await first.record_click(request.id, "U0RETRY", "retry", "C1")
    # The approval went through; the process died before any click was marked handled.
    await first.transition(
        request.id,
        expected=S.PENDING,
        target=S.APPROVED,
        actor="U0APPROVER",
        event=EventKind.APPROVED,
    )
    await first.transition(
        request.id,
        expected=S.APPROVED,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SENT,
        lease_owner="a",
        lease_until=clock.now,
    )
    assert {taken, lost, retried}
    clock.now += timedelta(seconds=60)

    assert await second.drop_unhandled_clicks(clock.now - timedelta(seconds=30)) == 1
    [dm] = [m for m in await second.due_messages() if m.kind is MessageKind.DM_CLICK_LOST]
    assert dm.recipient == "U0OTHER"
    assert await second.drop_unhandled_clicks(clock.now) == 0  # reported once


async def test_two_instances_report_a_lost_click_once(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000007", channel_id="C1", requester_id="U1", reason=""
    )
    for n in range(5):
        await first.record_click(request.id, f"U0LOST{n}", "approve", "C1")
    clock.now += timedelta(seconds=60)

    counts = await asyncio.gather(
        first.drop_unhandled_clicks(clock.now), second.drop_unhandled_clicks(clock.now)
    )

    assert sum(counts) == 5
    lost = [m for m in await first.due_messages() if m.kind is MessageKind.DM_CLICK_LOST]
    assert sorted(m.recipient or "" for m in lost) == [f"U0LOST{n}" for n in range(5)]


async def test_the_store_knows_which_deliveries_may_have_reached_slack(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    """A claim left behind by a dead instance, a stop mid-call, a timeout or 5xx mark the
    message maybe posted, for good until it is delivered; Slack's own refusal does not, nor a
    first claim."""
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000006", channel_id="C1", requester_id="U1", reason=""
    )
    for kind in (MessageKind.REJECTION, MessageKind.DM_DECIDED, MessageKind.REMINDER):
        await first.update_fields(request.id, notify=(kind,), message_ts="1.2")
    rejection, decided, reminder = await first.due_messages()
    later = timedelta(seconds=20)

    claim = await first.claim_message(rejection, "a", clock.now + later)
    assert claim is not None and not claim.maybe_posted  # a first attempt
    await first.message_failed(rejection, "ratelimited", clock.now)  # Slack refused it
    claim = await second.claim_message(rejection, "b", clock.now + later)
    assert claim is not None and not claim.maybe_posted
    await second.message_failed(rejection, "TimeoutError", clock.now, maybe_posted=True)
    await first.message_failed(rejection, "ratelimited", clock.now)  # a later refusal keeps it
    claim = await first.claim_message(rejection, "a", clock.now + later)
    assert claim is not None and claim.maybe_posted

    # A dead instance's claim: the next claim, once it ran out, is maybe posted.
    assert await first.claim_message(decided, "dead", clock.now + later)
    clock.now += later + timedelta(seconds=1)
    claim = await second.claim_message(decided, "b", clock.now + later)
    assert claim is not None and claim.maybe_posted
    # A reminder never claimed before is not, whatever happened to the others.
    claim = await second.claim_message(reminder, "b", clock.now + later)
    assert claim is not None and not claim.maybe_posted
    rows = await first._db.execute_fetchall(
        "SELECT kind, maybe_posted FROM outbox WHERE request_id = ? ORDER BY id", (request.id,)
    )
    assert [(row[0], row[1]) for row in rows] == [
        ("rejection", 1),
        ("dm_decided", 1),
        ("reminder", 0),
    ]


async def test_a_summary_maybe_posted_by_any_of_its_deliveries_is_looked_for(
    stores: tuple[Store, Store], clock: Clock
) -> None:
    """A bulk request's one summary reply may have been posted by an earlier summary delivery
    whose claim died: a newer summary delivery of the request is maybe posted too."""
    first, second = stores
    request = await first.create_request(
        order_id="CDE0000000007", channel_id="C1", requester_id="U1", reason=""
    )
    other = await first.create_request(
        order_id="CDE0000000008", channel_id="C1", requester_id="U1", reason=""
    )
    for _ in range(2):
        await first.update_fields(request.id, notify=(MessageKind.SUMMARY,), message_ts="1.2")
    await first.update_fields(other.id, notify=(MessageKind.SUMMARY,), message_ts="1.3")
    older, newer, elsewhere = await first.due_messages()
    later = timedelta(seconds=20)

    assert await first.claim_message(older, "dead", clock.now + later)
    clock.now += later + timedelta(seconds=1)
    claim = await second.claim_message(newer, "b", clock.now + later)
    assert claim is not None and claim.maybe_posted
    claim = await second.claim_message(elsewhere, "b", clock.now + later)
    assert claim is not None and not claim.maybe_posted  # another request's summary
