"""Background work: approved cancels, read-backs of unknown outcomes, take-over of interrupted
cancels, reminders, expiry, and the Slack outbox.

Everything the loop does is found in the database, not in memory: a restart, or another
instance on the same database, picks up exactly what is due, and the claims in the store make
one instance do each piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.domain.requests import CancelRequest
from bot.observability.logs import bind_request, request_context
from bot.services.decisions import RequestDecisions
from bot.services.execution import CancelExecution
from bot.services.outbox import Deliverer

logger = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 30.0

# A stop (SIGTERM, SIGINT) waits this long for cancels in flight: a DELETE still waiting for
# MouvONE then is left under its lease, like after a crash, and the process ends within
# seconds (Docker kills a container 10 s after asking it to stop).
STOP_GRACE_SECONDS = 3.0


class CancelRunner:
    """Owns the background tasks: one per cancel or read-back, plus one sweep loop."""

    def __init__(
        self,
        decisions: RequestDecisions,
        execution: CancelExecution,
        deliverer: Deliverer,
        *,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
    ) -> None:
        self._decisions = decisions
        self._execution = execution
        self._deliverer = deliverer
        self._sweep_seconds = sweep_seconds
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    def launch(self, request_id: str) -> asyncio.Task[None]:
        """Send the cancel of an approved request (or an approver's Retry) in the background."""
        return self._spawn(request_id, self._execution.execute, "cancel")

    def kick(self) -> None:
        """Run the sweep now (queued Slack messages, due work) rather than at the next tick."""
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="background-sweep")
        self.kick()

    async def stop(self, timeout: float = STOP_GRACE_SECONDS) -> None:
        """Let running cancels finish for `timeout` seconds; what is cut off is taken over once
        its lease runs out (by the next start or another instance), read back first, never
        resent blindly."""
        if self._loop_task is not None:
            # Let a sweep in progress finish its Slack calls (a call cut off leaves a claim
            # that holds its message back until the claim runs out), then end the loop.
            self._stopping = True
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._loop_task), timeout=10)
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks.values()), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2)
        # One last delivery of what the finished cancels queued; the rest waits for a restart.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._deliverer.deliver_due(), timeout=5)

    async def sweep(self) -> None:
        """One pass over everything due. Each step's failure is logged; the others still run."""
        steps: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            ("expiry", self._decisions.expire_overdue),
            ("reminders", self._decisions.remind_overdue),
            ("take-over", self._take_over),
            ("read-backs", self._settle_due),
            ("approved cancels", self._start_approved),
            ("lost clicks", self._decisions.drop_lost_clicks),
            ("outbox", self._deliverer.deliver_due),
        )
        for name, step in steps:
            try:
                await step()
            except Exception:
                logger.exception("background %s failed; trying again at the next sweep", name)

    async def _loop(self) -> None:
        while not self._stopping:
            await self.sweep()
            wait = self._sweep_seconds
            with contextlib.suppress(Exception):
                for due in (
                    await self._deliverer.seconds_until_next(),
                    await self._execution.seconds_until_background_due(),
                ):
                    if due is not None:
                        wait = min(wait, max(due, 0.01))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def _take_over(self) -> None:
        if await self._execution.take_over_orphans():
            self.kick()

    async def _settle_due(self) -> None:
        for request in await self._execution.settles_due():
            self._spawn(request.id, self._execution.settle_unknown, "settle")

    async def _start_approved(self) -> None:
        for request in await self._execution.approved_not_started():
            if request.id not in self._tasks:
                with request_context(request.id):
                    logger.info("picking up the approved cancel of request %s", request.id)
            self.launch(request.id)

    def _spawn(
        self,
        request_id: str,
        work: Callable[[str], Awaitable[CancelRequest | None]],
        what: str,
    ) -> asyncio.Task[None]:
        running = self._tasks.get(request_id)
        if running is not None and not running.done():
            return running  # this process already drives the request
        task = asyncio.create_task(self._run(request_id, work, what), name=f"{what}-{request_id}")
        self._tasks[request_id] = task
        task.add_done_callback(lambda done: self._forget(request_id, done))
        return task

    def _forget(self, request_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(request_id) is task:
            del self._tasks[request_id]

    async def _run(
        self,
        request_id: str,
        work: Callable[[str], Awaitable[CancelRequest | None]],
        what: str,
    ) -> None:
        bind_request(request_id)  # this task's log lines are about this request
        try:
            await work(request_id)
        except Exception:
            # The request stays in the store as it was; its lease runs out and it is taken over.
            logger.exception("%s of request %s failed inside the bot", what, request_id)
        self.kick()
