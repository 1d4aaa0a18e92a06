"""Fire-and-forget work (notices, App Home refreshes) that must still finish before shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guarded(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 10.0) -> None:
        """Let what runs finish (at shutdown); what is still running after `timeout` is dropped."""
        while self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                for task in pending:
                    task.cancel()
                return

    @staticmethod
    async def _guarded(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception:
            logger.exception("background task %s failed", name)


class InFlight:
    """Counts work under way that nobody else tracks (Slack requests being handled), so that a
    drain can wait until none is left."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def count(self) -> int:
        return self._count

    def enter(self) -> None:
        self._count += 1
        self._idle.clear()

    def leave(self) -> None:
        self._count = max(0, self._count - 1)
        if self._count == 0:
            self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:
        """True once nothing is under way; False if something still is after `timeout`."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=max(timeout, 0.0))
        except TimeoutError:
            return False
        return True
