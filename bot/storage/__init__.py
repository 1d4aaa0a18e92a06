"""Persistence: requests, decisions, the audit trail, the Slack outbox, clicks and leases, in
SQLite through aiosqlite. Every state change is one conditional UPDATE in one transaction.

`Store` (store.py) is the one public face; its parts share one connection and one write lock
(core.py): the Slack outbox (outbox.py), background work (work.py), the click log (clicks.py),
reads (queries.py), the orders of bulk requests (orders.py; their tables are
schema.BULK_SCHEMA). schema.py holds the tables and the upgrade of older files; rows.py the
conversions and the write transaction.

May import: `bot.domain`, `bot.soget` models. Never Slack, never services.
"""
