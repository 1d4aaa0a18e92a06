"""Direct messages to the requester when their request is decided and when the cancel finished.

Driven by the store's change listener, so every path that changes a request (buttons, modal,
background cancels, a restart's resume) notifies the same way. Posting to a user id delivers in
the app's Messages tab with the `chat:write` scope alone.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import notice_blocks
from bot.background import BackgroundTasks
from bot.publisher import SlackPublisher
from bot.requests import CancelRequest, RequestStatus

logger = logging.getLogger(__name__)

_DECIDED = frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED})
_FINISHED = frozenset({RequestStatus.SUCCEEDED, RequestStatus.FAILED, RequestStatus.UNKNOWN})


def notice_for(request: CancelRequest, event: str) -> str | None:
    """Which direct message a change deserves: "decided", "finished" or none.

    A decision is the `approved`/`rejected` event (APPROVED is entered again when MouvONE was
    unavailable, which is no new decision); only an answer (or its absence) from MouvONE enters
    SUCCEEDED, FAILED or UNKNOWN.
    """
    if request.status in _DECIDED and event == request.status.value:
        # Someone who approves their own request (ALLOW_SELF_APPROVAL) knows it already.
        return None if request.decided_by == request.requester_id else "decided"
    if request.status in _FINISHED and not event.startswith("settle_"):
        return "finished"
    return None


class Notifier:
    def __init__(
        self, client: AsyncWebClient, publisher: SlackPublisher, tasks: BackgroundTasks
    ) -> None:
        self._client = client
        self._publisher = publisher
        self._tasks = tasks

    def on_change(self, request: CancelRequest, event: str) -> None:
        kind = notice_for(request, event)
        if kind is not None:
            self._tasks.spawn(self._send(request, kind), name=f"dm-{kind}-{request.id}")

    async def _send(self, request: CancelRequest, kind: str) -> None:
        link = None
        if request.message_ts:
            link = await self._publisher.permalink(
                self._publisher.message_channel(request), request.message_ts
            )
        build = (
            notice_blocks.build_decided_dm if kind == "decided" else notice_blocks.build_finished_dm
        )
        text, blocks = build(request, link)
        try:
            await self._client.chat_postMessage(
                channel=request.requester_id, text=text, blocks=blocks, unfurl_links=False
            )
        except SlackApiError as exc:
            logger.warning(
                "could not send the %s notice of request %s to %s: %s",
                kind,
                request.id,
                request.requester_id,
                exc.response.get("error"),
            )
