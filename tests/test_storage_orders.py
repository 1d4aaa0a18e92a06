"""The orders of bulk requests in the store: the duplicate guard per order, claims under the
request's lease (two instances on one file), and a file written before the table existed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.domain.events import EventKind
from bot.domain.requests import OrderState
from bot.domain.requests import RequestStatus as S
from bot.services.decisions import ACTIVE_STATUSES
from bot.storage.schema import SCHEMA
from bot.storage.store import Store

ORDERS = ("CDE0000000041", "CDE0000000042", "CDE0000000043")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[Store, Store]]:
    """Two instances' stores on one database file."""
    first = await Store.open(tmp_path / "orders.sqlite3", clock=lambda: NOW)
    second = await Store.open(tmp_path / "orders.sqlite3", clock=lambda: NOW)
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


async def test_a_file_written_before_bulk_requests_opens_and_keeps_its_requests(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(SCHEMA)
        old.execute(
            "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status,"
            " created_at, updated_at) VALUES ('r1', ?, 'C1', 'U1', '', 'pending', ?, ?)",
            (ORDERS[0], NOW.isoformat(), NOW.isoformat()),
        )
    store = await Store.open(path, clock=lambda: NOW)
    try:
        [request] = await store.history_of_order(ORDERS[0])
        assert request.id == "r1" and request.orders == ()
        # The old request still covers its order; the others open as a bulk request.
        request_id, covered = await _open(store, *ORDERS)
        assert covered == [ORDERS[0]]
        bulk = await store.get(request_id or "")
        assert bulk is not None and bulk.order_ids == ORDERS[1:]
    finally:
        await store.close()


async def test_an_order_named_twice_is_one_order(stores: tuple[Store, Store]) -> None:
    store, _ = stores
    request_id, covered = await _open(store, ORDERS[0], ORDERS[1], ORDERS[0])

    request = await store.get(request_id or "")
    assert covered == [] and request is not None and request.order_ids == ORDERS[:2]
