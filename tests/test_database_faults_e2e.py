"""Database faults are not hidden: a bad file stops the start, a failing write fails /healthz."""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bot.storage.store import Store
from tests.conftest import BotUnderTest
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget
from tests.ports import free_port
from tests.test_process_e2e import bot_env, running_bot


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(8192))


def _text_file(path: Path) -> None:
    path.write_text("orders,backup\nCDE0000000001,pending\n" * 200)


def _malformed_pages(path: Path) -> None:
    """A real database whose first page (the schema) was overwritten after its header."""
    asyncio.run(_make_database(path))
    with path.open("r+b") as file:
        file.seek(100)
        file.write(b"\xa5" * 4000)


async def _make_database(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


def _a_directory(path: Path) -> None:
    path.mkdir()


def _parent_is_a_file(path: Path) -> None:
    path.parent.rmdir()
    path.parent.write_text("not a folder")


@pytest.mark.parametrize(
    "spoil",
    [_random_bytes, _text_file, _malformed_pages, _a_directory, _parent_is_a_file],
    ids=["random-bytes", "text-file", "malformed-pages", "a-directory", "folder-is-a-file"],
)
async def test_a_bad_database_at_start_exits_with_one_line(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, spoil: Callable[[Path], None]
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    database = Path(env["DATABASE_PATH"])
    database.parent.mkdir(parents=True)
    await asyncio.to_thread(spoil, database)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:  # today: alive, never listening
            process.kill()
            await process.wait()

    text = err.decode()
    assert process.returncode == 3, text
    assert "Traceback" not in text
    [reason] = [line for line in text.splitlines() if "cannot start" in line]
    assert "database" in reason and str(database) in reason
    assert text.rstrip().endswith(reason)


async def _health(http: httpx.AsyncClient, url: str) -> httpx.Response:
    return await http.get(url + "/healthz", timeout=10)


async def _wait_health(
    http: httpx.AsyncClient, url: str, status: int, timeout: float = 15
) -> httpx.Response:
    """Poll /healthz until it answers `status` (a success may be reused for a few seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await _health(http, url)
        if response.status_code == status:
            return response
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/healthz stayed {response.status_code}: {response.text}")
        await asyncio.sleep(0.1)


@pytest.mark.skipif(sys.platform != "linux", reason="prlimit on another process is Linux's")
async def test_healthz_fails_while_the_disk_takes_no_write_and_recovers(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    url = f"http://127.0.0.1:{env['PORT']}"
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient() as http:
        assert (await _health(http, url)).json()["database"] == "ok"
        limits = resource.prlimit(process.pid, resource.RLIMIT_FSIZE)
        # No file of the bot may grow: a full disk, as SQLite sees it (root ignores modes).
        resource.prlimit(process.pid, resource.RLIMIT_FSIZE, (0, limits[1]))
        try:
            failing = await _wait_health(http, url, 503)
        finally:
            resource.prlimit(process.pid, resource.RLIMIT_FSIZE, limits)
        assert failing.json()["ok"] is False
        assert failing.json()["database"] == "not writable"

        recovered = await _wait_health(http, url, 200)
        assert recovered.json()["database"] == "ok"
        assert process.returncode is None


async def test_healthz_fails_while_another_process_holds_the_database(bot: BotUnderTest) -> None:
    path = bot.runtime.settings.database_path
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # e.g. a stuck backup job or a second bot on the file
        response = await _health(bot.http, bot.url)
        assert response.status_code == 503
        assert response.json()["database"] == "not answering"
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert (await _wait_health(bot.http, bot.url, 200)).json()["database"] == "ok"


async def test_healthz_fails_when_the_file_is_replaced_under_the_bot(
    bot: BotUnderTest, tmp_path: Path
) -> None:
    path = bot.runtime.settings.database_path
    assert (await _health(bot.http, bot.url)).status_code == 200
    replacement = tmp_path / "restored-backup.sqlite3"
    await _make_database(replacement)
    # The bot's connection keeps writing to the old, now nameless file: lost at the next start.
    os.replace(replacement, path)

    response = await _wait_health(bot.http, bot.url, 503)
    assert response.json()["database"] == "replaced"
