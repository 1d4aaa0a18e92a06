"""The database's tables, and how a file written by an earlier version is brought up to date.

`SCHEMA` creates what is missing (`IF NOT EXISTS`); columns added after the first release are
added at open by `add_missing_columns`, nullable so that old rows stay valid.
"""

from __future__ import annotations

import aiosqlite

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
    # The request form's reason category (bot/slack/messages/request_form.py).
    ("reason_category", "TEXT"),
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


async def add_missing_columns(db: aiosqlite.Connection) -> None:
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


# -- Bulk requests (several orders, one approval): the second step of the schema -----------------
# One row per order of a bulk request, with that order's own state, attempts and outcome; a
# single-order request has no row here (its order is requests.order_id), so files written before
# this table existed need no backfill. `request_replies` holds the ts of a bulk request's one
# summary reply in its thread, edited in place as the orders' answers come in.
BULK_SCHEMA = """
CREATE TABLE IF NOT EXISTS request_orders (
    request_id TEXT NOT NULL REFERENCES requests (id),
    order_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome_code TEXT,
    outcome_failure TEXT,
    outcome_message TEXT,
    outcome_http_status INTEGER,
    outcome_note TEXT,
    outcome_at TEXT,
    settle_reads INTEGER NOT NULL DEFAULT 0,
    preview_state TEXT,
    preview_code TEXT,
    preview_failure TEXT,
    preview_order TEXT,
    PRIMARY KEY (request_id, order_id)
);
CREATE INDEX IF NOT EXISTS request_orders_by_order ON request_orders (order_id);
CREATE TABLE IF NOT EXISTS request_replies (
    request_id TEXT PRIMARY KEY REFERENCES requests (id),
    summary_ts TEXT
);
"""
