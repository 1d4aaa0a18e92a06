"""Read-only questions about the records: an order's history, what waits, what someone asked."""

from __future__ import annotations

from bot.domain.history import RequestHistory
from bot.domain.requests import CancelRequest, RequestStatus
from bot.storage.store import Store

# Blocks per message are limited (50): a few requests with their timelines fit.
MAX_HISTORY = 10
MAX_LISTED = 20


class Audit:
    def __init__(self, store: Store, *, approval_channel: str | None) -> None:
        self._store = store
        self._approval_channel = approval_channel

    async def order_history(self, order_id: str, limit: int = MAX_HISTORY) -> list[RequestHistory]:
        """The order's requests, newest first, each with its audit trail."""
        requests = await self._store.history_of_order(order_id, limit=limit)
        return [RequestHistory(r, await self._store.events_of(r.id)) for r in requests]

    async def pending_in(
        self, channel_id: str, limit: int = MAX_LISTED
    ) -> tuple[list[CancelRequest], bool]:
        """Requests waiting for approval asked in the channel (all of them in the approval
        channel, where they are posted). Returns (requests, whether more were left out)."""
        in_channel = None if channel_id == self._approval_channel else channel_id
        found = await self._store.find_requests(
            statuses=[RequestStatus.PENDING], channel_id=in_channel, limit=limit + 1
        )
        return found[:limit], len(found) > limit

    async def waiting_for(
        self, user_id: str, *, allow_self_approval: bool, limit: int = MAX_LISTED
    ) -> list[CancelRequest]:
        """Pending requests an approver may decide: all of them but, usually, their own."""
        pending = await self._store.find_requests(statuses=[RequestStatus.PENDING], limit=200)
        decidable = [r for r in pending if allow_self_approval or r.requester_id != user_id]
        return decidable[:limit]

    async def recent_of(self, user_id: str, limit: int = 10) -> list[CancelRequest]:
        return await self._store.find_requests(requester_id=user_id, limit=limit)
