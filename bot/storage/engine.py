"""The two database engines behind the Store: SQLite (aiosqlite, one connection, the default)
and PostgreSQL (asyncpg, a pool), with one small interface so that the Store's SQL runs on both.

The Store writes SQLite-flavoured SQL with `?` placeholders; the PostgreSQL engine numbers them
(`$1`, `$2`…) and turns `INSERT OR IGNORE` into `ON CONFLICT DO NOTHING`. Row locks
(`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`) are written for PostgreSQL and dropped on SQLite, whose
`BEGIN IMMEDIATE` already holds the whole database for the transaction. Times are ISO-8601 UTC
text on both engines, so comparisons and sorting are the same.

A write runs in `async with db.transaction():`; the statements inside it find the transaction's
connection by themselves (a ContextVar on PostgreSQL), so the call sites look alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, TypeAlias
from urllib.parse import urlsplit

import aiosqlite
import asyncpg

POSTGRES_SCHEMES = ("postgresql", "postgres")
# How long an SQLite statement waits for another connection's lock (another replica, a backup).
BUSY_TIMEOUT_SECONDS = 30.0

# The errors that mean "this database cannot be used" on either engine.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    TimeoutError,
)


class Row(Protocol):
    """A result row: by column name or position, and `dict(row)`."""

    def __getitem__(self, key: str | int, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> Iterable[str]: ...


class Result(Protocol):
    @property
    def rowcount(self) -> int: ...


class Database(Protocol):
    """What the Store needs from an engine."""

    engine: str  # "sqlite" or "postgresql"

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result: ...
    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...
    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Row]: ...
    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        """A write transaction: commits at the end of the block, rolls back on an error."""
        ...

    async def serialize(self, key: str) -> None:
        """Inside a transaction: wait for, then hold until its end, the lock named `key`
        (read-then-write steps that must not interleave across instances)."""
        ...

    async def close(self) -> None: ...


def is_postgres_url(location: object) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in POSTGRES_SCHEMES


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


_LOCK_CLAUSE = re.compile(r"\s+FOR\s+UPDATE(\s+OF\s+\w+)?(\s+SKIP\s+LOCKED|\s+NOWAIT)?", re.I)


@lru_cache(maxsize=512)
def sqlite_sql(sql: str) -> str:
    """Drop the PostgreSQL row locks: on SQLite the transaction holds the database."""
    return _LOCK_CLAUSE.sub("", sql)


@lru_cache(maxsize=512)
def postgres_sql(sql: str) -> str:
    """`?` → `$n` (outside quotes), `INSERT OR IGNORE` → `ON CONFLICT DO NOTHING`."""
    out: list[str] = []
    number = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            number += 1
            out.append(f"${number}")
            continue
        out.append(char)
    text = "".join(out)
    ignore = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.I)
    if ignore.search(text):
        text = ignore.sub("INSERT INTO", text)
        returning = re.search(r"\sRETURNING\s", text, re.I)
        if returning:
            text = f"{text[: returning.start()]} ON CONFLICT DO NOTHING{text[returning.start() :]}"
        else:
            text = f"{text.rstrip().rstrip(';')} ON CONFLICT DO NOTHING"
    return text


# -- SQLite ----------------------------------------------------------------------------------


class SqliteDatabase:
    """Two aiosqlite connections to one file. Writes go through one, one write transaction at a
    time (`BEGIN IMMEDIATE` under an asyncio lock here, SQLite's own lock and busy timeout
    across processes). Reads outside a transaction go through the other: in WAL mode it sees
    only committed data, so no task reads another task's half-made (or rolled back) change."""

    engine = "sqlite"

    def __init__(
        self, connection: aiosqlite.Connection, reader: aiosqlite.Connection | None = None
    ) -> None:
        self.connection = connection
        # None for ":memory:" (a second connection would open another, empty database).
        self._reader = reader
        self._write_lock = asyncio.Lock()
        # Set in the task that holds the write transaction: its own reads must see its writes.
        self._in_transaction: ContextVar[bool] = ContextVar("sqlite_in_transaction", default=False)

    @classmethod
    async def connect(cls, path: str) -> SqliteDatabase:
        # The busy timeout from the first statement on: switching a new file to WAL waits for
        # a replica starting beside it that holds the lock (sqlite3's default waits 5 s only).
        connection = await aiosqlite.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
        )
        reader: aiosqlite.Connection | None = None
        try:
            connection.row_factory = aiosqlite.Row
            await connection.execute("PRAGMA journal_mode=WAL")
            # FULL: an approval acknowledged to Slack must survive a power cut, not only a crash.
            await connection.execute("PRAGMA synchronous=FULL")
            await connection.execute("PRAGMA foreign_keys=ON")
            if path != ":memory:":
                reader = await aiosqlite.connect(
                    path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
                )
                reader.row_factory = aiosqlite.Row
                await reader.execute("PRAGMA query_only=ON")
        except BaseException:
            if reader is not None:
                await reader.close()
            await connection.close()
            raise
        return cls(connection, reader)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        return await self.connection.execute(sqlite_sql(sql), tuple(params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.connection.executemany(sqlite_sql(sql), [tuple(row) for row in rows])

    # Reads use execute_fetchall: statement and fetch run in one hop of aiosqlite's thread, so
    # the read snapshot ends with the statement (a snapshot held open would keep the writer's
    # BEGIN IMMEDIATE from being answered at once, and the WAL from being checkpointed).
    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Row]:
        reader = self.connection
        if self._reader is not None and not self._in_transaction.get():
            reader = self._reader
        return list(await reader.execute_fetchall(sqlite_sql(sql), tuple(params)))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self._write_lock:
            await self._begin()
            marked = self._in_transaction.set(True)
            try:
                try:
                    yield
                except BaseException:
                    # A failed statement or COMMIT (SQLITE_FULL, BUSY) can leave it open.
                    if self.connection.in_transaction:
                        await self.connection.execute("ROLLBACK")
                    raise
                try:
                    await self.connection.execute("COMMIT")
                except BaseException:
                    if self.connection.in_transaction:
                        await self.connection.execute("ROLLBACK")
                    raise
            finally:
                self._in_transaction.reset(marked)

    async def _begin(self) -> None:
        """`BEGIN IMMEDIATE`, which may wait (busy timeout) for another process's write. A task
        cancelled meanwhile (a drain, a timeout) must not leave it behind: aiosqlite's thread
        runs the statement anyway, and the connection would then sit in a transaction nobody
        ends, refusing every later one. So the BEGIN is awaited to its end and rolled back."""
        begin = asyncio.ensure_future(self.connection.execute("BEGIN IMMEDIATE"))
        try:
            await asyncio.shield(begin)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await begin
                if self.connection.in_transaction:
                    await self.connection.execute("ROLLBACK")
            raise

    async def serialize(self, key: str) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` holds the whole database already."""

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        await self.connection.close()


# -- PostgreSQL ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Status:
    """asyncpg answers a command with its status line (`UPDATE 1`, `INSERT 0 1`)."""

    status: str

    @property
    def rowcount(self) -> int:
        last = self.status.rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else -1


_Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"


class PostgresDatabase:
    """An asyncpg pool. A transaction takes one pooled connection for its whole block; the
    statements inside it find that connection through a ContextVar. Isolation is PostgreSQL's
    READ COMMITTED: each conditional UPDATE re-checks its condition on the row it waited for,
    so of two instances racing for a request exactly one moves it."""

    engine = "postgresql"

    def __init__(self, pool: asyncpg.Pool[asyncpg.Record]) -> None:
        self.pool = pool
        self._current: ContextVar[_Connection | None] = ContextVar(
            f"pg-transaction-{id(self)}", default=None
        )

    @classmethod
    async def connect(
        cls, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 10.0
    ) -> PostgresDatabase:
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            command_timeout=60,
            # Statement caches are per connection; the Store's SQL is a few dozen texts.
            server_settings={"application_name": "cancel-order-bot", "timezone": "UTC"},
        )
        return cls(pool)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> Result:
        query = postgres_sql(sql)
        connection = self._current.get()
        if connection is not None:
            return _Status(await connection.execute(query, *params))
        async with self.pool.acquire() as pooled:
            return _Status(await pooled.execute(query, *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(row) for row in rows]
        if not batch:
            return
        query = postgres_sql(sql)
        connection = self._current.get()
        if connection is not None:
            await connection.executemany(query, batch)
            return
        async with self.pool.acquire() as pooled:
            await pooled.executemany(query, batch)

    async def execute_fetchall(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Row]:
        query = postgres_sql(sql)
        connection = self._current.get()
        if connection is not None:
            return list(await connection.fetch(query, *params))
        async with self.pool.acquire() as pooled:
            return list(await pooled.fetch(query, *params))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        if self._current.get() is not None:
            raise RuntimeError("a transaction is already open in this task")
        async with self.pool.acquire() as connection, connection.transaction():
            token = self._current.set(connection)
            try:
                yield
            finally:
                self._current.reset(token)

    async def serialize(self, key: str) -> None:
        await self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))

    async def close(self) -> None:
        await self.pool.close()
