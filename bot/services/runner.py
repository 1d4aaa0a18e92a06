"""Background work: approved cancels, read-backs of unknown outcomes, take-over of interrupted
cancels, reminders, expiry, and the Slack outbox.

Everything the loop does is found in the database, not in memory: a restart, or another
instance on the same database, picks up exactly what is due, and the claims in the store make
one instance do each piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from bot.domain.requests import CancelRequest
from bot.observability.logs import bind_request, request_context
from bot.services.decisions import RequestDecisions
from bot.services.execution import CancelExecution
from bot.services.outbox import Deliverer

logger = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 30.0
# The share of a drain kept for the last delivery of the outbox, at most this long.
FINAL_DELIVERY_SECONDS = 3.0
# How long stopped tasks get to unwind (give back a read-back, a Slack message) after the grace.
STOP_WAIT_SECONDS = 2.0
# A stop without a drain (a failed start, tests) waits this long for cancels in flight: a
# DELETE still waiting for MouvONE then is left under its lease, like after a crash. A SIGTERM
# drains instead, for SHUTDOWN_GRACE_SECONDS (BotRuntime.drain).
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
        self._draining = False
        self._drained = False

    @property
    def draining(self) -> bool:
        return self._draining

    def launch(self, request_id: str, *, retry: bool = False) -> asyncio.Task[None] | None:
        """Send the cancel of an approved request (or, `retry`, an approver's Retry) in the
        background.

        None while draining: the request waits in the database, and another instance's sweep
        (or this one's restart) sends it.
        """
        return self._spawn(
            request_id, functools.partial(self._execution.execute, retry=retry), "cancel"
        )

    def kick(self) -> None:
        """Run the sweep now (queued Slack messages, due work) rather than at the next tick."""
        self._wake.set()

    async def start(self) -> None:
        self._loop_task = asyncio.create_task(self._loop(), name="background-sweep")
        self.kick()

    def stop_claiming(self) -> None:
        """The drain's first step: no new cancel, read-back or sweep from now on."""
        if not self._draining:
            self._draining = True
            self._wake.set()

    async def drain(self, deadline: float) -> None:
        """Stop claiming work, let what runs finish, and be done by `deadline` (loop time).

        The sweep under way and the running cancels and read-backs get until a little before
        the deadline. Then what is left is stopped: a read-back gives its request back at
        once (another instance reads it now), a cancel keeps its lease until it runs out,
        since its DELETE may still be running at MouvONE; then another instance (or the next
        start) takes it over and reads the order back before anything else. Last, what the
        finished work queued for Slack is delivered, until the deadline; a message cut off
        is given back at once.
        """
        if self._drained:
            return
        self._drained = True
        self.stop_claiming()
        loop = asyncio.get_running_loop()
        reserve = min(FINAL_DELIVERY_SECONDS, max(deadline - loop.time(), 0.0) / 4)
        try:
            finished = await self._finish_running(deadline - reserve)
            # One last delivery of what the finished work queued; the rest waits for another
            # instance or the next start. Not after a delivery was cut off: Slack may have
            # taken that message, and this process would send it again at once.
            remaining = deadline - loop.time()
            if finished and remaining > 0:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._deliverer.deliver_due(), timeout=remaining)
        finally:
            # Cut short (a second signal): nothing of this runner outlives the drain.
            await self._finish_running(loop.time())

    async def _finish_running(self, until: float) -> bool:
        """Wait for the sweep and the tasks under way until `until` (loop time), then stop
        what is left and let it unwind (give back a read-back, a Slack message). True if
        nothing had to be stopped."""
        running = [t for t in (self._loop_task, *self._tasks.values()) if t and not t.done()]
        if not running:
            return True
        timeout = max(until - asyncio.get_running_loop().time(), 0.0)
        _done, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            logger.warning("drain: %d task(s) still running at the deadline, stopped", len(pending))
            await asyncio.wait(pending, timeout=STOP_WAIT_SECONDS)
        return not pending

    async def stop(self) -> None:
        """At shutdown, if no drain ran (tests, a failed start): the same, with a default grace."""
        await self.drain(asyncio.get_running_loop().time() + STOP_GRACE_SECONDS)

    async def sweep(self) -> None:
        """One pass over everything due. Each step's failure is logged; the others still run."""
        steps: tuple[tuple[str, Callable[[], Awaitable[object]]], ...] = (
            ("expiry", self._decisions.expire_overdue),
            ("reminders", self._decisions.remind_overdue),
            ("take-over", self._take_over),
            ("read-backs", self._settle_due),
            ("approved cancels", self._start_approved),
            ("lost clicks", self._decisions.drop_lost_clicks),
            ("requests never posted", self._decisions.withdraw_never_posted),
            ("outbox", self._deliverer.deliver_due),
        )
        for name, step in steps:
            try:
                await step()
            except Exception:
                logger.exception("background %s failed; trying again at the next sweep", name)

    async def _loop(self) -> None:
        while not self._draining:
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
    ) -> asyncio.Task[None] | None:
        running = self._tasks.get(request_id)
        if running is not None and not running.done():
            return running  # this process already drives the request
        if self._draining:
            logger.info(
                "draining: the %s of request %s is left to another instance", what, request_id
            )
            return None
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
