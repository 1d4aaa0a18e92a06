-- The schema of the releases before numbered migrations (CREATE … IF NOT EXISTS: a file
-- written by one of them keeps its tables). Columns added since the first release are added by
-- bot/storage/schema.py (add_missing_columns) right after this file, in the same transaction.
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

-- One row, rewritten by each health probe: proof that a write reaches the file now.
CREATE TABLE IF NOT EXISTS heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    beats INTEGER NOT NULL,
    at TEXT NOT NULL
);
