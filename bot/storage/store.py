"""Persistence of requests, decisions and outcomes: SQLite (aiosqlite, one connection per
process, the default) or PostgreSQL (asyncpg, a pool) for several instances on one database.

Every state change is a conditional UPDATE on the current status inside a write transaction, so
concurrent clicks — in this process or another one on the same database — have exactly one
winner. Each change also appends a row to `events`, the audit trail.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.domain.events import EventKind
from bot.domain.requests import CancelRequest, MessageKind, RequestStatus, can_move
from bot.storage.clicks import ClickLog
from bot.storage.core import Clock
from bot.storage.engine import Database, PostgresDatabase, SqliteDatabase, is_postgres_url
from bot.storage.orders import OrderRecords
from bot.storage.outbox import OutboxRecords
from bot.storage.queries import RequestQueries
from bot.storage.rows import UPDATABLE_COLUMNS, first, iso
from bot.storage.schema import migrate
from bot.storage.work import BackgroundWork


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApprovalResult(StrEnum):
    """What one approval did, decided inside one transaction."""

    QUORUM = "quorum"  # this approval reached the quorum: the request is now approved
    COUNTED = "counted"  # recorded; more approvals are needed
    DUPLICATE = "duplicate"  # this person had approved already
    NOT_PENDING = "not_pending"  # decided (or expired, withdrawn) before this approval


class Store(RequestQueries, OutboxRecords, BackgroundWork, ClickLog, OrderRecords):
    """A small repository around one database. Use `await Store.open(path_or_url)`.

    Its parts share the engine (`StoreCore`): creation, decisions and
    transitions here; the Slack outbox (`outbox`); leases, read-backs and reminders (`work`);
    the click log (`clicks`); reads of the records (`queries`); the orders of bulk requests
    (`orders`).
    """

    @classmethod
    async def open(
        cls,
        location: Path | str,
        *,
        clock: Clock = utc_now,
        pool_min_size: int = 1,
        pool_max_size: int = 10,
    ) -> Store:
        """Open (and migrate) the database: a `postgresql://…` URL, else a SQLite file path."""
        db: Database
        if is_postgres_url(location):
            db = await PostgresDatabase.connect(
                str(location), min_size=pool_min_size, max_size=pool_max_size
            )
        else:
            if str(location) != ":memory:":
                Path(location).parent.mkdir(parents=True, exist_ok=True)
                # aiosqlite's thread outlives a failed connect and then trips over the closed
                # event loop (a traceback at exit): a file that cannot even be opened fails here.
                await asyncio.to_thread(_open_and_close, str(location))
            db = await SqliteDatabase.connect(str(location))
        try:
            await migrate(db)
            store = cls(db, clock)
            await store.write_heartbeat()  # a database that cannot take a write fails at start
        except BaseException:
            # An open aiosqlite connection's thread keeps the process alive after the error.
            await db.close()
            raise
        return store

    @property
    def engine(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._db.engine

    async def close(self) -> None:
        await self._finish_clicks()
        await self._db.close()

    async def create_request(
        self, *, order_id: str, channel_id: str, requester_id: str, reason: str
    ) -> CancelRequest:
        request_id = uuid.uuid4().hex
        now = iso(self._clock())
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (request_id, order_id, channel_id, requester_id, reason, "pending", now, now),
            )
            await self._add_event(
                request_id, now, EventKind.REQUESTED, requester_id, reason or None
            )
        request = await self.get(request_id)
        assert request is not None
        self._changed(request, EventKind.REQUESTED)
        return request

    async def approve(
        self, request_id: str, approver_id: str, *, required: int
    ) -> tuple[ApprovalResult, CancelRequest | None]:
        """Record one approval of a pending request; the one that makes `required` distinct
        approvers moves it to APPROVED. One immediate transaction: of a last approval and a
        rejection racing, exactly one finds the request pending."""
        now_dt = self._clock()
        now = iso(now_dt)
        async with self._transaction():
            row = first(
                await self._db.execute_fetchall(
                    # The row lock (PostgreSQL) makes a concurrent approval wait and then read
                    # this one's approvers: two last approvals never both count as "1 of 2".
                    "SELECT status, approved_by FROM requests WHERE id = ? FOR UPDATE",
                    (request_id,),
                )
            )
            if row is None or row["status"] != RequestStatus.PENDING.value:
                result = ApprovalResult.NOT_PENDING
            else:
                cursor = await self._db.execute(
                    "INSERT INTO approvals (request_id, approver_id, at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (request_id, approver_id, now),
                )
                if cursor.rowcount != 1:
                    result = ApprovalResult.DUPLICATE
                else:
                    approved_by = ",".join(filter(None, (row["approved_by"], approver_id)))
                    count = len(approved_by.split(","))
                    if count >= required:
                        result = ApprovalResult.QUORUM
                        await self._db.execute(
                            "UPDATE requests SET status = 'approved', approved_by = ?,"
                            " decided_by = ?, decided_at = ?, updated_at = ?"
                            " WHERE id = ? AND status = 'pending'",
                            (approved_by, approver_id, now, now, request_id),
                        )
                        await self._add_event(
                            request_id, now, EventKind.APPROVED, approver_id, None
                        )
                        approved = await self._read_in_transaction(request_id)
                        if approved is not None:
                            await self._enqueue_notices(approved, EventKind.APPROVED, now)
                    else:
                        result = ApprovalResult.COUNTED
                        await self._db.execute(
                            "UPDATE requests SET approved_by = ?, updated_at = ? WHERE id = ?",
                            (approved_by, now, request_id),
                        )
                        await self._add_event(
                            request_id,
                            now,
                            EventKind.APPROVAL,
                            approver_id,
                            f"{count} of {required}",
                        )
                    await self._enqueue(request_id, (MessageKind.REDRAW,), now)
        request = await self.get(request_id)
        if result in (ApprovalResult.QUORUM, ApprovalResult.COUNTED):
            self._enqueued()
            if request is not None:
                self._changed(
                    request,
                    EventKind.APPROVED if result is ApprovalResult.QUORUM else EventKind.APPROVAL,
                )
        return result, request

    async def get(self, request_id: str) -> CancelRequest | None:
        """The request, with its orders if it is a bulk request."""
        return await self._read_in_transaction(request_id)

    async def transition(
        self,
        request_id: str,
        *,
        expected: RequestStatus | Iterable[RequestStatus],
        target: RequestStatus,
        actor: str | None,
        event: EventKind,
        detail: str | None = None,
        count_attempt: bool = False,
        notify: Iterable[MessageKind] = (),
        owner: str | None = None,
        lease_expired_before: datetime | None = None,
        **fields: Any,
    ) -> CancelRequest | None:
        """Move the request to `target` if its status is one of `expected` (and, with `owner`,
        if that instance still holds its lease).

        Returns the updated request, or None when another actor moved it first (or it does
        not exist). Extra keyword arguments set the named columns in the same update;
        `notify` queues Slack messages in the same transaction, so none is ever lost.
        """
        expected_set = {expected} if isinstance(expected, RequestStatus) else set(expected)
        for status in expected_set:
            if not can_move(status, target):
                raise ValueError(f"a request cannot move from {status} to {target}")
        unknown = set(fields) - UPDATABLE_COLUMNS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = iso(self._clock())
        assignments = ["status = ?", "updated_at = ?"]
        values: list[Any] = [target.value, now]
        if count_attempt:
            assignments.append("attempts = attempts + 1")
        for column, value in fields.items():
            assignments.append(f"{column} = ?")
            values.append(iso(value) if isinstance(value, datetime) else value)
        placeholders = ", ".join("?" for _ in expected_set)
        sql = (
            f"UPDATE requests SET {', '.join(assignments)}"  # noqa: S608 - column names are fixed above
            f" WHERE id = ? AND status IN ({placeholders})"
        )
        conditions: list[Any] = [request_id, *(s.value for s in expected_set)]
        if owner is not None:
            sql += " AND lease_owner = ?"
            conditions.append(owner)
        if lease_expired_before is not None:
            sql += " AND (lease_until IS NULL OR lease_until < ?)"
            conditions.append(iso(lease_expired_before))
        async with self._transaction():
            cursor = await self._db.execute(sql, (*values, *conditions))
            if cursor.rowcount != 1:
                return None
            await self._add_event(request_id, now, event, actor, detail)
            queued = await self._enqueue(request_id, notify, now)
            # Read once, inside the change: the notices and the listeners see the same request.
            moved = await self._read_in_transaction(request_id)
            if moved is not None:
                queued = await self._enqueue_notices(moved, event, now) or queued
        if queued:
            self._enqueued()
        if moved is not None:
            self._changed(moved, event)
        return moved

    async def attach_message(
        self,
        request_id: str,
        message_ts: str,
        *,
        detail: str | None,
        notify: Iterable[MessageKind] = (),
    ) -> bool:
        """Store the ts of the request's message unless one is stored; True if this stored it
        (and queued `notify`).

        Two writers may know it: the post's own answer, and a click on the message that came
        first (the post's answer not stored yet, or lost to a crash); both name the same ts.
        """
        now = iso(self._clock())
        queued = False
        async with self._transaction():
            stored = await self._db.execute_fetchall(
                "UPDATE requests SET message_ts = ?, updated_at = ?"
                " WHERE id = ? AND message_ts IS NULL RETURNING id",
                (message_ts, now, request_id),
            )
            if stored:
                await self._add_event(request_id, now, EventKind.POSTED, None, detail)
                queued = await self._enqueue(request_id, notify, now)
        if queued:
            self._enqueued()
        return bool(stored)

    async def update_fields(
        self,
        request_id: str,
        *,
        event: EventKind | None = None,
        detail: str | None = None,
        notify: Iterable[MessageKind] = (),
        **fields: Any,
    ) -> None:
        """Set columns that do not change the status (message ts, delivery marks)."""
        unknown = set(fields) - UPDATABLE_COLUMNS
        if unknown or not fields:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = iso(self._clock())
        assignments = ", ".join(f"{column} = ?" for column in fields)
        values = [iso(v) if isinstance(v, datetime) else v for v in fields.values()]
        async with self._transaction():
            await self._db.execute(
                f"UPDATE requests SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*values, now, request_id),
            )
            if event is not None:
                await self._add_event(request_id, now, event, None, detail)
            queued = await self._enqueue(request_id, notify, now)
        if queued:
            self._enqueued()


def _open_and_close(path: str) -> None:
    sqlite3.connect(path).close()
