"""Runs approved cancels in the background and makes sure each outcome reaches Slack."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from bot.logging_setup import bind_request
from bot.publisher import SlackPublisher
from bot.requests import CancelRequest
from bot.service import CancelService

logger = logging.getLogger(__name__)


class CancelRunner:
    """Owns the background tasks: one per approved request, awaited at shutdown."""

    def __init__(self, service: CancelService, publisher: SlackPublisher) -> None:
        self._service = service
        self._publisher = publisher
        self._tasks: set[asyncio.Task[None]] = set()

    def launch(self, request_id: str) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(request_id), name=f"cancel-{request_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def resume(self) -> None:
        """After a start: finish what a previous run left half done, and say what it did."""
        for request in await self._service.outcomes_to_post():
            logger.info("posting the outcome of request %s left unposted", request.id)
            await self._publish(request)
        for request in await self._service.unfinished():
            logger.info("resuming the cancel of request %s (%s)", request.id, request.status)
            self.launch(request.id)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for running cancels to finish (at shutdown); what is left resumes at next start."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()

    async def _run(self, request_id: str) -> None:
        bind_request(request_id)  # this task's log lines are about this request
        try:
            request = await self._service.execute(request_id)
        except Exception:
            # The request stays approved/executing in the store and resumes at the next start.
            logger.exception("cancel of request %s failed inside the bot", request_id)
            return
        if request is not None:
            await self._publish(request)

    async def _publish(self, request: CancelRequest) -> None:
        try:
            await self._publisher.post_outcome(request)
        except SlackApiError as exc:
            logger.error(
                "could not post the outcome of request %s: %s; it stays queued",
                request.id,
                exc.response.get("error"),
            )
            return
        except Exception:
            logger.exception(
                "could not post the outcome of request %s; it stays queued", request.id
            )
            return
        await self._service.mark_outcome_posted(request.id)
