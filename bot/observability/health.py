"""Whether the database still takes writes: what /healthz reports about it."""

from __future__ import annotations

import asyncio
import logging
import os
import time

from bot.storage.store import Store

logger = logging.getLogger(__name__)

# /healthz writes to the database; a success is reused this long (a flood of checks must not
# become a flood of fsyncs), a failure never.
HEALTH_PROBE_MAX_AGE_SECONDS = 5.0
HEALTH_PROBE_TIMEOUT_SECONDS = 2.0


def file_identity(path: os.PathLike[str] | str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class DatabaseProbe:
    """Reads and writes the open database on demand; notices a file deleted or replaced."""

    def __init__(self, store: Store, path: os.PathLike[str] | str | None) -> None:
        """`path`: the SQLite file, watched for replacement; None for PostgreSQL."""
        self._store = store
        self._path = path
        self._identity = file_identity(path) if path is not None else None
        self._probe: asyncio.Task[str] | None = None
        self._ok_at: float | None = None

    async def state(self) -> str:
        """ "ok", "unreachable", "not writable", "not answering" or "replaced"."""
        now = time.monotonic()
        if self._ok_at is not None and now - self._ok_at < HEALTH_PROBE_MAX_AGE_SECONDS:
            return "ok"
        # One probe at a time, shielded: a write cut off halfway would leave its transaction
        # open on the shared connection.
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._run())
        try:
            state = await asyncio.wait_for(
                asyncio.shield(self._probe), timeout=HEALTH_PROBE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            return "not answering"
        self._ok_at = time.monotonic() if state == "ok" else None
        return state

    async def settle(self) -> None:
        """Let a probe under way finish (bounded) before the store closes."""
        probe = self._probe
        if probe is not None and not probe.done():
            await asyncio.wait({probe}, timeout=HEALTH_PROBE_TIMEOUT_SECONDS)

    async def _run(self) -> str:
        try:
            await self._store.ping()
        except Exception:
            return "unreachable"
        if (
            self._identity is not None
            and self._path is not None
            and file_identity(self._path) != self._identity
        ):
            # Deleted or replaced under the running bot: its writes go to a file nobody sees.
            return "replaced"
        try:
            await self._store.write_heartbeat()
        except Exception as exc:
            where = self._path if self._path is not None else self._store.engine
            logger.error("the database %s cannot take a write: %s", where, exc)
            return "not writable"
        return "ok"
