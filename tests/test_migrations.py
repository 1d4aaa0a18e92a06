"""Numbered schema migrations on both engines: a file written by the last release before them
upgrades in place with every row kept, each migration runs once however many instances start
together, and a database newer than the code is refused with one line (exit 3)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from bot.domain.requests import MessageKind, OutboxMessage, RequestStatus
from bot.observability.check import check_database
from bot.storage.engine import Database, PostgresDatabase, SqliteDatabase, is_postgres_url
from bot.storage.schema import DatabaseTooNewError, add_missing_columns, migrations_for, statements
from bot.storage.store import Store
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget
from tests.ports import free_port
from tests.test_process_e2e import bot_env

# Written by the Store of main at 338a48f (the last release without numbered migrations): six
# requests in every status, with their events, approvals, queued/claimed/failed outbox messages
# and clicks (one handled), its journal folded back into the file.
MAIN_FILE = Path(__file__).parent / "data" / "main-338a48f.sqlite3"
TABLES = ("requests", "events", "outbox", "clicks", "approvals", "heartbeat")


def _rows(path: Path, table: str) -> list[dict[str, Any]]:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY rowid")]  # noqa: S608


async def test_a_file_written_by_the_last_release_upgrades_with_every_row_kept(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    shutil.copy(MAIN_FILE, path)
    before = {table: _rows(path, table) for table in TABLES}
    assert len(before["requests"]) == 6 and len(before["outbox"]) == 13

    store = await Store.open(path)
    try:
        statuses = {r.status for r in await store.find_requests(limit=100)}
        executing = await store.with_status(RequestStatus.EXECUTING)
        events = await store.events_of(executing[0].id)
    finally:
        await store.close()

    after = {table: _rows(path, table) for table in TABLES}
    for table in TABLES:
        if table == "heartbeat":
            continue  # rewritten by the open's write probe
        assert len(after[table]) == len(before[table]), table
        for old, new in zip(before[table], after[table], strict=True):
            assert {k: new[k] for k in old} == old, table
    assert {RequestStatus.SUCCEEDED, RequestStatus.REJECTED, RequestStatus.PENDING} <= statuses
    assert executing[0].lease_owner == "old-host"
    assert "cancel_sent" in [e.kind for e in events]
    assert _rows(path, "schema_migrations")[0]["version"] == 1

    reopened = await Store.open(path)  # nothing left to apply
    await reopened.close()
    assert len(_rows(path, "schema_migrations")) == len(migrations_for("sqlite"))


async def test_replicas_starting_together_apply_each_migration_once(
    db_location: Path | str,
) -> None:
    stores = await asyncio.gather(*(Store.open(db_location) for _ in range(4)))
    try:
        rows = await stores[0]._db.execute_fetchall(
            "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version"
        )
        assert [(row[0], row[1]) for row in rows] == [
            (m.version, 1) for m in migrations_for(stores[0].engine)
        ]
        created = await stores[1].create_request(
            order_id="CDE0000000001", channel_id="C1", requester_id="U1", reason=""
        )
        assert await stores[3].get(created.id) == created
    finally:
        for store in stores:
            await store.close()


async def test_a_replica_waits_for_the_lock_on_a_new_file_longer_than_sqlites_default(
    tmp_path: Path,
) -> None:
    """Another process holds the new file's lock for longer than sqlite3's default 5 s wait
    (a replica starting beside it on a busy machine, a backup): the bot waits, it does not
    fail with "database is locked"."""
    path = tmp_path / "bot.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    opening = asyncio.create_task(Store.open(path))
    await asyncio.sleep(5.5)
    assert not opening.done()  # waiting, not failed
    holder.execute("COMMIT")
    holder.close()

    store = await asyncio.wait_for(opening, timeout=10)
    try:
        created = await store.create_request(
            order_id="CDE0000000001", channel_id="C1", requester_id="U1", reason=""
        )
        assert await store.get(created.id) == created
    finally:
        await store.close()


async def test_a_database_newer_than_the_code_is_refused(db_location: Path | str) -> None:
    store = await Store.open(db_location)
    newer = len(migrations_for(store.engine)) + 1
    async with store._db.transaction():
        await store._db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (newer, "from_the_future", "2030-01-01T00:00:00+00:00"),
        )
    await store.close()

    with pytest.raises(DatabaseTooNewError) as raised:
        await Store.open(db_location)
    assert raised.value.found == newer
    assert "newer than this version of the bot" in str(raised.value)


async def test_the_bot_refuses_a_newer_database_with_one_line_and_exit_3(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, db_location: Path | str
) -> None:
    store = await Store.open(db_location)
    async with store._db.transaction():
        await store._db.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'x', 'y')"
        )
    await store.close()
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    if isinstance(db_location, str):
        env["DATABASE_URL"] = db_location
    else:
        env["DATABASE_PATH"] = str(db_location)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=30)

    text = err.decode()
    assert process.returncode == 3, text
    assert "Traceback" not in text
    [line] = [line for line in text.splitlines() if "cannot start" in line]
    assert "schema is at version 99" in line and text.rstrip().endswith(line)


async def test_an_unreachable_postgres_exits_3_without_the_password(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["DATABASE_URL"] = f"postgresql://bot:hunter2-secret@127.0.0.1:{free_port()}/db"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=30)

    text = err.decode()
    assert process.returncode == 3, text
    assert "hunter2-secret" not in text and "Traceback" not in text
    assert "postgresql://bot:***@127.0.0.1" in text


async def test_an_outbox_of_version_2_upgrades_and_a_claim_it_left_is_looked_for(
    db_location: Path | str,
) -> None:
    """Version 3 adds outbox.maybe_posted. A message an instance of the release before was
    sending when it died (its claim left behind) is maybe posted at its next claim, so it is
    looked for in Slack first; one never claimed is not."""
    db: Database
    if is_postgres_url(db_location):
        db = await PostgresDatabase.connect(str(db_location), max_size=1)
    else:
        db = await SqliteDatabase.connect(str(db_location))
    past = "2026-12-01T08:00:00.000000+00:00"
    try:
        async with db.transaction():
            for migration in migrations_for(db.engine)[:2]:
                for statement in statements(migration.sql):
                    await db.execute(statement)
                if migration.version == 1 and db.engine == "sqlite":
                    await add_missing_columns(db)
            await db.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            for version, name in ((1, "initial"), (2, "bulk_orders")):
                await db.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, past)
                )
            await db.execute(
                "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status,"
                " created_at, updated_at, message_ts) VALUES ('r1', 'CDE0000000001', 'C1', 'U1',"
                " '', 'rejected', ?, ?, '1.2')",
                (past, past),
            )
            for kind, claimed in (("rejection", past), ("dm_decided", None)):
                await db.execute(
                    "INSERT INTO outbox (request_id, kind, attempt, created_at, next_try_at,"
                    " claimed_by, claimed_until, recipient) VALUES ('r1', ?, 0, ?, ?, ?, ?, ?)",
                    (kind, past, past, claimed and "old-host", claimed, "U1"),
                )
    finally:
        await db.close()

    store = await Store.open(db_location)
    try:
        rows = await store._db.execute_fetchall(
            "SELECT id, kind, maybe_posted FROM outbox ORDER BY id"
        )
        assert [(row[1], row[2]) for row in rows] == [("rejection", 0), ("dm_decided", 0)]
        until = store.now() + timedelta(seconds=20)
        claims = [
            await store.claim_message(
                OutboxMessage(row[0], "r1", MessageKind(row[1]), 0, 0, "U1"), "new-host", until
            )
            for row in rows
        ]
        assert [c is not None and c.maybe_posted for c in claims] == [True, False]
        versions = await store._db.execute_fetchall("SELECT max(version) FROM schema_migrations")
        assert versions[0][0] == 3
    finally:
        await store.close()


def test_each_engine_has_a_complete_numbered_series() -> None:
    for engine in ("sqlite", "postgresql"):
        found = migrations_for(engine)
        assert [m.version for m in found] == list(range(1, len(found) + 1))
        assert all(statements(m.sql) for m in found)
    assert "GENERATED BY DEFAULT AS IDENTITY" in migrations_for("postgresql")[0].sql
    assert "AUTOINCREMENT" in migrations_for("sqlite")[0].sql


def test_a_postgres_url_selects_postgres_in_settings(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    url = "postgresql://bot:pw@db:5432/cob"
    settings = make_settings(fake_slack, fake_soget, url, database_pool_max_size=4)
    assert settings.database_location() == url
    assert settings.database_pool_max_size == 4
    assert make_settings(fake_slack, fake_soget, tmp_path / "x").database_location() == (
        tmp_path / "x"
    )
    with pytest.raises(ValueError, match="postgresql://"):
        make_settings(fake_slack, fake_soget, tmp_path, database_url="mysql://x")


async def test_postgres_row_locks_keep_a_quorum_of_two_exact(postgres_url: str) -> None:
    """Two last approvals at once on two instances: the second waits for the first's row lock
    and reads its approver, so exactly one reaches the quorum."""
    first, second = await Store.open(postgres_url), await Store.open(postgres_url)
    try:
        for n in range(10):
            request = await first.create_request(
                order_id=f"CDE00000001{n:02d}", channel_id="C1", requester_id="U1", reason=""
            )
            results = await asyncio.gather(
                first.approve(request.id, "U0A", required=2),
                second.approve(request.id, "U0B", required=2),
            )
            assert sorted(r.value for r, _ in results) == ["counted", "quorum"]
    finally:
        await first.close()
        await second.close()


async def test_the_check_command_probes_postgres_without_showing_the_password(
    fake_slack: FakeSlack, fake_soget: FakeSoget, postgres_url: str
) -> None:
    parts = urlsplit(postgres_url)
    with_password = urlunsplit(
        parts._replace(netloc=f"{parts.username}:s3cret-pw@{parts.hostname}:{parts.port}")
    )
    settings = make_settings(fake_slack, fake_soget, with_password)

    result = await check_database(settings)

    assert result.ok, result.detail
    assert "PostgreSQL 1" in result.detail and "s3cret-pw" not in result.detail
