"""Reads of the records (an order's history, requests by status or person, the audit trail),
the audit trail's own entries, and the health probe's write."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.requests import CancelRequest, RequestEvent, RequestStatus
from bot.storage.core import StoreCore
from bot.storage.rows import iso, to_request


class RequestQueries(StoreCore):
    async def ping(self) -> bool:
        return bool(await self._read("SELECT 1"))

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
                    (iso(self._clock()),),
                )
                await self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (SQLITE_FULL, BUSY) can leave the transaction open.
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def with_status(self, *statuses: RequestStatus) -> list[CancelRequest]:
        placeholders = ", ".join("?" for _ in statuses)
        rows = await self._read(
            f"SELECT * FROM requests WHERE status IN ({placeholders})"  # noqa: S608
            " ORDER BY created_at",
            tuple(s.value for s in statuses),
        )
        return [to_request(row) for row in rows]

    async def history_of_order(self, order_id: str, limit: int = 20) -> list[CancelRequest]:
        rows = await self._read(
            "SELECT * FROM requests WHERE order_id = ? ORDER BY created_at DESC LIMIT ?",
            (order_id, limit),
        )
        return [to_request(row) for row in rows]

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
        rows = await self._read(
            f"SELECT * FROM requests{where} ORDER BY created_at DESC LIMIT ?",  # noqa: S608
            (*values, limit),
        )
        return [to_request(row) for row in rows]

    async def events_of(self, request_id: str) -> list[RequestEvent]:
        rows = await self._read(
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
        now = iso(self._clock())
        text = detail if detail is None or isinstance(detail, str) else json.dumps(detail)
        async with self._transaction():
            await self._add_event(request_id, now, kind, actor, text)
