"""Persistence: requests, decisions, the audit trail, the Slack outbox, clicks and leases, in
SQLite through aiosqlite. Every state change is one conditional UPDATE in one transaction.

May import: `bot.domain`, `bot.soget` models. Never Slack, never services.
"""
