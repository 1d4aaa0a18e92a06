"""The two database engines for tests: a SQLite file, or a fresh PostgreSQL database per test.

PostgreSQL comes from TEST_DATABASE_URL (scripts/test.sh starts a throwaway server and sets it).
Each test gets its own empty schema, named in its URL (`?search_path=…`, which asyncpg passes on
as a server setting): the Store's migrations create the tables in it at open. A schema costs a
few milliseconds where a CREATE DATABASE from a template took 0.3 s on a busy machine.
Without TEST_DATABASE_URL the PostgreSQL
tests are skipped with one line saying how to get them, except under CI, where they fail: CI
must run them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

ENGINES = ("sqlite", "postgresql")
HOW_TO_GET_POSTGRES = (
    "PostgreSQL tests need TEST_DATABASE_URL; scripts/test.sh starts a throwaway PostgreSQL 15"
    " by itself (apt-get install postgresql-15)"
)
T = TypeVar("T")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def with_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, (parts.query, f"search_path={schema}")))
    return urlunsplit(parts._replace(query=query))


def schema_of(url: str) -> str:
    return urlsplit(url).query.rsplit("search_path=", 1)[1]


class PostgresServer:
    """Creates and drops per-test schemas, on its own event loop thread (so that the tests'
    event loops never hold its admin connection)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._names = itertools.count()
        self._prefix = f"cob_test_{os.getpid()}"
        self._admin: asyncpg.Connection | None = None
        self._run(self._prepare())

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=60)

    async def _prepare(self) -> None:
        self._admin = await asyncpg.connect(self.url, timeout=10)

    def create(self) -> str:
        """A new, empty schema; the URL that opens the database in it."""
        name = f"{self._prefix}_{next(self._names)}"

        async def create() -> None:
            assert self._admin is not None
            await self._admin.execute(f'CREATE SCHEMA "{name}"')

        self._run(create())
        return with_schema(self.url, name)

    def drop(self, url: str) -> None:
        name = schema_of(url)

        async def drop() -> None:
            assert self._admin is not None
            await self._admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

        self._run(drop())

    def close(self) -> None:
        async def close() -> None:
            if self._admin is not None:
                await self._admin.close()

        try:
            self._run(close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        if in_ci():
            pytest.fail(f"CI=true but TEST_DATABASE_URL is not set: {HOW_TO_GET_POSTGRES}")
        pytest.skip(HOW_TO_GET_POSTGRES)
    server = PostgresServer(url)
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema (the Store migrates it at open), dropped after."""
    url = postgres_server.create()
    yield url
    postgres_server.drop(url)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_location(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where a Store opens for this test: a SQLite file, or a fresh PostgreSQL database."""
    if engine == "sqlite":
        return tmp_path / "store.sqlite3"
    return str(request.getfixturevalue("postgres_url"))
