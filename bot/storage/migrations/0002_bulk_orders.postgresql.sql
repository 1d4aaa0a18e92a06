-- 0002_bulk_orders.sqlite.sql in PostgreSQL's words. Every text column is COLLATE "C" as in
-- 0001: besides byte-wise ordering like SQLite's, a join of request_orders.request_id with
-- requests.id (COLLATE "C") needs both sides in one collation, or PostgreSQL cannot compare them.
CREATE TABLE request_orders (
    request_id TEXT COLLATE "C" NOT NULL REFERENCES requests (id),
    order_id TEXT COLLATE "C" NOT NULL,
    position INTEGER NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    outcome_code TEXT COLLATE "C",
    outcome_failure TEXT COLLATE "C",
    outcome_message TEXT COLLATE "C",
    outcome_http_status INTEGER,
    outcome_note TEXT COLLATE "C",
    outcome_at TEXT COLLATE "C",
    settle_reads INTEGER NOT NULL DEFAULT 0,
    preview_state TEXT COLLATE "C",
    preview_code TEXT COLLATE "C",
    preview_failure TEXT COLLATE "C",
    preview_order TEXT COLLATE "C",
    PRIMARY KEY (request_id, order_id)
);
CREATE INDEX request_orders_by_order ON request_orders (order_id);
CREATE TABLE request_replies (
    request_id TEXT COLLATE "C" PRIMARY KEY REFERENCES requests (id),
    summary_ts TEXT COLLATE "C"
);
