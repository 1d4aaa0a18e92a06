"""Persistence: requests, decisions, the audit trail, the Slack outbox, clicks and leases, in
SQLite (aiosqlite) or PostgreSQL (asyncpg). Every state change is one conditional UPDATE in one
transaction.

`Store` (store.py) is the one public face; its parts share one engine (core.py, engine.py): the
Slack outbox (outbox.py), background work (work.py), the click log (clicks.py), reads
(queries.py), the orders of bulk requests (orders.py; their tables are migration
0002_bulk_orders). schema.py applies the numbered migrations of migrations/ (and upgrades files
of releases before them); rows.py holds the conversions.

May import: `bot.domain`, `bot.soget` models. Never Slack, never services.
"""
