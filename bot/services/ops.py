"""The operations side of the bot, built once at start: metrics, audit queries, direct messages
and the App Home tab, all fed by the store's change listener."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.domain.approval import ApproverDirectory, MembershipUnknownError
from bot.domain.history import RequestHistory
from bot.domain.requests import CancelRequest
from bot.i18n.language import UserLanguages
from bot.observability.metrics import Metrics
from bot.services.audit import Audit
from bot.services.background import BackgroundTasks
from bot.services.home import HomeTab
from bot.services.notices import notices_for
from bot.slack.publisher import SlackPublisher
from bot.storage.store import Store


@dataclass(frozen=True, slots=True)
class Ops:
    metrics: Metrics
    audit: Audit
    home: HomeTab
    directory: ApproverDirectory
    tasks: BackgroundTasks
    approval_channel: str | None

    def on_change(self, request: CancelRequest, event: str) -> None:
        self.metrics.on_change(request, event)
        self.home.on_change(request, event)

    async def is_approver(self, user_id: str) -> bool:
        try:
            return await self.directory.is_approver(user_id)
        except MembershipUnknownError:
            return False

    async def reasons_visible_to(
        self, histories: Sequence[RequestHistory], user_id: str, channel_id: str
    ) -> set[str]:
        """Ids of the requests whose reason `user_id` may read in `channel_id`: asked (or
        posted) there, their own, or any if they are an approver."""
        if await self.is_approver(user_id):
            return {h.request.id for h in histories}
        in_approval_channel = self.approval_channel is not None and (
            channel_id == self.approval_channel
        )
        return {
            h.request.id
            for h in histories
            if h.request.channel_id == channel_id
            or h.request.requester_id == user_id
            or in_approval_channel
        }

    async def drain(self) -> None:
        await self.tasks.drain()


def build_ops(
    settings: Settings,
    *,
    store: Store,
    client: AsyncWebClient,
    publisher: SlackPublisher,
    directory: ApproverDirectory,
    metrics: Metrics,
    languages: UserLanguages,
) -> Ops:
    tasks = BackgroundTasks()
    audit = Audit(store, approval_channel=settings.approval_channel)
    ops = Ops(
        metrics=metrics,
        audit=audit,
        home=HomeTab(
            client,
            audit,
            directory,
            tasks,
            languages,
            allow_self_approval=settings.allow_self_approval,
            clock=store.now,
        ),
        directory=directory,
        tasks=tasks,
        approval_channel=settings.approval_channel,
    )
    store.add_listener(ops.on_change)
    store.set_notice_policy(notices_for)
    return ops
