"""The App Home tab: published when a user opens it, republished when a request they care about
changes (only for users who opened it since the start: the others see it fresh when they do)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.approval import ApproverDirectory, MembershipUnknownError
from bot.domain.requests import CancelRequest
from bot.i18n.language import UserLanguages
from bot.services.audit import Audit
from bot.services.background import BackgroundTasks
from bot.slack.messages.home import build_home_view
from bot.storage.store import utc_now

logger = logging.getLogger(__name__)

MAX_VIEWERS = 1000  # users whose home is kept up to date; beyond, the oldest are dropped


class HomeTab:
    def __init__(
        self,
        client: AsyncWebClient,
        audit: Audit,
        directory: ApproverDirectory,
        tasks: BackgroundTasks,
        languages: UserLanguages,
        *,
        allow_self_approval: bool,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._client = client
        self._audit = audit
        self._directory = directory
        self._tasks = tasks
        self._languages = languages
        self._allow_self_approval = allow_self_approval
        self._clock = clock
        self._viewers: dict[str, None] = {}  # insertion-ordered set
        self._queued: set[str] = set()
        self._running: set[str] = set()

    @property
    def viewers(self) -> tuple[str, ...]:
        return tuple(self._viewers)

    async def opened(self, user_id: str) -> None:
        self._viewers.pop(user_id, None)
        self._viewers[user_id] = None
        while len(self._viewers) > MAX_VIEWERS:
            del self._viewers[next(iter(self._viewers))]
        await self.publish(user_id)

    async def publish(self, user_id: str) -> None:
        is_approver = await self._is_approver(user_id)
        waiting = (
            await self._audit.waiting_for(user_id, allow_self_approval=self._allow_self_approval)
            if is_approver
            else []
        )
        view = build_home_view(
            is_approver=is_approver,
            waiting=waiting,
            mine=await self._audit.recent_of(user_id),
            updated_at=self._clock(),
            language=await self._languages.of(user_id),
        )
        try:
            await self._client.views_publish(user_id=user_id, view=view)
        except SlackApiError as exc:
            logger.warning(
                "could not publish the home of %s: %s", user_id, exc.response.get("error")
            )

    def on_change(self, request: CancelRequest, event: str) -> None:
        if self._viewers:
            self._tasks.spawn(self._refresh_for(request), name=f"home-{request.id}")

    async def _refresh_for(self, request: CancelRequest) -> None:
        for user_id in self.viewers:
            if user_id == request.requester_id or await self._is_approver(user_id):
                self._schedule(user_id)

    def _schedule(self, user_id: str) -> None:
        """One publish at a time per user; changes during it lead to one more, not one each."""
        self._queued.add(user_id)
        if user_id not in self._running:
            self._running.add(user_id)
            self._tasks.spawn(self._flush(user_id), name=f"home-publish-{user_id}")

    async def _flush(self, user_id: str) -> None:
        try:
            while user_id in self._queued:
                self._queued.discard(user_id)
                await self.publish(user_id)
        finally:
            self._running.discard(user_id)

    async def _is_approver(self, user_id: str) -> bool:
        try:
            return await self._directory.is_approver(user_id)
        except MembershipUnknownError:
            return False
