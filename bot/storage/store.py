"""SQLite persistence of requests, decisions and outcomes (aiosqlite, one connection per process).

Every state change is a conditional UPDATE on the current status inside an immediate
transaction, so concurrent clicks — in this process or another one on the same file —
have exactly one winner. Each change also appends a row to `events`, the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain.events import EventKind
from bot.domain.requests import (
    CancelRequest,
    MessageKind,
    OutboxMessage,
    RequestEvent,
    RequestStatus,
    can_move,
)
from bot.soget.client import CustomerOrder

Clock = Callable[[], datetime]
# Told of each committed change: the request as it now is, and the event's kind.
ChangeListener = Callable[[CancelRequest, str], None]
# The direct messages a change deserves: (kind, recipient user id) pairs.
NoticePolicy = Callable[[CancelRequest, str], Iterable[tuple[MessageKind, str]]]

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    message_ts TEXT,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT,
    outcome_code TEXT,
    outcome_failure TEXT,
    outcome_message TEXT,
    outcome_timestamp TEXT,
    outcome_http_status INTEGER,
    outcome_note TEXT,
    outcome_at TEXT,
    outcome_posted_at TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    preview_state TEXT,
    preview_code TEXT,
    preview_failure TEXT,
    preview_order TEXT,
    preview_at TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_order ON requests (order_id, created_at);
CREATE INDEX IF NOT EXISTS requests_by_status ON requests (status, created_at);
-- The outbox replaced the start-up scan of unposted outcomes; its index only cost writes.
DROP INDEX IF EXISTS requests_outcome_unposted;
CREATE INDEX IF NOT EXISTS requests_by_requester ON requests (requester_id, created_at);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS events_by_request ON events (request_id, id);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id),
    kind TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    next_try_at TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    delivered_at TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox (next_try_at) WHERE delivered_at IS NULL;
-- One row per approver and request: the primary key makes a second approval by the same
-- person impossible, whatever the race.
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    action TEXT NOT NULL,
    channel_id TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    handled_at TEXT
);
CREATE INDEX IF NOT EXISTS clicks_unhandled ON clicks (received_at) WHERE handled_at IS NULL;
CREATE TABLE IF NOT EXISTS approvals (
    request_id TEXT NOT NULL REFERENCES requests (id),
    approver_id TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (request_id, approver_id)
);
"""

# One row, rewritten by each health probe: proof that a write reaches the file now.
HEARTBEAT_SCHEMA = """
CREATE TABLE IF NOT EXISTS heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    beats INTEGER NOT NULL,
    at TEXT NOT NULL
);
"""

# Columns added after the first release: a database file created before them gets them at open.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("preview_state", "TEXT"),
    ("preview_code", "TEXT"),
    ("preview_failure", "TEXT"),
    ("preview_order", "TEXT"),
    ("preview_at", "TEXT"),
    ("approved_by", "TEXT"),  # approvers so far, comma-separated, in order (for display)
    ("reminded_at", "TEXT"),  # when the approvers were reminded of the pending request
    ("reason_category", "TEXT"),  # the request form's reason category (bot/request_form.py)
    # The instance driving an EXECUTING request, and until when: another instance (or a
    # restart) takes it over only once the lease has run out, and then reads before resending.
    ("lease_owner", "TEXT"),
    ("lease_until", "TEXT"),
    ("settle_at", "TEXT"),  # when the order of an UNKNOWN request is to be read back
    ("settle_reads", "INTEGER"),  # reads of an UNKNOWN request's order that failed so far
)
# Outbox columns added after the first release: each Slack effect became its own delivery,
# claimed by one instance at a time.
ADDED_OUTBOX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("claimed_by", "TEXT"),
    ("claimed_until", "TEXT"),
    ("recipient", "TEXT"),  # the user of a direct message
)
# Before each Slack effect had its own delivery, these kinds also redrew the request message.
_KINDS_THAT_REDREW = ("outcome", "unavailable", "rejection", "verified")

_DATETIME_COLUMNS = (
    "created_at",
    "updated_at",
    "decided_at",
    "outcome_at",
    "outcome_posted_at",
    "preview_at",
    "reminded_at",
    "lease_until",
    "settle_at",
)
_UPDATABLE_COLUMNS = frozenset(
    {
        "message_ts",
        "decided_by",
        "decided_at",
        "decision_note",
        "outcome_code",
        "outcome_failure",
        "outcome_message",
        "outcome_timestamp",
        "outcome_http_status",
        "outcome_note",
        "outcome_at",
        "outcome_posted_at",
        *(name for name, _type in ADDED_COLUMNS),
    }
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ApprovalResult(StrEnum):
    """What one approval did, decided inside one transaction."""

    QUORUM = "quorum"  # this approval reached the quorum: the request is now approved
    COUNTED = "counted"  # recorded; more approvals are needed
    DUPLICATE = "duplicate"  # this person had approved already
    NOT_PENDING = "not_pending"  # decided (or expired, withdrawn) before this approval


class Store:
    """A small repository around one aiosqlite connection. Use `await Store.open(path)`."""

    def __init__(self, connection: aiosqlite.Connection, clock: Clock) -> None:
        self._db = connection
        self._clock = clock
        # One write transaction at a time on this connection; SQLite itself serialises
        # writers across processes (BEGIN IMMEDIATE + busy timeout).
        self._write_lock = asyncio.Lock()
        self._on_enqueue: Callable[[], None] | None = None
        self._listeners: list[ChangeListener] = []
        self._notices: NoticePolicy | None = None
        # Clicks waiting to be written together (see `record_click`).
        self._click_rows: list[tuple[tuple[str, ...], asyncio.Future[int]]] = []
        self._handled_clicks: list[int] = []
        self._click_flusher: asyncio.Task[None] | None = None

    def set_notice_policy(self, policy: NoticePolicy) -> None:
        """Which direct messages a committed change deserves; they are queued in the change's
        own transaction, so a crash or a Slack failure delays a notice but never loses it."""
        self._notices = policy

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Called after a transaction that queued Slack messages has committed."""
        self._on_enqueue = listener

    @classmethod
    async def open(cls, path: Path | str, *, clock: Clock = utc_now) -> Store:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # aiosqlite's thread outlives a failed connect and then trips over the closed event
            # loop (a traceback at exit): a file that cannot even be opened fails here first.
            await asyncio.to_thread(_open_and_close, str(path))
        connection = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA journal_mode=WAL")
            # FULL: an approval acknowledged to Slack must survive a power cut, not only a crash.
            await connection.execute("PRAGMA synchronous=FULL")
            await connection.execute("PRAGMA busy_timeout=30000")
            await connection.execute("PRAGMA foreign_keys=ON")
            await connection.executescript(SCHEMA)
            await connection.executescript(HEARTBEAT_SCHEMA)
            await _add_missing_columns(connection)
            store = cls(connection, clock)
            await store.write_heartbeat()  # a file that cannot take a write fails at start
        except BaseException:
            # An open aiosqlite connection's thread keeps the process alive after the error.
            await connection.close()
            raise
        return store

    async def close(self) -> None:
        if self._click_flusher is not None and not self._click_flusher.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._click_flusher, timeout=5)
        await self._db.close()

    async def ping(self) -> bool:
        return bool(await self._db.execute_fetchall("SELECT 1"))

    async def write_heartbeat(self) -> None:
        """Commit a one-row change: raises when the file cannot take a write now (disk full,
        read-only, locked by another process, I/O error)."""
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
                # A changed value: SQLite writes no page for an update that changes nothing.
                await self._db.execute(
                    "INSERT INTO heartbeat (id, beats, at) VALUES (1, 1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET beats = beats + 1, at = excluded.at",
                    (_iso(self._clock()),),
                )
                await self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (SQLITE_FULL, BUSY) can leave the transaction open.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    def now(self) -> datetime:
        return self._clock()

    def add_listener(self, listener: ChangeListener) -> None:
        """Call `listener` after each committed creation or transition (metrics, notices)."""
        self._listeners.append(listener)

    def _changed(self, request: CancelRequest, event: str) -> None:
        for listener in self._listeners:
            try:
                listener(request, event)
            except Exception:
                logger.exception("a change listener failed on request %s", request.id)

    async def create_request(
        self, *, order_id: str, channel_id: str, requester_id: str, reason: str
    ) -> CancelRequest:
        request_id = uuid.uuid4().hex
        now = _iso(self._clock())
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

    async def create_unless_active(
        self,
        *,
        order_id: str,
        channel_id: str,
        requester_id: str,
        reason: str,
        active: Iterable[RequestStatus],
        succeeded_since: datetime,
        reason_category: str | None = None,
    ) -> tuple[CancelRequest, bool]:
        """Create a request unless the order has one in an `active` status, or one that
        succeeded since `succeeded_since`. Returns (request, created): the existing request
        when not created. Check and insert share one transaction, so two commands at once
        open one request."""
        statuses = [s.value for s in active]
        found: str | None = None
        async with self._transaction():
            row = _first(
                await self._db.execute_fetchall(
                    "SELECT id FROM requests WHERE order_id = ? AND (status IN"  # noqa: S608
                    f" ({', '.join('?' for _ in statuses)})"
                    " OR (status = 'succeeded' AND outcome_at >= ?))"
                    " ORDER BY created_at DESC LIMIT 1",
                    (order_id, *statuses, _iso(succeeded_since)),
                )
            )
            if row is not None:
                found = str(row["id"])
            else:
                request_id = uuid.uuid4().hex
                now = _iso(self._clock())
                await self._db.execute(
                    "INSERT INTO requests (id, order_id, channel_id, requester_id, reason,"
                    " status, created_at, updated_at, reason_category)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        *(request_id, order_id, channel_id, requester_id, reason),
                        *("pending", now, now, reason_category),
                    ),
                )
                await self._add_event(
                    request_id, now, EventKind.REQUESTED, requester_id, reason or None
                )
        request = await self.get(found or request_id)
        assert request is not None
        if found is None:
            self._changed(request, EventKind.REQUESTED)
        return request, found is None

    async def approve(
        self, request_id: str, approver_id: str, *, required: int
    ) -> tuple[ApprovalResult, CancelRequest | None]:
        """Record one approval of a pending request; the one that makes `required` distinct
        approvers moves it to APPROVED. One immediate transaction: of a last approval and a
        rejection racing, exactly one finds the request pending."""
        now_dt = self._clock()
        now = _iso(now_dt)
        async with self._transaction():
            row = _first(
                await self._db.execute_fetchall(
                    "SELECT status, approved_by FROM requests WHERE id = ?", (request_id,)
                )
            )
            if row is None or row["status"] != RequestStatus.PENDING.value:
                result = ApprovalResult.NOT_PENDING
            else:
                cursor = await self._db.execute(
                    "INSERT OR IGNORE INTO approvals (request_id, approver_id, at)"
                    " VALUES (?, ?, ?)",
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
                        await self._enqueue_notices(request_id, EventKind.APPROVED, now)
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
            if self._on_enqueue is not None:
                self._on_enqueue()
            if request is not None:
                self._changed(
                    request,
                    EventKind.APPROVED if result is ApprovalResult.QUORUM else EventKind.APPROVAL,
                )
        return result, request

    async def get(self, request_id: str) -> CancelRequest | None:
        row = _first(
            await self._db.execute_fetchall("SELECT * FROM requests WHERE id = ?", (request_id,))
        )
        return _to_request(row) if row is not None else None

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
        unknown = set(fields) - _UPDATABLE_COLUMNS
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = _iso(self._clock())
        assignments = ["status = ?", "updated_at = ?"]
        values: list[Any] = [target.value, now]
        if count_attempt:
            assignments.append("attempts = attempts + 1")
        for column, value in fields.items():
            assignments.append(f"{column} = ?")
            values.append(_iso(value) if isinstance(value, datetime) else value)
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
            conditions.append(_iso(lease_expired_before))
        async with self._transaction():
            cursor = await self._db.execute(sql, (*values, *conditions))
            if cursor.rowcount != 1:
                return None
            await self._add_event(request_id, now, event, actor, detail)
            queued = await self._enqueue(request_id, notify, now)
            queued = await self._enqueue_notices(request_id, event, now) or queued
        if queued and self._on_enqueue is not None:
            self._on_enqueue()
        moved = await self.get(request_id)
        if moved is not None:
            self._changed(moved, event)
        return moved

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
        unknown = set(fields) - _UPDATABLE_COLUMNS
        if unknown or not fields:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = _iso(self._clock())
        assignments = ", ".join(f"{column} = ?" for column in fields)
        values = [_iso(v) if isinstance(v, datetime) else v for v in fields.values()]
        async with self._transaction():
            await self._db.execute(
                f"UPDATE requests SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608
                (*values, now, request_id),
            )
            if event is not None:
                await self._add_event(request_id, now, event, None, detail)
            queued = await self._enqueue(request_id, notify, now)
        if queued and self._on_enqueue is not None:
            self._on_enqueue()

    async def with_status(self, *statuses: RequestStatus) -> list[CancelRequest]:
        placeholders = ", ".join("?" for _ in statuses)
        rows = await self._db.execute_fetchall(
            f"SELECT * FROM requests WHERE status IN ({placeholders})"  # noqa: S608
            " ORDER BY created_at",
            tuple(s.value for s in statuses),
        )
        return [_to_request(row) for row in rows]

    async def pending_created_before(self, cutoff: datetime) -> list[CancelRequest]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'pending' AND created_at < ?"
            " ORDER BY created_at",
            (_iso(cutoff),),
        )
        return [_to_request(row) for row in rows]

    async def pending_unreminded_before(self, cutoff: datetime) -> list[CancelRequest]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'pending' AND reminded_at IS NULL"
            " AND message_ts IS NOT NULL AND created_at < ? ORDER BY created_at",
            (_iso(cutoff),),
        )
        return [_to_request(row) for row in rows]

    async def mark_reminded(self, request_id: str) -> bool:
        """Queue the one reminder of a request still pending; False if it was sent or decided."""
        now = _iso(self._clock())
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE requests SET reminded_at = ? WHERE id = ? AND status = 'pending'"
                " AND reminded_at IS NULL",
                (now, request_id),
            )
            if cursor.rowcount != 1:
                return False
            await self._add_event(request_id, now, EventKind.REMINDED, None, None)
            await self._enqueue(request_id, (MessageKind.REMINDER,), now)
        if self._on_enqueue is not None:
            self._on_enqueue()
        return True

    async def due_messages(self, limit: int = 200) -> list[OutboxMessage]:
        """Undelivered Slack messages whose time has come and that no instance is sending,
        oldest first."""
        now = _iso(self._clock())
        rows = await self._db.execute_fetchall(
            "SELECT id, request_id, kind, attempt, tries, recipient FROM outbox"
            " WHERE delivered_at IS NULL AND next_try_at <= ?"
            " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY id LIMIT ?",
            (now, now, limit),
        )
        return [
            OutboxMessage(
                id=row["id"],
                request_id=row["request_id"],
                kind=MessageKind(row["kind"]),
                attempt=row["attempt"],
                tries=row["tries"],
                recipient=row["recipient"],
            )
            for row in rows
        ]

    async def next_message_due_at(self) -> datetime | None:
        row = _first(
            await self._db.execute_fetchall(
                "SELECT min(max(next_try_at, coalesce(claimed_until, ''))) FROM outbox"
                " WHERE delivered_at IS NULL"
            )
        )
        return datetime.fromisoformat(row[0]) if row is not None and row[0] else None

    async def undelivered_count(self, request_id: str | None = None) -> int:
        row = _first(
            await self._db.execute_fetchall(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
                " AND (? IS NULL OR request_id = ?)",
                (request_id, request_id),
            )
        )
        return int(row[0]) if row is not None else 0

    async def claim_message(self, message: OutboxMessage, owner: str, until: datetime) -> bool:
        """Take one message for sending, unless it was delivered or another instance holds it.

        The claim is committed before the Slack call: if this process dies after Slack took the
        message and before `message_delivered`, the message is sent again once the claim runs
        out (at least once, at this single point).
        """
        now = _iso(self._clock())
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?, tries = tries + 1"
                " WHERE id = ? AND delivered_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?)",
                (owner, _iso(until), message.id, now),
            )
            return cursor.rowcount == 1

    async def message_delivered(self, message: OutboxMessage, *, outcome: bool) -> None:
        """Mark one Slack effect done. A redraw renders the request's current state, so it
        also stands for the earlier redraws of the request still waiting."""
        now = _iso(self._clock())
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET delivered_at = ?, claimed_until = NULL WHERE id = ?",
                (now, message.id),
            )
            if message.kind is MessageKind.REDRAW:
                await self._db.execute(
                    "UPDATE outbox SET delivered_at = ? WHERE request_id = ? AND kind = ?"
                    " AND id < ? AND delivered_at IS NULL"
                    " AND (claimed_until IS NULL OR claimed_until < ?)",
                    (now, message.request_id, MessageKind.REDRAW.value, message.id, now),
                )
            if outcome:
                await self._db.execute(
                    "UPDATE requests SET outcome_posted_at = ? WHERE id = ?",
                    (now, message.request_id),
                )
                await self._add_event(message.request_id, now, EventKind.OUTCOME_POSTED, None, None)

    async def message_failed(self, message: OutboxMessage, error: str, retry_at: datetime) -> None:
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET last_error = ?, next_try_at = ?, claimed_until = NULL"
                " WHERE id = ?",
                (error[:500], _iso(retry_at), message.id),
            )

    # -- leases and background work ----------------------------------------------------------

    async def renew_lease(self, request_id: str, owner: str, until: datetime) -> bool:
        """Extend `owner`'s lease on an EXECUTING request; False if it is no longer theirs."""
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE requests SET lease_until = ? WHERE id = ? AND status = 'executing'"
                " AND lease_owner = ?",
                (_iso(until), request_id, owner),
            )
            return cursor.rowcount == 1

    async def orphaned_executions(self) -> list[CancelRequest]:
        """EXECUTING requests whose lease ran out: their instance died or stopped mid-way."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'executing'"
            " AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at",
            (_iso(self._clock()),),
        )
        return [_to_request(row) for row in rows]

    async def settles_due(self) -> list[CancelRequest]:
        """UNKNOWN requests whose order is due to be read back."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'unknown' AND settle_at IS NOT NULL"
            " AND settle_at <= ? ORDER BY settle_at",
            (_iso(self._clock()),),
        )
        return [_to_request(row) for row in rows]

    async def next_background_due_at(self, click_grace: timedelta) -> datetime | None:
        """The earliest planned read-back, lease expiry or unhandled click's deadline: when the
        sweep has work next."""
        row = _first(
            await self._db.execute_fetchall(
                "SELECT min(settle_at), (SELECT min(lease_until) FROM requests"
                " WHERE status = 'executing'), (SELECT min(received_at) FROM clicks"
                " WHERE handled_at IS NULL) FROM requests WHERE status = 'unknown'"
            )
        )
        if row is None:
            return None
        due = [datetime.fromisoformat(value) for value in row if value]
        if row[2]:
            due[-1] += click_grace
        return min(due, default=None)

    # -- clicks ------------------------------------------------------------------------------

    async def record_click(
        self, request_id: str, user_id: str, action: str, channel_id: str
    ) -> int:
        """Store a decision click before Slack gets its answer; `click_handled` once done.

        Clicks arriving together are written in one transaction (one fsync for a burst, not one
        each), so storing them before the ack keeps the ack well inside Slack's 3 s.
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        row = (request_id, user_id, action, channel_id, _iso(self._clock()))
        self._click_rows.append((row, future))
        self._flush_clicks_soon()
        return await future

    async def click_handled(self, click_id: int) -> None:
        """Mark a click handled; written with the next batch of clicks (a lost mark only makes
        the start-up check look at the audit trail, which shows the click was taken)."""
        self._handled_clicks.append(click_id)
        self._flush_clicks_soon()

    def _flush_clicks_soon(self) -> None:
        if self._click_flusher is None or self._click_flusher.done():
            self._click_flusher = asyncio.create_task(self._flush_clicks(), name="click-log")

    async def _flush_clicks(self) -> None:
        while self._click_rows or self._handled_clicks:
            rows, self._click_rows = self._click_rows, []
            handled, self._handled_clicks = self._handled_clicks, []
            ids: list[int] = []
            try:
                async with self._transaction():
                    for row, _future in rows:
                        cursor = await self._db.execute(
                            "INSERT INTO clicks (request_id, user_id, action, channel_id,"
                            " received_at) VALUES (?, ?, ?, ?, ?)",
                            row,
                        )
                        ids.append(int(cursor.lastrowid or 0))
                    now = _iso(self._clock())
                    await self._db.executemany(
                        "UPDATE clicks SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                        [(now, click_id) for click_id in handled],
                    )
            except Exception as exc:
                logger.warning("could not write %d click(s): %s", len(rows), type(exc).__name__)
                for _row, future in rows:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_row, future), click_id in zip(rows, ids, strict=True):
                if not future.done():
                    future.set_result(click_id)

    async def drop_unhandled_clicks(self, received_before: datetime) -> int:
        """Clicks acknowledged to Slack but never handled (the process died in between): each
        clicker gets a direct message saying their click was not taken. Returns how many."""
        now = _iso(self._clock())
        async with self._transaction():
            before = _iso(received_before)
            rows = list(
                await self._db.execute_fetchall(
                    # A click whose effect is in the audit trail was taken: only its done mark
                    # was lost with the process.
                    "SELECT c.id, c.request_id, c.user_id FROM clicks c JOIN requests r"
                    " ON r.id = c.request_id WHERE c.handled_at IS NULL AND c.received_at < ?"
                    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = c.request_id"
                    " AND e.at >= c.received_at AND (e.actor = c.user_id OR (c.action = 'retry'"
                    " AND e.kind IN ('cancel_sent', 'cancel_settling'))))",
                    (before,),
                )
            )
            await self._db.execute(
                "UPDATE clicks SET handled_at = ? WHERE handled_at IS NULL AND received_at < ?",
                (now, before),
            )
            for row in rows:
                await self._add_event(
                    row["request_id"], now, EventKind.CLICK_LOST, row["user_id"], None
                )
                await self._enqueue(
                    row["request_id"], (MessageKind.DM_CLICK_LOST,), now, recipient=row["user_id"]
                )
        if rows and self._on_enqueue is not None:
            self._on_enqueue()
        return len(rows)

    async def history_of_order(self, order_id: str, limit: int = 20) -> list[CancelRequest]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE order_id = ? ORDER BY created_at DESC LIMIT ?",
            (order_id, limit),
        )
        return [_to_request(row) for row in rows]

    async def find_requests(
        self,
        *,
        statuses: Iterable[RequestStatus] = (),
        channel_id: str | None = None,
        requester_id: str | None = None,
        limit: int = 50,
    ) -> list[CancelRequest]:
        """Newest first, filtered by whichever criteria are given (audit views, App Home)."""
        wanted = [s.value for s in statuses]
        clauses: list[str] = []
        values: list[Any] = []
        if wanted:
            clauses.append(f"status IN ({', '.join('?' for _ in wanted)})")
            values.extend(wanted)
        if channel_id is not None:
            clauses.append("channel_id = ?")
            values.append(channel_id)
        if requester_id is not None:
            clauses.append("requester_id = ?")
            values.append(requester_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._db.execute_fetchall(
            f"SELECT * FROM requests{where} ORDER BY created_at DESC LIMIT ?",  # noqa: S608
            (*values, limit),
        )
        return [_to_request(row) for row in rows]

    async def events_of(self, request_id: str) -> list[RequestEvent]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM events WHERE request_id = ? ORDER BY id", (request_id,)
        )
        return [
            RequestEvent(
                request_id=row["request_id"],
                at=datetime.fromisoformat(row["at"]),
                kind=row["kind"],
                actor=row["actor"],
                detail=row["detail"],
            )
            for row in rows
        ]

    async def record_event(
        self, request_id: str, kind: str, actor: str | None = None, detail: Any = None
    ) -> None:
        now = _iso(self._clock())
        text = detail if detail is None or isinstance(detail, str) else json.dumps(detail)
        async with self._transaction():
            await self._add_event(request_id, now, kind, actor, text)

    async def _add_event(
        self, request_id: str, at: str, kind: str, actor: str | None, detail: str | None
    ) -> None:
        await self._db.execute(
            "INSERT INTO events (request_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)",
            (request_id, at, kind, actor, detail),
        )

    async def _enqueue(
        self,
        request_id: str,
        kinds: Iterable[MessageKind],
        now: str,
        *,
        recipient: str | None = None,
    ) -> bool:
        queued = False
        for kind in kinds:
            await self._db.execute(
                "INSERT INTO outbox (request_id, kind, attempt, created_at, next_try_at,"
                " recipient) SELECT id, ?, attempts, ?, ?, ? FROM requests WHERE id = ?",
                (kind.value, now, now, recipient, request_id),
            )
            queued = True
        return queued

    async def _enqueue_notices(self, request_id: str, event: str, now: str) -> bool:
        """Queue the direct messages the notice policy asks for after a change."""
        if self._notices is None:
            return False
        row = _first(
            await self._db.execute_fetchall("SELECT * FROM requests WHERE id = ?", (request_id,))
        )
        if row is None:
            return False
        queued = False
        for kind, recipient in self._notices(_to_request(row), event):
            queued = await self._enqueue(request_id, (kind,), now, recipient=recipient) or queued
        return queued

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._write_lock)


class _Transaction:
    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._db = db
        self._lock = lock

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            await self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")
        finally:
            self._lock.release()


async def _add_missing_columns(db: aiosqlite.Connection) -> None:
    """Bring a database file from an earlier version up to date (nullable columns only)."""
    await db.execute("BEGIN IMMEDIATE")  # two processes opening one old file: one adds
    try:
        for table, columns in (("requests", ADDED_COLUMNS), ("outbox", ADDED_OUTBOX_COLUMNS)):
            async with db.execute(f"PRAGMA table_info({table})") as cursor:
                present = {row["name"] for row in await cursor.fetchall()}
            for name, sql_type in columns:
                if name not in present:
                    await db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
            if table == "outbox" and "recipient" not in present:
                # Undelivered replies of the earlier version also meant a redraw: keep it.
                await db.execute(
                    "INSERT INTO outbox (request_id, kind, attempt, created_at, next_try_at)"
                    " SELECT request_id, 'redraw', attempt, created_at, next_try_at FROM outbox"
                    " WHERE delivered_at IS NULL AND kind IN (?, ?, ?, ?)",
                    _KINDS_THAT_REDREW,
                )
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")


def _open_and_close(path: str) -> None:
    sqlite3.connect(path).close()


# Reads use execute_fetchall: statement and fetch run in one hop of aiosqlite's thread. With a
# separate execute and fetch, another task's BEGIN IMMEDIATE could slip in while the SELECT still
# held its read snapshot, and SQLite then answers "database is locked" at once (no busy wait).
def _first(rows: Iterable[aiosqlite.Row]) -> aiosqlite.Row | None:
    return next(iter(rows), None)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _to_request(row: aiosqlite.Row) -> CancelRequest:
    data = dict(row)
    for column in _DATETIME_COLUMNS:
        if data[column] is not None:
            data[column] = datetime.fromisoformat(data[column])
    data["status"] = RequestStatus(data["status"])
    if data["preview_order"] is not None:
        data["preview_order"] = CustomerOrder.model_validate_json(data["preview_order"])
    return CancelRequest(**data)
