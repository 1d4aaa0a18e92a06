"""The orders of bulk requests in the store, on each engine: the duplicate guard per order,
claims under the request's lease (two instances on one database), one summary delivery at a
time, and a database at schema version 1 (before the bulk tables) upgraded with its requests.

The PostgreSQL-only tests hold a lock in a transaction of their own (what another instance's
transaction in flight holds) and check that the Store's write waits for it and then sees its
change: under READ COMMITTED, a check that does not wait reads the state before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from bot.domain.events import EventKind
from bot.domain.requests import MessageKind, OrderState
from bot.domain.requests import RequestStatus as S
from bot.services.decisions import ACTIVE_STATUSES
from bot.storage.core import order_key
from bot.storage.engine import Database, PostgresDatabase, SqliteDatabase, is_postgres_url
from bot.storage.outbox import summary_key
from bot.storage.schema import add_missing_columns, migrations_for, statements
from bot.storage.store import Store

T = TypeVar("T")

ORDERS = ("CDE0000000041", "CDE0000000042", "CDE0000000043")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def stores(db_location: Path | str) -> AsyncIterator[tuple[Store, Store]]:
    """Two instances' stores on one database (each engine)."""
    first = await Store.open(db_location, clock=lambda: NOW)
    second = await Store.open(db_location, clock=lambda: NOW)
    yield first, second
    await first.close()
    await second.close()


async def _open(store: Store, *orders: str) -> tuple[str | None, list[str]]:
    opened = await store.create_for_orders(
        order_ids=orders,
        channel_id="C1",
        requester_id="U1",
        reason="why",
        active=ACTIVE_STATUSES,
        succeeded_since=NOW - timedelta(days=1),
    )
    request = opened.request
    return (request.id if request else None), [order for order, _ in opened.covered]


async def _executing(store: Store, request_id: str, owner: str) -> None:
    await store.transition(
        request_id, expected=S.PENDING, target=S.APPROVED, actor="U2", event=EventKind.APPROVED
    )
    claimed = await store.transition(
        request_id,
        expected=S.APPROVED,
        target=S.EXECUTING,
        actor=None,
        event=EventKind.CANCEL_SENT,
        lease_owner=owner,
        lease_until=NOW + timedelta(seconds=30),
    )
    assert claimed is not None


async def test_two_instances_opening_overlapping_bulks_cover_each_order_once(
    stores: tuple[Store, Store],
) -> None:
    first, second = stores
    results = await asyncio.gather(
        _open(first, *ORDERS), _open(second, ORDERS[2], ORDERS[1], "CDE0000000044")
    )

    opened = [request_id for request_id, _ in results if request_id]
    holders: dict[str, list[str]] = {}
    for request_id in opened:
        request = await first.get(request_id)
        assert request is not None
        for order in request.order_ids:
            holders.setdefault(order, []).append(request_id)
    assert all(len(ids) == 1 for ids in holders.values()), holders
    assert set(holders) == {*ORDERS, "CDE0000000044"}


async def test_a_single_order_left_opens_a_single_order_request(
    stores: tuple[Store, Store],
) -> None:
    store, _ = stores
    single, _ = await _open(store, ORDERS[0])
    request_id, covered = await _open(store, ORDERS[0], ORDERS[1])

    assert covered == [ORDERS[0]]
    assert request_id is not None and request_id != single
    request = await store.get(request_id)
    assert request is not None and not request.is_bulk and request.order_id == ORDERS[1]
    assert await _open(store, *ORDERS[:2]) == (None, list(ORDERS[:2]))


async def test_an_order_is_claimed_once_and_only_under_the_lease(
    stores: tuple[Store, Store],
) -> None:
    first, second = stores
    request_id, _ = await _open(first, *ORDERS)
    assert request_id is not None
    await _executing(first, request_id, "instance-a")

    claims = await asyncio.gather(
        *(
            store.claim_order(request_id, ORDERS[0], owner, expected=OrderState.WAITING)
            for store, owner in [(first, "instance-a"), (second, "instance-a")] * 5
        )
    )
    assert claims.count(True) == 1
    # Another instance, without the lease, can neither claim nor record.
    assert not await second.claim_order(
        request_id, ORDERS[1], "instance-b", expected=OrderState.WAITING
    )
    assert not await second.record_order(
        request_id,
        ORDERS[0],
        "instance-b",
        expected=OrderState.SENDING,
        state=OrderState.SUCCEEDED,
        event=EventKind.OUTCOME_SUCCEEDED,
    )
    # The run after a take-over reads back what was SENDING; it never waits to be resent.
    orders = await first.start_bulk_run(request_id, "instance-a", interrupted_note="interrupted")
    assert [o.state for o in orders] == [OrderState.UNKNOWN, OrderState.WAITING, OrderState.WAITING]
    assert orders[0].attempts == 1


async def _database_at_version_1(location: Path | str) -> None:
    """A database as the release before bulk requests left it: schema version 1, one request."""
    db: Database
    if is_postgres_url(location):
        db = await PostgresDatabase.connect(str(location), max_size=1)
    else:
        db = await SqliteDatabase.connect(str(location))
    try:
        async with db.transaction():
            for statement in statements(migrations_for(db.engine)[0].sql):
                await db.execute(statement)
            if db.engine == "sqlite":
                await add_missing_columns(db)
            await db.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            await db.execute(
                "INSERT INTO schema_migrations VALUES (1, 'initial', ?)", (NOW.isoformat(),)
            )
            await db.execute(
                "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status,"
                " created_at, updated_at) VALUES ('r1', ?, 'C1', 'U1', '', 'pending', ?, ?)",
                (ORDERS[0], NOW.isoformat(), NOW.isoformat()),
            )
    finally:
        await db.close()


async def test_a_database_at_version_1_upgrades_to_2_and_keeps_its_requests(
    db_location: Path | str,
) -> None:
    await _database_at_version_1(db_location)
    store = await Store.open(db_location, clock=lambda: NOW)
    try:
        versions = await store._db.execute_fetchall(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        )
        assert [(row[0], row[1]) for row in versions] == [
            (1, "initial"),
            (2, "bulk_orders"),
            (3, "outbox_maybe_posted"),
        ]
        [request] = await store.history_of_order(ORDERS[0])
        assert request.id == "r1" and request.orders == ()
        # The old request still covers its order; the others open as a bulk request.
        request_id, covered = await _open(store, *ORDERS)
        assert covered == [ORDERS[0]]
        bulk = await store.get(request_id or "")
        assert bulk is not None and bulk.order_ids == ORDERS[1:]
        assert [r.id for r in await store.history_of_order(ORDERS[1])] == [request_id]
    finally:
        await store.close()


async def test_an_order_named_twice_is_one_order(stores: tuple[Store, Store]) -> None:
    store, _ = stores
    request_id, covered = await _open(store, ORDERS[0], ORDERS[1], ORDERS[0])

    request = await store.get(request_id or "")
    assert covered == [] and request is not None and request.order_ids == ORDERS[:2]


async def test_one_summary_delivery_of_a_request_is_claimed_at_a_time(
    stores: tuple[Store, Store],
) -> None:
    """Two instances each holding one of a bulk request's summary deliveries would both find
    no reply posted yet and both post one: the second claim waits for the first delivery."""
    first, second = stores
    request_id, _ = await _open(first, *ORDERS)
    assert request_id is not None
    await _executing(first, request_id, "instance-a")
    for order in ORDERS[:2]:
        assert await first.claim_order(request_id, order, "instance-a", expected=OrderState.WAITING)
        assert await _record(first, request_id, order)
    one, two = [m for m in await first.due_messages() if m.kind is MessageKind.SUMMARY]

    assert await first.claim_message(one, "instance-a", NOW + timedelta(seconds=20))
    assert not await second.claim_message(two, "instance-b", NOW + timedelta(seconds=20))
    assert two.id not in [m.id for m in await second.due_messages()]  # waits, no busy loop
    await first.message_delivered(one, outcome=False)
    later = NOW + timedelta(seconds=2)
    second._clock = lambda: later
    assert await second.claim_message(two, "instance-b", later + timedelta(seconds=20))


async def _record(store: Store, request_id: str, order: str) -> bool:
    return await store.record_order(
        request_id,
        order,
        "instance-a",
        expected=OrderState.SENDING,
        state=OrderState.SUCCEEDED,
        event=EventKind.OUTCOME_SUCCEEDED,
    )


# -- PostgreSQL: a check waits for another instance's transaction in flight, then sees it --------


async def _while_held(
    url: str, hold: Sequence[tuple[str, Sequence[object]]], work: Awaitable[T]
) -> T:
    """Run `hold`'s statements in a transaction of another connection (another instance in
    flight), start `work`, wait until `work` is blocked by that transaction (or is done: the
    caller's assertions then fail), commit, and return what `work` returned."""
    other = await asyncpg.connect(url)
    monitor = await asyncpg.connect(url)
    try:
        transaction = other.transaction()
        await transaction.start()
        for sql, args in hold:
            await other.execute(sql, *args)
        task = asyncio.ensure_future(work)
        for _ in range(1000):
            blocked = await monitor.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
                other.get_server_pid(),
            )
            if blocked or task.done():
                break
            await asyncio.sleep(0.01)
        await transaction.commit()
        return await task
    finally:
        await other.close()
        await monitor.close()


async def test_pg_a_claim_waits_for_a_lease_take_over_in_flight_and_refuses(
    postgres_url: str,
) -> None:
    store = await Store.open(postgres_url, clock=lambda: NOW)
    try:
        request_id, _ = await _open(store, *ORDERS)
        assert request_id is not None
        await _executing(store, request_id, "instance-a")
        take_over = "UPDATE requests SET lease_owner = 'instance-b' WHERE id = $1"

        claimed = await _while_held(
            postgres_url,
            [(take_over, (request_id,))],
            store.claim_order(request_id, ORDERS[0], "instance-a", expected=OrderState.WAITING),
        )

        assert not claimed
        assert [o.state for o in await store.orders_of(request_id)] == [OrderState.WAITING] * 3
    finally:
        await store.close()


async def test_pg_a_bulk_waits_for_a_request_in_flight_for_one_of_its_orders(
    postgres_url: str,
) -> None:
    store = await Store.open(postgres_url, clock=lambda: NOW)
    try:
        # Another instance opening a request for ORDERS[1], not yet committed.
        in_flight = [
            ("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", (order_key(ORDERS[1]),)),
            (
                "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status,"
                " created_at, updated_at) VALUES ('other', $1, 'C1', 'U1', '', 'pending', $2, $2)",
                (ORDERS[1], NOW.isoformat()),
            ),
        ]

        request_id, covered = await _while_held(postgres_url, in_flight, _open(store, *ORDERS))

        assert covered == [ORDERS[1]]
        bulk = await store.get(request_id or "")
        assert bulk is not None and bulk.order_ids == (ORDERS[0], ORDERS[2])
    finally:
        await store.close()


async def test_pg_a_summary_claim_waits_for_another_summary_claim_in_flight(
    postgres_url: str,
) -> None:
    store = await Store.open(postgres_url, clock=lambda: NOW)
    try:
        request_id, _ = await _open(store, *ORDERS)
        assert request_id is not None
        await _executing(store, request_id, "instance-a")
        for order in ORDERS[:2]:
            assert await store.claim_order(
                request_id, order, "instance-a", expected=OrderState.WAITING
            )
            assert await _record(store, request_id, order)
        one, two = [m for m in await store.due_messages() if m.kind is MessageKind.SUMMARY]
        until = (NOW + timedelta(seconds=20)).isoformat()
        other_claims_one = [
            ("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", (summary_key(request_id),)),
            (
                "UPDATE outbox SET claimed_by = 'instance-b', claimed_until = $1 WHERE id = $2",
                (until, one.id),
            ),
        ]

        claimed = await _while_held(
            postgres_url,
            other_claims_one,
            store.claim_message(two, "instance-a", NOW + timedelta(seconds=20)),
        )

        assert not claimed
    finally:
        await store.close()


async def test_an_orders_history_holds_its_bulk_request_once(stores: tuple[Store, Store]) -> None:
    store, _ = stores
    request_id, _ = await _open(store, *ORDERS)

    # The first order is also the request's own order_id: found by both arms, listed once.
    for order in ORDERS:
        assert [r.id for r in await store.history_of_order(order)] == [request_id], order
    [request] = await store.history_of_order(ORDERS[2])
    assert request.order_ids == ORDERS
