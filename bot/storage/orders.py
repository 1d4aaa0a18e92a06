"""The orders of bulk requests (several orders, one approval): opening one with the duplicate
guard applied per order, each order's preview, its claim before its DELETE and its outcome, and
the ts of the request's one summary reply. The tables are migration 0002_bulk_orders.

A single-order request has no row here: its order is `requests.order_id`. Every write below is
conditional (on the order's state, and on the request's lease when an instance drives it), so
of any number of tasks or instances exactly one sends each order's DELETE.

On PostgreSQL (READ COMMITTED) a check and the write it allows must not interleave with another
instance's: the duplicate guard holds each order's lock (`order_key`) while it reads and
inserts, and the writes under a lease first lock the request's row (`_holds_lease`), so a
take-over in flight is waited for and then seen. On SQLite the transaction's `BEGIN IMMEDIATE` holds
the whole file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.events import EventKind
from bot.domain.requests import (
    CancelRequest,
    MessageKind,
    OrderItem,
    OrderState,
    RequestStatus,
)
from bot.storage.core import StoreCore, order_key
from bot.storage.rows import first, iso, to_order

ORDER_OUTCOME_COLUMNS = frozenset(
    {
        "outcome_code",
        "outcome_failure",
        "outcome_message",
        "outcome_http_status",
        "outcome_note",
        "outcome_at",
        "settle_reads",
        "preview_state",
        "preview_code",
        "preview_failure",
        "preview_order",
    }
)


@dataclass(frozen=True, slots=True)
class OpenedOrders:
    """What opening a request for several orders did: the request opened (None when every
    order was covered), and each order left out with the active request that covers it."""

    request: CancelRequest | None
    covered: tuple[tuple[str, CancelRequest], ...]


class OrderRecords(StoreCore):
    async def create_for_orders(
        self,
        *,
        order_ids: Sequence[str],
        channel_id: str,
        requester_id: str,
        reason: str,
        active: Iterable[RequestStatus],
        succeeded_since: datetime,
        reason_category: str | None = None,
    ) -> OpenedOrders:
        """Open one request for the orders no active request covers (a request in an `active`
        status, or one that cancelled the order since `succeeded_since`). One order left: a
        single-order request; several: a bulk request with a row per order; none: nothing.
        Check and insert share one transaction, so two commands at once never both open one
        for the same order."""
        statuses = [s.value for s in active]
        covered: list[tuple[str, str]] = []
        request_id: str | None = None
        wanted = list(dict.fromkeys(order_ids))  # an order named twice is one order
        async with self._transaction():
            # Each order's lock, in one global order (no two creations wait on each other): a
            # creation for any of these orders on another instance commits first, then is seen.
            for order_id in sorted(wanted):
                await self._db.serialize(order_key(order_id))
            remaining: list[str] = []
            for order_id in wanted:
                found = await self._covering(order_id, statuses, iso(succeeded_since))
                if found is None:
                    remaining.append(order_id)
                else:
                    covered.append((order_id, found))
            if remaining:
                request_id = uuid.uuid4().hex
                now = iso(self._clock())
                await self._db.execute(
                    "INSERT INTO requests (id, order_id, channel_id, requester_id, reason,"
                    " status, created_at, updated_at, reason_category)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *(request_id, remaining[0], channel_id, requester_id, reason),
                        *("pending", now, now, reason_category),
                    ),
                )
                if len(remaining) > 1:
                    for position, order_id in enumerate(remaining):
                        await self._db.execute(
                            "INSERT INTO request_orders (request_id, order_id, position, state)"
                            " VALUES (?, ?, ?, ?)",
                            (request_id, order_id, position, OrderState.WAITING.value),
                        )
                    await self._db.execute(
                        "INSERT INTO request_replies (request_id) VALUES (?)", (request_id,)
                    )
                detail = reason or None
                if len(remaining) > 1:
                    detail = f"{len(remaining)} orders: {', '.join(remaining)}" + (
                        f" — {reason}" if reason else ""
                    )
                await self._add_event(request_id, now, EventKind.REQUESTED, requester_id, detail)
        covering = {}
        for _order_id, found_id in covered:
            if found_id not in covering:
                request = await self._read_in_transaction(found_id)
                assert request is not None
                covering[found_id] = request
        created = None
        if request_id is not None:
            created = await self._read_in_transaction(request_id)
            assert created is not None
            self._changed(created, EventKind.REQUESTED)
        return OpenedOrders(
            created, tuple((order_id, covering[found]) for order_id, found in covered)
        )

    async def _covering(self, order_id: str, statuses: list[str], since: str) -> str | None:
        """The newest request covering `order_id`: active, or that cancelled it since `since`
        (a bulk request only for the orders it did cancel). Two arms, one per index (the
        order of a single-order request, the orders of bulk ones): an OR would let SQLite
        scan every succeeded request instead."""
        covers = (
            f"(r.status IN ({', '.join('?' for _ in statuses)})"  # noqa: S608 - placeholders only
            " OR (r.status = 'succeeded' AND r.outcome_at >= ? AND NOT EXISTS"
            " (SELECT 1 FROM request_orders x WHERE x.request_id = r.id"
            " AND x.order_id = ? AND x.state <> 'succeeded')))"
        )
        row = first(
            await self._db.execute_fetchall(
                f"SELECT r.id, r.created_at FROM requests r WHERE r.order_id = ? AND {covers}"  # noqa: S608
                " UNION ALL SELECT r.id, r.created_at FROM request_orders o"
                f" JOIN requests r ON r.id = o.request_id WHERE o.order_id = ? AND {covers}"
                " ORDER BY 2 DESC LIMIT 1",
                (order_id, *statuses, since, order_id) * 2,
            )
        )
        return str(row["id"]) if row is not None else None

    async def record_order_preview(
        self, request_id: str, order_id: str, columns: dict[str, Any], *, blocked: bool
    ) -> None:
        """Store what the preview saw of one order; a blocked one (no such order, cancelled
        already) is skipped: it is never sent."""
        values = {k: iso(v) if isinstance(v, datetime) else v for k, v in columns.items()}
        values.pop("preview_at", None)
        assignments = ", ".join(f"{column} = ?" for column in values)
        if set(values) - ORDER_OUTCOME_COLUMNS:
            raise ValueError(f"not updatable: {sorted(set(values) - ORDER_OUTCOME_COLUMNS)}")
        state = OrderState.SKIPPED if blocked else OrderState.WAITING
        async with self._transaction():
            await self._db.execute(
                f"UPDATE request_orders SET {assignments}, state = ?"  # noqa: S608
                " WHERE request_id = ? AND order_id = ? AND state = 'waiting'",
                (*values.values(), state.value, request_id, order_id),
            )

    async def _holds_lease(self, request_id: str, owner: str) -> bool:
        """Inside a write transaction: whether `owner` drives the request now. The row lock
        (PostgreSQL) makes a take-over of the lease wait for this transaction's end, and this
        read wait for a take-over in flight and then see it: the lease checked here is still
        `owner`'s when the transaction commits."""
        row = first(
            await self._db.execute_fetchall(
                "SELECT status, lease_owner FROM requests WHERE id = ? FOR UPDATE",
                (request_id,),
            )
        )
        return (
            row is not None
            and row["status"] == RequestStatus.EXECUTING.value
            and row["lease_owner"] == owner
        )

    async def orders_of(self, request_id: str) -> tuple[OrderItem, ...]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM request_orders WHERE request_id = ? ORDER BY position", (request_id,)
        )
        return tuple(to_order(row) for row in rows)

    async def start_bulk_run(
        self,
        request_id: str,
        owner: str,
        *,
        interrupted_note: str,
        resend: Iterable[OrderState] = (),
    ) -> tuple[OrderItem, ...]:
        """At the start of a run by `owner` (who holds the request's lease): an order still
        SENDING was being sent by an instance that stopped, so it becomes UNKNOWN (read back
        before anything else); orders in a `resend` state (an approver's Retry) wait again.
        Returns the orders as they now are."""
        again = [s.value for s in resend]
        async with self._transaction():
            if await self._holds_lease(request_id, owner):
                await self._db.execute(
                    "UPDATE request_orders SET state = 'unknown', outcome_failure = 'timeout',"
                    " outcome_note = ?, outcome_at = ? WHERE request_id = ? AND state = 'sending'",
                    (interrupted_note, iso(self._clock()), request_id),
                )
                if again:
                    await self._db.execute(
                        "UPDATE request_orders SET state = 'waiting', settle_reads = 0"  # noqa: S608
                        f" WHERE request_id = ? AND state IN ({', '.join('?' for _ in again)})",
                        (request_id, *again),
                    )
        return await self.orders_of(request_id)

    async def claim_order(
        self, request_id: str, order_id: str, owner: str, *, expected: OrderState
    ) -> bool:
        """Take one order for its DELETE (→ SENDING, one more attempt), if it is still in
        `expected` and `owner` still holds the request's lease. One winner, whatever the race."""
        async with self._transaction():
            if not await self._holds_lease(request_id, owner):
                return False
            # The state condition is re-checked on the row as the other claim left it: one
            # winner, the other finds it SENDING.
            cursor = await self._db.execute(
                "UPDATE request_orders SET state = 'sending', attempts = attempts + 1"
                " WHERE request_id = ? AND order_id = ? AND state = ?",
                (request_id, order_id, expected.value),
            )
            return cursor.rowcount == 1

    async def record_order(
        self,
        request_id: str,
        order_id: str,
        owner: str,
        *,
        expected: OrderState,
        state: OrderState,
        event: EventKind,
        detail: str | None = None,
        **fields: Any,
    ) -> bool:
        """Record what one order's call (or read-back) found, and queue an edit of the summary
        reply, in one transaction; False when the order moved or the lease was lost."""
        unknown = set(fields) - ORDER_OUTCOME_COLUMNS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = iso(self._clock())
        assignments = ["state = ?"]
        values: list[Any] = [state.value]
        for column, value in fields.items():
            assignments.append(f"{column} = ?")
            values.append(iso(value) if isinstance(value, datetime) else value)
        async with self._transaction():
            if not await self._holds_lease(request_id, owner):
                return False
            cursor = await self._db.execute(
                f"UPDATE request_orders SET {', '.join(assignments)}"  # noqa: S608
                " WHERE request_id = ? AND order_id = ? AND state = ?",
                (*values, request_id, order_id, expected.value),
            )
            if cursor.rowcount != 1:
                return False
            await self._add_event(
                request_id, now, event, None, f"{order_id}: {detail}" if detail else order_id
            )
            await self._enqueue(request_id, (MessageKind.SUMMARY,), now)
        self._enqueued()
        return True

    async def summary_ts(self, request_id: str) -> str | None:
        row = first(
            await self._db.execute_fetchall(
                "SELECT summary_ts FROM request_replies WHERE request_id = ?", (request_id,)
            )
        )
        return str(row["summary_ts"]) if row is not None and row["summary_ts"] else None

    async def set_summary_ts(self, request_id: str, ts: str) -> None:
        """Remember the summary reply once posted: later deliveries edit it."""
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO request_replies (request_id, summary_ts) VALUES (?, ?)"
                " ON CONFLICT (request_id) DO UPDATE SET summary_ts = excluded.summary_ts",
                (request_id, ts),
            )
