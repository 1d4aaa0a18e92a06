"""The Slack outbox: messages queued with the change that calls for them, then claimed, sent and
marked by one instance at a time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.domain.events import EventKind
from bot.domain.requests import MessageKind, OutboxMessage
from bot.storage.core import StoreCore
from bot.storage.rows import first, iso

# How long a summary delivery refused because another one of its request is being sent waits.
SUMMARY_WAIT = timedelta(seconds=1)


def summary_key(request_id: str) -> str:
    """The lock (`Database.serialize`) under which a summary delivery of the request is claimed."""
    return f"summary {request_id}"


class OutboxRecords(StoreCore):
    async def due_messages(self, limit: int = 200) -> list[OutboxMessage]:
        """Undelivered Slack messages whose time has come and that no instance is sending,
        oldest first."""
        now = iso(self._clock())
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
        row = first(
            await self._db.execute_fetchall(
                "SELECT min(CASE WHEN claimed_until > next_try_at THEN claimed_until"
                " ELSE next_try_at END) FROM outbox"
                " WHERE delivered_at IS NULL"
            )
        )
        return datetime.fromisoformat(row[0]) if row is not None and row[0] else None

    async def undelivered_count(self, request_id: str | None = None) -> int:
        row = first(
            await self._db.execute_fetchall(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
                " AND (CAST(? AS TEXT) IS NULL OR request_id = ?)",
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
        now = iso(self._clock())
        async with self._transaction():
            if message.kind is MessageKind.SUMMARY and not await self._summary_free(message, now):
                return False
            # SKIP LOCKED (PostgreSQL): a row another instance is claiming right now is left
            # to it at once, not waited for; the conditions make the claim exclusive anyway.
            cursor = await self._db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?, tries = tries + 1"
                " WHERE id = (SELECT id FROM outbox WHERE id = ? AND delivered_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?) FOR UPDATE SKIP LOCKED)",
                (owner, iso(until), message.id, now),
            )
            return cursor.rowcount == 1

    async def _summary_free(self, message: OutboxMessage, now: str) -> bool:
        """A bulk request's summary reply is posted once, then edited: of its queued summary
        deliveries one at a time is claimed, by any instance, or two could both find no reply
        posted yet and both post one. Under the request's summary lock (PostgreSQL), a claim
        committed by another instance meanwhile is seen. A message refused here waits a moment
        (not in a tight loop) for the claimed one to be done."""
        await self._db.serialize(summary_key(message.request_id))
        row = first(
            await self._db.execute_fetchall(
                "SELECT min(claimed_until) FROM outbox WHERE request_id = ? AND kind = ?"
                " AND id <> ? AND delivered_at IS NULL AND claimed_until >= ?",
                (message.request_id, MessageKind.SUMMARY.value, message.id, now),
            )
        )
        if row is None or row[0] is None:
            return True
        retry_at = min(str(row[0]), iso(self._clock() + SUMMARY_WAIT))
        await self._db.execute(
            "UPDATE outbox SET next_try_at = ? WHERE id = ? AND delivered_at IS NULL",
            (retry_at, message.id),
        )
        return False

    async def message_delivered(self, message: OutboxMessage, *, outcome: bool) -> None:
        """Mark one Slack effect done. A redraw (or a bulk request's summary edit) renders the
        request's current state, so it also stands for the earlier ones still waiting."""
        now = iso(self._clock())
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET delivered_at = ?, claimed_until = NULL WHERE id = ?",
                (now, message.id),
            )
            if message.kind in (MessageKind.REDRAW, MessageKind.SUMMARY):
                await self._db.execute(
                    "UPDATE outbox SET delivered_at = ? WHERE request_id = ? AND kind = ?"
                    " AND id < ? AND delivered_at IS NULL"
                    " AND (claimed_until IS NULL OR claimed_until < ?)",
                    (now, message.request_id, message.kind.value, message.id, now),
                )
            if outcome:
                await self._db.execute(
                    "UPDATE requests SET outcome_posted_at = ? WHERE id = ?",
                    (now, message.request_id),
                )
                await self._add_event(message.request_id, now, EventKind.OUTCOME_POSTED, None, None)

    async def supersede_message(self, message: OutboxMessage, kinds: Iterable[MessageKind]) -> bool:
        """Mark `message` done without sending it if a newer message of `kinds`, for the same
        request and recipient, was queued after it (and no instance is sending it now).

        For effects rendered whole from the request's state when sent: sent now, the older one
        would say what the newer one says, the same message twice. The newest is never
        superseded, so one of them always goes out.
        """
        now = iso(self._clock())
        wanted = [kind.value for kind in kinds]
        placeholders = ", ".join("?" for _ in wanted)
        sql = (
            "UPDATE outbox SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL"  # noqa: S608 - placeholders only
            " AND (claimed_until IS NULL OR claimed_until < ?)"
            " AND EXISTS (SELECT 1 FROM outbox AS newer WHERE newer.request_id = ?"
            " AND newer.id > ? AND coalesce(newer.recipient, '') = coalesce(?, '')"
            f" AND newer.kind IN ({placeholders}))"
        )
        async with self._transaction():
            cursor = await self._db.execute(
                sql,
                (now, message.id, now, message.request_id, message.id, message.recipient, *wanted),
            )
            return cursor.rowcount == 1

    async def message_failed(self, message: OutboxMessage, error: str, retry_at: datetime) -> None:
        async with self._transaction():
            await self._db.execute(
                "UPDATE outbox SET last_error = ?, next_try_at = ?, claimed_until = NULL"
                " WHERE id = ?",
                (error[:500], iso(retry_at), message.id),
            )
