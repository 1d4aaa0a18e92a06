"""What every part of the Store shares: the database engine, the clock, and the writes that go
with any change (an audit event, queued Slack messages, listeners told)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from bot.domain.requests import CancelRequest, MessageKind, OrderItem
from bot.storage.engine import Database
from bot.storage.rows import first, to_order, to_request

Clock = Callable[[], datetime]
# Told of each committed change: the request as it now is, and the event's kind.
ChangeListener = Callable[[CancelRequest, str], None]
# The direct messages a change deserves: (kind, recipient user id) pairs.
NoticePolicy = Callable[[CancelRequest, str], Iterable[tuple[MessageKind, str]]]

logger = logging.getLogger(__name__)


def order_key(order_id: str) -> str:
    """The lock (`Database.serialize`) under which an order's duplicate guard reads and opens
    a request: two creations that name one order take turns."""
    return f"order {order_id}"


class StoreCore:
    """The state and helpers the Store's parts build on; not used on its own."""

    def __init__(self, db: Database, clock: Clock) -> None:
        # SQLite (one connection, BEGIN IMMEDIATE) or PostgreSQL (a pool): bot/storage/engine.py.
        self._db = db
        self._clock = clock
        self._on_enqueue: Callable[[], None] | None = None
        self._listeners: list[ChangeListener] = []
        self._notices: NoticePolicy | None = None

    def set_notice_policy(self, policy: NoticePolicy) -> None:
        """Which direct messages a committed change deserves; they are queued in the change's
        own transaction, so a crash or a Slack failure delays a notice but never loses it."""
        self._notices = policy

    def on_enqueue(self, listener: Callable[[], None]) -> None:
        """Called after a transaction that queued Slack messages has committed."""
        self._on_enqueue = listener

    def _enqueued(self) -> None:
        """Tell the `on_enqueue` listener: a committed transaction queued Slack messages."""
        if self._on_enqueue is not None:
            self._on_enqueue()

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

    async def _read_in_transaction(self, request_id: str) -> CancelRequest | None:
        """The request as the open transaction has just made it."""
        row = first(
            await self._db.execute_fetchall("SELECT * FROM requests WHERE id = ?", (request_id,))
        )
        if row is None:
            return None
        [request] = await self._with_orders([to_request(row)])
        return request

    async def _with_orders(self, requests: list[CancelRequest]) -> list[CancelRequest]:
        """The requests with the orders of the bulk ones (bot/storage/orders.py), one query."""
        if not requests:
            return requests
        ids = [r.id for r in requests]
        rows = await self._db.execute_fetchall(
            "SELECT * FROM request_orders WHERE request_id IN"  # noqa: S608
            f" ({', '.join('?' for _ in ids)}) ORDER BY request_id, position",
            ids,
        )
        found: dict[str, list[OrderItem]] = {}
        for row in rows:
            found.setdefault(str(row["request_id"]), []).append(to_order(row))
        return [replace(r, orders=tuple(found[r.id])) if r.id in found else r for r in requests]

    async def _enqueue_notices(self, request: CancelRequest, event: str, now: str) -> bool:
        """Queue the direct messages the notice policy asks for after a change."""
        if self._notices is None:
            return False
        queued = False
        for kind, recipient in self._notices(request, event):
            queued = await self._enqueue(request.id, (kind,), now, recipient=recipient) or queued
        return queued

    def _transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        """A write transaction; the statements inside it run in it (see engine.py)."""
        return self._db.transaction()
