"""The Slack outbox: messages queued with the change that calls for them, then claimed, sent and
marked by one instance at a time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.domain.events import EventKind
from bot.domain.requests import SAME_WHEN_LATE, Claim, MessageKind, OutboxMessage
from bot.storage.core import StoreCore
from bot.storage.rows import first, iso

# How long a summary delivery refused because another one of its request is being sent waits.
SUMMARY_WAIT = timedelta(seconds=1)


def _quoted(kinds: Iterable[MessageKind]) -> str:
    return ", ".join(f"'{kind.value}'" for kind in sorted(kinds))


def _lane(table: str) -> str:
    """MessageKind.lane in SQL, for the kinds of _ORDERED."""
    dms = _quoted(kind for kind in MessageKind if kind.lane == "dm")
    return f"CASE WHEN {table}.kind IN ({dms}) THEN 'dm' ELSE 'thread' END"


# Kinds delivered strictly in order within their lane (MessageKind.lane), per recipient. A redraw
# or a summary edit renders the request's current state, and the newest stands for the older
# ones (`message_delivered`): those lanes are left out.
_ORDERED = _quoted(k for k in MessageKind if k.lane in ("dm", "thread"))
# `earlier` will be marked done unsent when its turn comes (`supersede_message`): a newer one
# of the kinds that stand for it, for the same recipient, was queued after it.
_SUPERSEDED = " OR ".join(
    f"(earlier.kind IN ({_quoted(kinds)}) AND EXISTS (SELECT 1 FROM outbox AS newer"  # noqa: S608 - MessageKind values only
    " WHERE newer.request_id = earlier.request_id AND newer.id > earlier.id"
    " AND coalesce(newer.recipient, '') = coalesce(earlier.recipient, '')"
    f" AND newer.kind IN ({_quoted(newer)})))"
    for newer, kinds in (
        (newer, [k for k, ks in SAME_WHEN_LATE.items() if ks == newer])
        for newer in dict.fromkeys(SAME_WHEN_LATE.values())
    )
)
# A message waits while an earlier one of its request, lane and recipient is undelivered and
# not due itself: being sent (claimed; a dead instance's claim runs out after its time), or
# waiting for its retry, unless it is to be superseded. An earlier one that is due comes first
# in the same `due_messages` batch, whose lane stops at its first failure.
_HELD_BACK = (
    f"outbox.kind IN ({_ORDERED}) AND EXISTS (SELECT 1 FROM outbox AS earlier"  # noqa: S608 - MessageKind values only
    " WHERE earlier.request_id = outbox.request_id AND earlier.id < outbox.id"
    f" AND earlier.delivered_at IS NULL AND earlier.kind IN ({_ORDERED})"
    f" AND {_lane('earlier')} = {_lane('outbox')}"
    " AND coalesce(earlier.recipient, '') = coalesce(outbox.recipient, '')"
    " AND (earlier.claimed_until >= ?"
    " OR (earlier.next_try_at > ?"
    " AND (earlier.claimed_until IS NULL OR earlier.claimed_until < ?)"
    f" AND NOT ({_SUPERSEDED}))))"
)


def summary_key(request_id: str) -> str:
    """The lock (`Database.serialize`) under which a summary delivery of the request is claimed."""
    return f"summary {request_id}"


class OutboxRecords(StoreCore):
    async def due_messages(self, limit: int = 200) -> list[OutboxMessage]:
        """Undelivered Slack messages whose time has come and that no instance is sending,
        oldest first; none held back behind an earlier one of its lane (`_HELD_BACK`)."""
        now = iso(self._clock())
        rows = await self._db.execute_fetchall(
            "SELECT id, request_id, kind, attempt, tries, recipient FROM outbox"  # noqa: S608 - constants only
            " WHERE delivered_at IS NULL AND next_try_at <= ?"
            f" AND (claimed_until IS NULL OR claimed_until < ?) AND NOT ({_HELD_BACK})"
            " ORDER BY id LIMIT ?",
            (now, now, now, now, now, limit),
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
        """When the next message is due. One held back is due when the earlier one that holds
        it is (that one counts itself), not now: no busy loop while it waits."""
        now = iso(self._clock())
        row = first(
            await self._db.execute_fetchall(
                "SELECT min(CASE WHEN claimed_until > next_try_at THEN claimed_until"  # noqa: S608 - constants only
                " ELSE next_try_at END) FROM outbox"
                f" WHERE delivered_at IS NULL AND NOT ({_HELD_BACK})",
                (now, now, now),
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

    async def claim_message(
        self, message: OutboxMessage, owner: str, until: datetime
    ) -> Claim | None:
        """Take one message for sending, unless it was delivered or another instance holds it.

        The claim is committed before the Slack call. A claim found still set (not cleared by
        `message_delivered` or `message_failed`) belonged to an attempt that died mid-call:
        Slack may have taken it, so the message is flagged `maybe_posted` and looked for in
        Slack before it is posted again (`Deliverer`).
        """
        now = iso(self._clock())
        async with self._transaction():
            if message.kind is MessageKind.SUMMARY and not await self._summary_free(message, now):
                return None
            # SKIP LOCKED (PostgreSQL): a row another instance is claiming right now is left
            # to it at once, not waited for; the conditions make the claim exclusive anyway.
            # SET reads the row as it was: a left-over claim marks the message maybe posted.
            cursor = await self._db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ?, tries = tries + 1,"
                " maybe_posted = CASE WHEN claimed_until IS NULL THEN maybe_posted ELSE 1 END"
                " WHERE id = (SELECT id FROM outbox WHERE id = ? AND delivered_at IS NULL"
                " AND (claimed_until IS NULL OR claimed_until < ?) FOR UPDATE SKIP LOCKED)",
                (owner, iso(until), message.id, now),
            )
            if cursor.rowcount != 1:
                return None
            if message.kind is MessageKind.SUMMARY:
                # One summary reply per request, whichever of its deliveries posted it: any
                # of them maybe posted, or left with a dead claim, may have done so.
                row = first(
                    await self._db.execute_fetchall(
                        "SELECT count(*) FROM outbox WHERE request_id = ? AND kind = ?"
                        " AND (maybe_posted = 1 OR (id <> ? AND claimed_until IS NOT NULL))",
                        (message.request_id, MessageKind.SUMMARY.value, message.id),
                    )
                )
            else:
                row = first(
                    await self._db.execute_fetchall(
                        "SELECT maybe_posted FROM outbox WHERE id = ?", (message.id,)
                    )
                )
            return Claim(maybe_posted=row is not None and bool(row[0]))

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

    async def supersede_message(self, message: OutboxMessage, *, owner: str) -> bool:
        """Mark `message`, claimed by `owner`, done without sending it if a newer message that
        stands for it (SAME_WHEN_LATE), for the same request and recipient, was queued after
        it. The rule is `_SUPERSEDED`, the one the lane order uses.

        For effects rendered whole from the request's state when sent: sent now, the older one
        would say what the newer one says, the same message twice. The newest is never
        superseded, so one of them always goes out.
        """
        now = iso(self._clock())
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE outbox SET delivered_at = ?, claimed_until = NULL"  # noqa: S608 - constants only
                " WHERE id IN (SELECT earlier.id"
                " FROM outbox AS earlier WHERE earlier.id = ? AND earlier.delivered_at IS NULL"
                f" AND earlier.claimed_by = ? AND ({_SUPERSEDED}))",
                (now, message.id, owner),
            )
            return cursor.rowcount == 1

    async def message_failed(
        self,
        message: OutboxMessage,
        error: str,
        retry_at: datetime,
        *,
        maybe_posted: bool = False,
    ) -> None:
        """Give the message back for a retry at `retry_at`. `maybe_posted`: the attempt may
        have reached Slack (timeout, lost connection, 5xx, stopped mid-call); the flag stays
        until the message is delivered, and the retry looks for it in Slack first."""
        flag = ", maybe_posted = 1" if maybe_posted else ""
        async with self._transaction():
            await self._db.execute(
                f"UPDATE outbox SET last_error = ?, next_try_at = ?, claimed_until = NULL{flag}"  # noqa: S608 - constants only
                " WHERE id = ?",
                (error[:500], iso(retry_at), message.id),
            )
