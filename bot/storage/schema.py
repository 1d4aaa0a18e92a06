"""The database's tables: numbered migrations in `migrations/`, applied in order at open.

`NNNN_name.sql` runs on both engines; `NNNN_name.sqlite.sql` / `NNNN_name.postgresql.sql` are
the engine-specific variants where the dialects differ. The versions applied are recorded in
`schema_migrations`. One instance at a time migrates (a PostgreSQL advisory lock; SQLite's
`BEGIN IMMEDIATE`), in one transaction, so replicas starting together apply each migration
exactly once. A database newer than this code is refused.

Version 1 is the schema of the releases before numbered migrations: on SQLite its `CREATE … IF
NOT EXISTS` keeps an existing file's tables, and `add_missing_columns` then brings a file of an
earlier release up to date (nullable columns, the old outbox's redraws), with nothing lost.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

from bot.storage.engine import Database

MIGRATION_LOCK = "cancel-order-bot schema migrations"
_NAME = re.compile(r"^(\d{4})_(\w+?)(?:\.(sqlite|postgresql))?\.sql$")


class DatabaseTooNewError(Exception):
    """The database was migrated by a newer version of the bot than this one."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"its schema is at version {found}, newer than this version of the bot knows"
            f" ({known}): run the newer bot, or restore a backup taken before its upgrade"
        )
        self.found = found
        self.known = known


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations_for(engine: str) -> list[Migration]:
    """The migrations of `engine`, in order: per version, its engine variant or the shared
    file."""
    found: dict[int, tuple[str, str, bool]] = {}
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _NAME.match(entry.name)
        if match is None or match.group(3) not in (None, engine):
            continue
        version, specific = int(match.group(1)), match.group(3) is not None
        if version in found and found[version][2] and not specific:
            continue  # the engine's own variant wins over the shared file
        found[version] = (match.group(2), entry.read_text(encoding="utf-8"), specific)
    versions = sorted(found)
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1, 2, 3…; found {versions}")
    return [Migration(v, found[v][0], found[v][1]) for v in versions]


def statements(sql: str) -> list[str]:
    """The statements of a migration file, one by one (comments kept with their statement)."""
    out: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;") and _has_code(pending):
                out.append(pending.strip())
            pending = ""
    if _has_code(pending.rstrip(";")):
        out.append(pending.rstrip(";").strip())
    return out


def _has_code(sql: str) -> bool:
    return any(
        line.strip() and not line.strip().startswith("--") and line.strip() != ";"
        for line in sql.splitlines()
    )


async def migrate(db: Database) -> int:
    """Apply the migrations this database lacks; returns its version."""
    known = migrations_for(db.engine)
    async with db.transaction():
        await db.serialize(MIGRATION_LOCK)
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await db.execute_fetchall("SELECT max(version) FROM schema_migrations")
        current = int(rows[0][0] or 0) if rows else 0
        if current > len(known):
            raise DatabaseTooNewError(current, len(known))
        for migration in known[current:]:
            for statement in statements(migration.sql):
                await db.execute(statement)
            step = _AFTER.get((migration.version, db.engine))
            if step is not None:
                await step(db)
            await db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
        return max(current, len(known))


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


async def add_missing_columns(db: Database) -> None:
    """Bring a SQLite file of an earlier release up to date (nullable columns only), inside the
    migration's transaction."""
    for table, columns in (("requests", ADDED_COLUMNS), ("outbox", ADDED_OUTBOX_COLUMNS)):
        rows = await db.execute_fetchall(f"PRAGMA table_info({table})")
        present = {row["name"] for row in rows}
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


# Python steps run right after a migration's SQL, in its transaction: (version, engine) → step.
_AFTER: dict[tuple[int, str], Callable[[Database], Awaitable[None]]] = {
    (1, "sqlite"): add_missing_columns,
}
