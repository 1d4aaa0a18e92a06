"""A cancel request from the requester's words to the approval message: duplicate guard,
preview, post. The slash command and the request form both end here; they render the result."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import Language
from bot.observability.logs import bind_request
from bot.services.decisions import RequestDecisions
from bot.services.preview import OrderPreviewer
from bot.slack.publisher import SlackPublisher

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Posted:
    """The approval request is in its channel."""

    request: CancelRequest


@dataclass(frozen=True, slots=True)
class AlreadyCovered:
    """No request opened: `request` already covers the order; `link` leads to its message."""

    request: CancelRequest
    link: str | None


@dataclass(frozen=True, slots=True)
class NotRequested:
    """The preview found nothing to cancel (no such order, cancelled already): withdrawn."""

    request: CancelRequest
    preview: Preview


@dataclass(frozen=True, slots=True)
class NotPosted:
    """Slack refused the approval message (`error`): the request was withdrawn."""

    request: CancelRequest
    error: str


RequestResult = Posted | AlreadyCovered | NotRequested | NotPosted


class RequestFlow:
    def __init__(
        self, decisions: RequestDecisions, previewer: OrderPreviewer, publisher: SlackPublisher
    ) -> None:
        self._decisions = decisions
        self._previewer = previewer
        self._publisher = publisher

    async def open_and_post(
        self,
        *,
        order_id: str,
        reason: str,
        category: str | None,
        channel_id: str,
        user_id: str,
        requester_language: Language,
    ) -> RequestResult:
        """Open a request for an order (unless one covers it), preview it, and post it for
        approval. Whatever stops it on the way, nothing is left pending. `requester_language`
        is for the pointer to APPROVAL_CHANNEL, if any (only a cached one: no look-up stands
        before the post)."""
        opened = await self._decisions.open_unless_duplicate(
            order_id=order_id,
            channel_id=channel_id,
            requester_id=user_id,
            reason=reason,
            reason_category=category,
        )
        request = opened.request
        bind_request(request.id)
        if not opened.created:
            logger.info("request %s already covers %s: none opened", request.id, request.order_id)
            link = None
            if request.message_ts:
                channel = self._publisher.message_channel(request)
                link = await self._publisher.permalink(channel, request.message_ts)
            return AlreadyCovered(request, link)
        logger.info("request %s: %s asks to cancel %s", request.id, user_id, request.order_id)
        # Bounded by PREVIEW_TIMEOUT_SECONDS, never raises.
        preview = await self._previewer.preview(request.order_id)
        request = await self._decisions.record_preview(request.id, preview) or request
        if preview.blocked:
            return NotRequested(request, preview)
        try:
            message_ts = await self._publisher.post_request(
                request, requester_language=requester_language
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            await self._decisions.withdraw_unposted(request.id, f"could not be posted ({error})")
            return NotPosted(request, error)
        await self._decisions.attach_message(request.id, message_ts)
        return Posted(request)
