"""The preview snapshot in the store, and a database file from before previews still opens."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.domain.events import EventKind
from bot.domain.preview import PreviewState, preview_of
from bot.soget.models import CustomerOrder
from bot.storage.schema import ADDED_COLUMNS
from bot.storage.store import Store

# The requests table as the first release created it (bot/storage.py at commit c3c8dbf).
FIRST_RELEASE_SCHEMA = """
CREATE TABLE requests (
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
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL REFERENCES requests (id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT,
    detail TEXT
);
INSERT INTO requests (id, order_id, channel_id, requester_id, status, created_at, updated_at)
VALUES ('old1', 'CDE0000000001', 'C1', 'U1', 'pending',
        '2026-01-01T00:00:00.000000+00:00', '2026-01-01T00:00:00.000000+00:00');
"""

ORDER = CustomerOrder.model_validate(
    {
        "customerOrderId": "CDE0000000002",
        "type": "Master",
        "status": "Submitted",
        "transportOrderNumber": "TOC-1",
        "container": {"reference": "CGMU2436601", "type": "45G1"},
        "carrier": {"code": "CAR01", "name": "Carrier One"},
        "date": "2026-11-20T08:00:00Z",
    }
)


def _columns(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute("PRAGMA table_info(requests)")}


async def test_a_first_release_database_opens_and_gets_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(FIRST_RELEASE_SCHEMA)
    assert not {name for name, _ in ADDED_COLUMNS} & _columns(path)

    store = await Store.open(path)
    try:
        old = await store.get("old1")
        assert old is not None and old.order_id == "CDE0000000001"
        assert (old.preview_state, old.preview_order, old.preview_at) == (None, None, None)
        new = await store.create_request(
            order_id="CDE0000000002", channel_id="C1", requester_id="U1", reason=""
        )
        at = datetime(2026, 11, 25, tzinfo=UTC)
        await store.update_fields(
            new.id, event=EventKind.PREVIEWED, **preview_of(ORDER).columns(at)
        )
        stored = await store.get(new.id)
        assert stored is not None and stored.preview_state == PreviewState.WARNING
    finally:
        await store.close()

    assert {name for name, _ in ADDED_COLUMNS} <= _columns(path)
    reopened = await Store.open(path)  # a second open finds nothing to add
    await reopened.close()


async def test_preview_snapshot_round_trip(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    try:
        request = await store.create_request(
            order_id="CDE0000000002", channel_id="C1", requester_id="U1", reason="r"
        )
        at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
        await store.update_fields(
            request.id, event=EventKind.PREVIEWED, detail="preview warning: R0008",
            **preview_of(ORDER).columns(at),
        )  # fmt: skip
        stored = await store.get(request.id)
        events = await store.events_of(request.id)
    finally:
        await store.close()

    assert stored is not None
    assert (stored.preview_state, stored.preview_code, stored.preview_failure) == (
        "warning",
        "R0008",
        None,
    )
    assert stored.preview_order == ORDER
    assert stored.preview_at == at
    assert (events[-1].kind, events[-1].detail) == ("previewed", "preview warning: R0008")
