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
