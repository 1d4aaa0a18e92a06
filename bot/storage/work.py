"""Background work on the records: expiry and reminders of pending requests, leases on
executing ones, read-backs of unknown outcomes, and when any of it is due next."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.events import EventKind
from bot.domain.requests import CancelRequest, MessageKind
from bot.storage.core import StoreCore
from bot.storage.rows import first, iso, to_request


class BackgroundWork(StoreCore):
    async def pending_created_before(self, cutoff: datetime) -> list[CancelRequest]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'pending' AND created_at < ?"
            " ORDER BY created_at",
            (iso(cutoff),),
        )
        return [to_request(row) for row in rows]

    async def pending_unreminded_before(self, cutoff: datetime) -> list[CancelRequest]:
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'pending' AND reminded_at IS NULL"
            " AND message_ts IS NOT NULL AND created_at < ? ORDER BY created_at",
            (iso(cutoff),),
        )
        return [to_request(row) for row in rows]

    async def mark_reminded(self, request_id: str) -> bool:
        """Queue the one reminder of a request still pending; False if it was sent or decided."""
        now = iso(self._clock())
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
        self._enqueued()
        return True

    async def renew_lease(self, request_id: str, owner: str, until: datetime) -> bool:
        """Extend `owner`'s lease on an EXECUTING request; False if it is no longer theirs."""
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE requests SET lease_until = ? WHERE id = ? AND status = 'executing'"
                " AND lease_owner = ?",
                (iso(until), request_id, owner),
            )
            return cursor.rowcount == 1

    async def orphaned_executions(self) -> list[CancelRequest]:
        """EXECUTING requests whose lease ran out: their instance died or stopped mid-way."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'executing'"
            " AND (lease_until IS NULL OR lease_until < ?) ORDER BY created_at",
            (iso(self._clock()),),
        )
        return [to_request(row) for row in rows]

    async def settles_due(self) -> list[CancelRequest]:
        """UNKNOWN requests whose order is due to be read back."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM requests WHERE status = 'unknown' AND settle_at IS NOT NULL"
            " AND settle_at <= ? ORDER BY settle_at",
            (iso(self._clock()),),
        )
        return [to_request(row) for row in rows]

    async def next_background_due_at(self, click_grace: timedelta) -> datetime | None:
        """The earliest planned read-back, lease expiry or unhandled click's deadline: when the
        sweep has work next."""
        row = first(
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
