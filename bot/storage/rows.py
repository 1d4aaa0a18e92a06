"""How rows become requests and times become text, and the write transaction every change uses."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime

import aiosqlite

from bot.domain.requests import CancelRequest, OrderItem, OrderState, RequestStatus
from bot.soget.models import CustomerOrder
from bot.storage.schema import ADDED_COLUMNS

DATETIME_COLUMNS = (
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
UPDATABLE_COLUMNS = frozenset(
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


class Transaction:
    """`BEGIN IMMEDIATE` under the connection's write lock; commits, or rolls back on error."""

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


# Reads use execute_fetchall: statement and fetch run in one hop of aiosqlite's thread. With a
# separate execute and fetch, another task's BEGIN IMMEDIATE could slip in while the SELECT still
# held its read snapshot, and SQLite then answers "database is locked" at once (no busy wait).
def first(rows: Iterable[aiosqlite.Row]) -> aiosqlite.Row | None:
    return next(iter(rows), None)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_request(row: aiosqlite.Row) -> CancelRequest:
    data = dict(row)
    for column in DATETIME_COLUMNS:
        if data[column] is not None:
            data[column] = datetime.fromisoformat(data[column])
    data["status"] = RequestStatus(data["status"])
    if data["preview_order"] is not None:
        data["preview_order"] = CustomerOrder.model_validate_json(data["preview_order"])
    return CancelRequest(**data)


def to_order(row: aiosqlite.Row) -> OrderItem:
    data = dict(row)
    data.pop("request_id", None)
    data["state"] = OrderState(data["state"])
    if data["outcome_at"] is not None:
        data["outcome_at"] = datetime.fromisoformat(data["outcome_at"])
    if data["preview_order"] is not None:
        data["preview_order"] = CustomerOrder.model_validate_json(data["preview_order"])
    return OrderItem(**data)
