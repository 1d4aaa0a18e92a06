-- Bulk requests (several orders, one approval). One row per order of a bulk request, with that
-- order's own state, attempts and outcome; a single-order request has no row here (its order is
-- requests.order_id), so databases written before this table existed need no backfill.
-- `request_replies` holds the ts of a bulk request's one summary reply in its thread, edited in
-- place as the orders' answers come in. The primary key (request_id, order_id) serves the reads
-- of a request's orders and each order's claim; request_orders_by_order the duplicate guard and
-- an order's history.
CREATE TABLE request_orders (
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
CREATE INDEX request_orders_by_order ON request_orders (order_id);
CREATE TABLE request_replies (
    request_id TEXT PRIMARY KEY REFERENCES requests (id),
    summary_ts TEXT
);
