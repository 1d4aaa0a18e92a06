"""Tests for bot.storage.Store on both engines (a SQLite file, a PostgreSQL database), and the
state machine of bot.requests."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.events import EventKind, outcome_event
from bot.domain.requests import (
    TERMINAL_STATUSES,
    TRANSITIONS,
    CancelRequest,
    MessageKind,
    RequestStatus,
    can_move,
)
from bot.storage.store import Store

S = RequestStatus
START = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
ILLEGAL = [(a, b) for a, b in itertools.product(S, S) if b not in TRANSITIONS[a]]


class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(db_location: Path | str, clock: FakeClock) -> AsyncIterator[Store]:
    """The contract suite: every test using it runs on SQLite and on PostgreSQL."""
    opened = await Store.open(db_location, clock=clock)
    yield opened
    await opened.close()


async def new_request(
    store: Store, order_id: str = "CDE0000000001", reason: str = "customer asked"
) -> CancelRequest:
    return await store.create_request(
        order_id=order_id, channel_id="C0CHANNEL1", requester_id="U0REQUEST1", reason=reason
    )


async def approve(store: Store, request_id: str, actor: str = "U0APPROVE1") -> CancelRequest | None:
    return await store.transition(
        request_id,
        expected=S.PENDING,
        target=S.APPROVED,
        actor=actor,
        event=EventKind.APPROVED,
        decided_by=actor,
        decided_at=store.now(),
    )


async def finish(store: Store, request_id: str, target: RequestStatus, at: datetime) -> None:
    """PENDING → APPROVED → EXECUTING → target, with an outcome recorded at `at`."""
    assert await approve(store, request_id) is not None
    started = await store.transition(
        request_id, expected=S.APPROVED, target=S.EXECUTING, actor=None, event=EventKind.CANCEL_SENT
    )
    assert started is not None
    done = await store.transition(
        request_id,
        expected=S.EXECUTING,
        target=target,
        actor=None,
        event=outcome_event(target),
        outcome_at=at,
    )
    assert done is not None


# -- create / get ------------------------------------------------------------------------------


async def test_create_and_get(store: Store) -> None:
    created = await new_request(store)

    assert created.status is S.PENDING
    assert created.is_pending
    assert created.order_id == "CDE0000000001"
    assert created.channel_id == "C0CHANNEL1"
    assert created.requester_id == "U0REQUEST1"
    assert created.reason == "customer asked"
    assert created.created_at == START
    assert created.updated_at == START
    assert created.created_at.tzinfo is not None
    assert created.attempts == 0
    assert created.message_ts is None
    assert created.decided_by is None
    assert created.outcome_at is None
    assert await store.get(created.id) == created


async def test_ids_are_unique_and_unguessable(store: Store) -> None:
    first = await new_request(store)
    second = await new_request(store)

    assert first.id != second.id
    assert len(first.id) >= 32


async def test_get_unknown_is_none(store: Store) -> None:
    assert await store.get("no-such-request") is None


async def test_text_is_stored_verbatim(store: Store) -> None:
    reason = "l'ordre « urgent » ; DROP TABLE requests; -- <!channel> & *bold* 🚢"

    created = await new_request(store, reason=reason)

    fetched = await store.get(created.id)
    assert fetched is not None
    assert fetched.reason == reason


async def test_open_creates_missing_directories(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "a" / "b" / "bot.sqlite3")
    try:
        assert await store.ping()
        assert (tmp_path / "a" / "b" / "bot.sqlite3").exists()
    finally:
        await store.close()


async def test_in_memory_store_works() -> None:
    store = await Store.open(":memory:")
    try:
        created = await new_request(store)
        assert await store.get(created.id) == created
    finally:
        await store.close()


# -- transition --------------------------------------------------------------------------------


async def test_transition_moves_and_sets_fields(store: Store, clock: FakeClock) -> None:
    created = await new_request(store)
    decided_at = clock.advance(5)

    moved = await approve(store, created.id)

    assert moved is not None
    assert moved.status is S.APPROVED
    assert moved.decided_by == "U0APPROVE1"
    assert moved.decided_at == decided_at
    assert moved.updated_at == decided_at
    assert moved.created_at == START
    assert await store.get(created.id) == moved


async def test_second_transition_from_pending_returns_none(store: Store) -> None:
    created = await new_request(store)
    assert await approve(store, created.id, "U0APPROVE1") is not None

    again = await approve(store, created.id, "U0APPROVE2")
    rejected = await store.transition(
        created.id,
        expected=S.PENDING,
        target=S.REJECTED,
        actor="U0APPROVE2",
        event=EventKind.REJECTED,
    )

    assert again is None
    assert rejected is None
    current = await store.get(created.id)
    assert current is not None
    assert current.status is S.APPROVED
    assert current.decided_by == "U0APPROVE1"
    kinds = [e.kind for e in await store.events_of(created.id)]
    assert kinds == ["requested", "approved"]


async def test_transition_of_unknown_request_returns_none(store: Store) -> None:
    assert await approve(store, "no-such-request") is None
    assert await store.events_of("no-such-request") == []


async def test_transition_accepts_several_expected_statuses(store: Store) -> None:
    created = await new_request(store)
    await approve(store, created.id)

    first = await store.transition(
        created.id, expected=S.APPROVED, target=S.EXECUTING, actor=None, event=EventKind.CANCEL_SENT
    )
    unknown = await store.transition(
        created.id,
        expected=S.EXECUTING,
        target=S.UNKNOWN,
        actor=None,
        event=EventKind.OUTCOME_UNKNOWN,
    )
    resent = await store.transition(
        created.id,
        expected=[S.EXECUTING, S.UNKNOWN],
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SETTLING,
        count_attempt=True,
    )

    assert first is not None
    assert unknown is not None
    assert unknown.status is S.UNKNOWN
    assert resent is not None
    assert resent.status is S.EXECUTING
    assert resent.attempts == 1


async def test_count_attempt_increments(store: Store) -> None:
    created = await new_request(store)
    await approve(store, created.id)
    await store.transition(
        created.id,
        expected=S.APPROVED,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SENT,
        count_attempt=True,
    )
    for _ in range(2):
        await store.transition(
            created.id,
            expected=S.EXECUTING,
            target=S.EXECUTING,
            actor=None,
            event=EventKind.CANCEL_SETTLING,
            count_attempt=True,
        )

    current = await store.get(created.id)
    assert current is not None
    assert current.attempts == 3


async def test_datetime_fields_round_trip_in_utc(store: Store) -> None:
    created = await new_request(store)
    await approve(store, created.id)
    await store.transition(
        created.id, expected=S.APPROVED, target=S.EXECUTING, actor=None, event=EventKind.CANCEL_SENT
    )
    paris = datetime(2024, 5, 6, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))

    done = await store.transition(
        created.id,
        expected=S.EXECUTING,
        target=S.FAILED,
        actor=None,
        event=EventKind.OUTCOME_FAILED,
        outcome_at=paris,
        outcome_code="R0008",
        outcome_http_status=400,
        outcome_message="refusé",
    )

    assert done is not None
    assert done.outcome_at == paris
    assert done.outcome_at is not None
    assert done.outcome_at.utcoffset() == timedelta(0)
    assert done.outcome_code == "R0008"
    assert done.outcome_http_status == 400
    assert done.outcome_message == "refusé"


async def _snapshot(store: Store, request_id: str) -> tuple[CancelRequest | None, int]:
    return await store.get(request_id), len(await store.events_of(request_id))


@pytest.mark.parametrize(("current", "target"), ILLEGAL, ids=[f"{a}->{b}" for a, b in ILLEGAL])
async def test_illegal_transition_raises_before_touching_the_db(
    store: Store, clock: FakeClock, current: RequestStatus, target: RequestStatus
) -> None:
    created = await new_request(store)
    before = await _snapshot(store, created.id)
    clock.advance(1)

    with pytest.raises(ValueError, match="cannot move"):
        await store.transition(
            created.id, expected=current, target=target, actor="U0X", event=EventKind.REJECTED
        )

    assert await _snapshot(store, created.id) == before


async def test_one_illegal_expected_status_rejects_the_whole_call(
    store: Store, clock: FakeClock
) -> None:
    created = await new_request(store)
    before = await _snapshot(store, created.id)
    clock.advance(1)

    with pytest.raises(ValueError, match="cannot move"):
        await store.transition(
            created.id,
            expected=[S.PENDING, S.SUCCEEDED],
            target=S.APPROVED,
            actor="U0X",
            event=EventKind.APPROVED,
        )

    assert await _snapshot(store, created.id) == before


@pytest.mark.parametrize("column", ["status", "id", "order_id", "requester_id", "attempts", "x"])
async def test_unknown_or_protected_column_is_refused(store: Store, column: str) -> None:
    created = await new_request(store)
    before = await _snapshot(store, created.id)
    tampered: dict[str, Any] = {column: "tampered"}

    with pytest.raises(ValueError, match="not updatable"):
        await store.transition(
            created.id,
            expected=S.PENDING,
            target=S.APPROVED,
            actor="U0X",
            event=EventKind.APPROVED,
            **tampered,
        )
    with pytest.raises(ValueError, match="not updatable"):
        await store.update_fields(created.id, **tampered)

    assert await _snapshot(store, created.id) == before


async def test_the_message_ts_is_stored_once_by_whichever_writer_comes_first(
    store: Store,
) -> None:
    """The post's answer and a click on the message both know the ts; the first one stores it,
    the other changes nothing (not even a second "posted" in the history)."""
    created = await new_request(store)

    first = await store.attach_message(created.id, "1715000000.000100", detail="from a click")
    second = await store.attach_message(created.id, "1715000000.000100", detail=None)
    other = await store.attach_message(created.id, "1715000999.000999", detail=None)

    assert (first, second, other) == (True, False, False)
    stored = await store.get(created.id)
    assert stored is not None and stored.message_ts == "1715000000.000100"
    posted = [e for e in await store.events_of(created.id) if e.kind == EventKind.POSTED.value]
    assert [e.detail for e in posted] == ["from a click"]


async def test_the_message_ts_of_one_request_does_not_reach_another(store: Store) -> None:
    one, two = await new_request(store), await new_request(store, "CDE0000000002")

    assert await store.attach_message(one.id, "1715000000.000100", detail=None)

    stored = await store.get(two.id)
    assert stored is not None and stored.message_ts is None


async def test_update_fields_needs_a_field(store: Store) -> None:
    created = await new_request(store)

    with pytest.raises(ValueError, match="not updatable"):
        await store.update_fields(created.id, event=EventKind.POSTED)


async def test_update_fields_keeps_the_status(store: Store, clock: FakeClock) -> None:
    created = await new_request(store)
    later = clock.advance(3)

    await store.update_fields(created.id, event=EventKind.POSTED, message_ts="1715000000.000100")

    current = await store.get(created.id)
    assert current is not None
    assert current.status is S.PENDING
    assert current.message_ts == "1715000000.000100"
    assert current.updated_at == later


# -- events ------------------------------------------------------------------------------------


async def test_every_change_appends_an_event(store: Store, clock: FakeClock) -> None:
    created = await new_request(store, reason="")
    clock.advance(1)
    await store.update_fields(created.id, event=EventKind.POSTED, message_ts="1.2")
    await store.update_fields(created.id, outcome_note="no event for this one")
    clock.advance(1)
    await approve(store, created.id, "U0APPROVE1")
    await store.transition(
        created.id,
        expected=S.APPROVED,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SENT,
        detail="attempt 1",
    )
    await store.record_event(created.id, "note", "U0ADMIN", {"why": "audit", "n": 1})
    await store.record_event(created.id, "plain", detail="text")

    events = await store.events_of(created.id)

    assert [e.kind for e in events] == [
        "requested",
        "posted",
        "approved",
        "cancel_sent",
        "note",
        "plain",
    ]
    assert all(e.request_id == created.id for e in events)
    assert events[0].actor == "U0REQUEST1"
    assert events[0].detail is None  # empty reason
    assert events[0].at == START
    assert events[1].actor is None
    assert events[2].actor == "U0APPROVE1"
    assert events[2].at == START + timedelta(seconds=2)
    assert events[3].detail == "attempt 1"
    assert events[4].detail is not None
    assert json.loads(events[4].detail) == {"why": "audit", "n": 1}
    assert events[5].detail == "text"


async def test_requested_event_carries_the_reason(store: Store) -> None:
    created = await new_request(store, reason="wrong booking")

    events = await store.events_of(created.id)

    assert len(events) == 1
    assert events[0].kind == "requested"
    assert events[0].detail == "wrong booking"


async def test_events_are_per_request(store: Store) -> None:
    first = await new_request(store)
    second = await new_request(store)
    await approve(store, first.id)

    assert [e.kind for e in await store.events_of(first.id)] == ["requested", "approved"]
    assert [e.kind for e in await store.events_of(second.id)] == ["requested"]


# -- durability --------------------------------------------------------------------------------


async def test_data_survives_close_and_reopen(db_location: Path | str, clock: FakeClock) -> None:
    first = await Store.open(db_location, clock=clock)
    created = await new_request(first)
    approved = await approve(first, created.id)
    await first.close()

    second = await Store.open(db_location, clock=clock)
    try:
        assert await second.get(created.id) == approved
        assert [e.kind for e in await second.events_of(created.id)] == ["requested", "approved"]
        assert await approve(second, created.id) is None
    finally:
        await second.close()


# -- concurrency -------------------------------------------------------------------------------


async def test_fifty_concurrent_approvals_have_one_winner(store: Store) -> None:
    created = await new_request(store)
    actors = [f"U0APPR{i:04d}" for i in range(50)]

    results = await asyncio.gather(*(approve(store, created.id, actor) for actor in actors))

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    current = await store.get(created.id)
    assert current is not None
    assert current.status is S.APPROVED
    assert current.decided_by == winners[0].decided_by
    events = await store.events_of(created.id)
    assert [e.kind for e in events].count("approved") == 1
    assert events[-1].actor == winners[0].decided_by


async def test_concurrent_approve_and_reject_have_one_winner(store: Store) -> None:
    created = await new_request(store)

    async def reject(actor: str) -> CancelRequest | None:
        return await store.transition(
            created.id, expected=S.PENDING, target=S.REJECTED, actor=actor, event=EventKind.REJECTED
        )

    calls = []
    for i in range(20):
        calls.append(approve(store, created.id, f"U0A{i:03d}"))
        calls.append(reject(f"U0R{i:03d}"))
    results = await asyncio.gather(*calls)

    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    current = await store.get(created.id)
    assert current is not None
    assert current.status is winners[0].status
    assert len(await store.events_of(created.id)) == 2


async def test_two_connections_on_one_file_have_one_winner(db_location: Path | str) -> None:
    first = await Store.open(db_location)
    second = await Store.open(db_location)
    try:
        created = await new_request(first)
        calls = []
        for i in range(25):
            calls.append(approve(first, created.id, f"U0FIRST{i:03d}"))
            calls.append(approve(second, created.id, f"U0SECOND{i:03d}"))

        results = await asyncio.gather(*calls)

        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        seen_by_first = await first.get(created.id)
        seen_by_second = await second.get(created.id)
        assert seen_by_first == seen_by_second
        assert seen_by_first is not None
        assert seen_by_first.decided_by == winners[0].decided_by
        kinds = [e.kind for e in await second.events_of(created.id)]
        assert kinds == ["requested", "approved"]
    finally:
        await first.close()
        await second.close()


async def _watch(store: Store, request_id: str, change: asyncio.Task[Any]) -> list[tuple[S, int]]:
    """Read the request's status, then its queued Slack messages, as another task of the bot
    would (the status command, the deliverer, the tests' waits), until `change` is over."""
    seen: list[tuple[S, int]] = []
    while not change.done():
        request = await store.get(request_id)
        assert request is not None
        seen.append((request.status, await store.undelivered_count(request_id)))
    return seen


async def test_other_tasks_never_see_half_of_a_change(store: Store) -> None:
    """Every task of the process shares the store: a read slipping in between the statements
    of a transition must not see the new status before its queued messages (a waiter would
    take "rejected, nothing left to send" for the end)."""
    created = await new_request(store)
    change = asyncio.create_task(
        store.transition(
            created.id,
            expected=S.PENDING,
            target=S.REJECTED,
            actor="U0APPROVE1",
            event=EventKind.REJECTED,
            notify=(MessageKind.REJECTION, MessageKind.REDRAW),
        )
    )

    seen = await _watch(store, created.id, change)

    assert await change is not None
    assert seen  # the reads ran while the change was under way
    assert {count for status, count in seen if status is S.REJECTED} <= {2}
    assert await store.undelivered_count(created.id) == 2


async def test_other_tasks_never_see_a_change_that_is_rolled_back(store: Store) -> None:
    """A transaction that fails half-way (disk full, I/O error; here the notice policy) is
    rolled back: no task may have seen, shown or acted on its status meanwhile."""
    created = await new_request(store)

    def failing_policy(request: CancelRequest, event: str) -> list[tuple[MessageKind, str]]:
        raise OSError("disk I/O error")

    store.set_notice_policy(failing_policy)
    change = asyncio.create_task(
        store.transition(
            created.id,
            expected=S.PENDING,
            target=S.REJECTED,
            actor="U0APPROVE1",
            event=EventKind.REJECTED,
            notify=(MessageKind.REJECTION, MessageKind.REDRAW),
        )
    )

    seen = await _watch(store, created.id, change)

    with pytest.raises(OSError, match="disk I/O error"):
        await change
    assert seen
    assert {status for status, _count in seen} == {S.PENDING}
    assert {count for _status, count in seen} == {0}
    still = await store.get(created.id)
    assert still is not None and still.status is S.PENDING


# -- queries -----------------------------------------------------------------------------------


async def test_with_status(store: Store, clock: FakeClock) -> None:
    first = await new_request(store, "CDE0000000001")
    clock.advance(1)
    second = await new_request(store, "CDE0000000002")
    clock.advance(1)
    third = await new_request(store, "CDE0000000003")
    clock.advance(1)
    await approve(store, first.id)
    await store.transition(
        third.id, expected=S.PENDING, target=S.REJECTED, actor="U0X", event=EventKind.REJECTED
    )

    assert [r.id for r in await store.with_status(S.PENDING)] == [second.id]
    assert [r.id for r in await store.with_status(S.APPROVED, S.REJECTED)] == [first.id, third.id]
    assert [r.id for r in await store.with_status(S.REJECTED, S.APPROVED)] == [first.id, third.id]
    assert await store.with_status(S.EXECUTING) == []


async def test_history_of_order_is_newest_first(store: Store, clock: FakeClock) -> None:
    ids = []
    for _ in range(4):
        ids.append((await new_request(store, "CDE0000000001")).id)
        await new_request(store, "CDE0000000009")
        clock.advance(10)

    history = await store.history_of_order("CDE0000000001")

    assert [r.id for r in history] == list(reversed(ids))
    assert all(r.order_id == "CDE0000000001" for r in history)
    assert [r.id for r in await store.history_of_order("CDE0000000001", limit=2)] == [
        ids[3],
        ids[2],
    ]
    assert await store.history_of_order("CDE0000000404") == []


# -- the state machine -------------------------------------------------------------------------


def test_every_status_has_an_entry() -> None:
    assert set(TRANSITIONS) == set(RequestStatus)
    for targets in TRANSITIONS.values():
        assert targets <= set(RequestStatus)


def test_terminal_statuses_have_no_exits() -> None:
    for status in TERMINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
    assert {s for s, targets in TRANSITIONS.items() if not targets} == TERMINAL_STATUSES


def test_every_status_is_reachable_from_pending() -> None:
    reached = {S.PENDING}
    frontier = [S.PENDING]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == set(RequestStatus)


@pytest.mark.parametrize("status", sorted(set(RequestStatus) - TERMINAL_STATUSES))
def test_every_open_status_can_end(status: RequestStatus) -> None:
    reached = {status}
    frontier = [status]
    while frontier:
        for target in TRANSITIONS[frontier.pop()]:
            if target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached & TERMINAL_STATUSES


def test_key_rules_of_the_table() -> None:
    assert not can_move(S.PENDING, S.EXECUTING)  # nothing is sent before an approval
    assert not can_move(S.PENDING, S.SUCCEEDED)
    assert not can_move(S.APPROVED, S.REJECTED)  # an approval cannot be undone
    assert not can_move(S.UNKNOWN, S.SUCCEEDED)  # an unknown outcome is resolved by a resend
    assert can_move(S.EXECUTING, S.EXECUTING)  # restart resends
    assert can_move(S.UNKNOWN, S.EXECUTING)
    assert S.UNKNOWN not in TERMINAL_STATUSES


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=[f"{a}->{b}" for a, b in LEGAL])
def test_can_move_matches_the_table(current: RequestStatus, target: RequestStatus) -> None:
    assert can_move(current, target)


# -- approvals quorum ---------------------------------------------------------------------------


async def test_quorum_approval_counts_distinct_approvers_once(store: Store) -> None:
    from bot.storage.store import ApprovalResult

    created = await new_request(store)

    first, _ = await store.approve(created.id, "U0APPROVE1", required=2)
    again, _ = await store.approve(created.id, "U0APPROVE1", required=2)
    last, request = await store.approve(created.id, "U0APPROVE2", required=2)
    late, _ = await store.approve(created.id, "U0APPROVE3", required=2)

    assert (first, again, last, late) == (
        ApprovalResult.COUNTED,
        ApprovalResult.DUPLICATE,
        ApprovalResult.QUORUM,
        ApprovalResult.NOT_PENDING,
    )
    assert request is not None and request.status is S.APPROVED
    assert request.approver_ids == ("U0APPROVE1", "U0APPROVE2")
    assert request.decided_by == "U0APPROVE2"


async def test_an_order_covered_by_an_active_request_opens_nothing(store: Store) -> None:
    created = await new_request(store)
    kw = {"channel_id": "C0CHANNEL1", "requester_id": "U0OTHER01", "reason": ""}

    covered = await store.create_for_orders(
        order_ids=[created.order_id], active=(S.PENDING,), succeeded_since=store.now(), **kw
    )
    other = await store.create_for_orders(
        order_ids=["CDE0000000099"], active=(S.PENDING,), succeeded_since=store.now(), **kw
    )

    assert covered.request is None
    assert [(order, request.id) for order, request in covered.covered] == [
        (created.order_id, created.id)
    ]
    assert other.request is not None and other.request.order_id == "CDE0000000099"
    assert other.covered == ()


async def test_commands_at_once_on_two_instances_open_one_request(
    db_location: Path | str, clock: FakeClock
) -> None:
    """The duplicate guard across instances: check and insert hold the order (SQLite: the
    immediate transaction; PostgreSQL: a transaction-scoped lock on the order id)."""
    first = await Store.open(db_location, clock=clock)
    second = await Store.open(db_location, clock=clock)
    kw = {"channel_id": "C0CHANNEL1", "requester_id": "U0OTHER01", "reason": ""}
    try:
        for n in range(5):
            results = await asyncio.gather(
                *(
                    store.create_for_orders(
                        order_ids=[f"CDE00000007{n:02d}"],
                        active=(S.PENDING,),
                        succeeded_since=clock.now,
                        **kw,
                    )
                    for store in (first, second) * 4
                )
            )
            opened = [result.request for result in results if result.request is not None]
            assert len(opened) == 1
            assert {request.id for _order, request in chain(*(r.covered for r in results))} == {
                opened[0].id
            }
    finally:
        await first.close()
        await second.close()


async def test_a_write_cancelled_while_waiting_for_the_file_leaves_the_store_usable(
    tmp_path: Path,
) -> None:
    """A drain or a timeout can cancel a write that waits for another process's lock; the
    BEGIN it had asked for must not stay open on the connection, refusing every later write."""
    path = tmp_path / "bot.sqlite3"
    store = await Store.open(path)
    other_process = sqlite3.connect(path, isolation_level=None)
    try:
        other_process.execute("BEGIN IMMEDIATE")
        waiting = asyncio.create_task(store.write_heartbeat())
        await asyncio.sleep(0.2)  # the write waits for the lock (busy timeout)
        waiting.cancel()
        other_process.execute("ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await waiting

        await asyncio.wait_for(store.write_heartbeat(), timeout=10)
        created = await new_request(store)
        assert (await store.get(created.id)) is not None
    finally:
        other_process.close()
        await store.close()
