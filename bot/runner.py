"""Background work: approved cancels, the Slack outbox, and expiry of stale requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.delivery import Deliverer
from bot.logging_setup import bind_request
from bot.requests import RequestStatus
from bot.service import CancelService

logger = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 30.0
DEFAULT_SETTLE_AFTER_SECONDS = 30.0


class CancelRunner:
    """Owns the background tasks: one per cancel, plus one loop for the outbox and expiry."""

    def __init__(
        self,
        service: CancelService,
        deliverer: Deliverer,
        *,
        sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
        settle_after_seconds: float = DEFAULT_SETTLE_AFTER_SECONDS,
    ) -> None:
        self._service = service
        self._deliverer = deliverer
        self._sweep_seconds = sweep_seconds
        self._settle_after = settle_after_seconds
        # Scheduled reads of unanswered cancels: dropped at stop (Retry stays offered).
        self._settles: set[asyncio.Task[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    def launch(self, request_id: str, *, resume: bool = False) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(request_id, resume), name=f"cancel-{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def kick(self) -> None:
        """Deliver queued Slack messages now rather than at the next sweep."""
        self._wake.set()

    async def start(self) -> None:
        """Resume what a previous run left unfinished, then start the outbox/expiry loop."""
        for request in await self._service.unfinished():
            logger.info("resuming the cancel of request %s (%s)", request.id, request.status)
            self.launch(request.id, resume=True)
        # A check scheduled by a previous run died with it: read those orders once more.
        for request in await self._service.unknown():
            self._schedule_settle(request.id)
        self._loop_task = asyncio.create_task(self._loop(), name="outbox-and-expiry")
        self.kick()

    async def stop(self, timeout: float = 30.0) -> None:
        """Let running cancels finish (what is left resumes at next start), then stop the loop."""
        for settle in set(self._settles):
            settle.cancel()
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            # One last delivery of what the finished cancels queued; the rest waits for a restart.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._deliverer.deliver_due(), timeout=5)

    async def _loop(self) -> None:
        while True:
            wait = self._sweep_seconds
            try:
                await self._service.expire_overdue()
                await self._service.remind_overdue()
                await self._deliverer.deliver_due()
                next_due = await self._deliverer.seconds_until_next()
                if next_due is not None:
                    wait = min(wait, max(next_due, 0.01))
            except Exception:
                logger.exception("outbox/expiry sweep failed; trying again at the next sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def _run(self, request_id: str, resume: bool) -> None:
        bind_request(request_id)  # this task's log lines are about this request
        try:
            done = await self._service.execute(request_id, resume=resume)
            if done is not None and done.status is RequestStatus.UNKNOWN:
                self._schedule_settle(request_id)
        except Exception:
            # The request stays approved/executing in the store and resumes at the next start.
            logger.exception("cancel of request %s failed inside the bot", request_id)
        self.kick()

    def _schedule_settle(self, request_id: str) -> None:
        task = asyncio.create_task(self._settle(request_id), name=f"settle-{request_id}")
        self._settles.add(task)
        task.add_done_callback(self._settles.discard)

    async def _settle(self, request_id: str) -> None:
        """One read of the order SETTLE_AFTER_SECONDS after a cancel got no answer."""
        bind_request(request_id)
        await asyncio.sleep(self._settle_after)
        try:
            await self._service.settle_unknown(request_id)
        except Exception:
            logger.exception("settling request %s failed inside the bot", request_id)
        self.kick()
