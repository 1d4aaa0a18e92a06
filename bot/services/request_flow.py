"""A cancel request from the requester's words to the approval message: duplicate guard,
preview, post. The slash command and the request form both end here; they render the result."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.preview import Preview
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import Language
from bot.observability.logs import bind_request
from bot.services.decisions import RequestDecisions
from bot.services.preview import OrderPreviewer
from bot.slack.publisher import SlackPublisher, slack_failure

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Covered:
    """An order left out of the request: `request` (active, or that cancelled it within
    REQUEST_TTL) already covers it; `link` leads to that request's message."""

    order_id: str
    request: CancelRequest
    link: str | None


@dataclass(frozen=True, slots=True)
class Posted:
    """The approval request is in its channel. `left_out`: orders asked for that another
    request covers (the requester is told privately)."""

    request: CancelRequest
    left_out: tuple[Covered, ...] = ()


@dataclass(frozen=True, slots=True)
class AlreadyCovered:
    """No request opened: `request` already covers the order (for several orders, every one is
    covered: `left_out` names each, `request` and `link` are the first's)."""

    request: CancelRequest
    link: str | None
    left_out: tuple[Covered, ...] = ()


@dataclass(frozen=True, slots=True)
class NotRequested:
    """The preview found nothing to cancel (no such order, cancelled already): withdrawn. For
    a bulk request, every order was so: `skipped` has each order's preview."""

    request: CancelRequest
    preview: Preview
    left_out: tuple[Covered, ...] = ()
    skipped: tuple[tuple[str, Preview], ...] = ()


@dataclass(frozen=True, slots=True)
class NotPosted:
    """Slack refused the approval message (`error`): the request was withdrawn."""

    request: CancelRequest
    error: str
    left_out: tuple[Covered, ...] = ()


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
        order_ids: Sequence[str],
        reason: str,
        category: str | None,
        channel_id: str,
        user_id: str,
        requester_language: Language,
    ) -> RequestResult:
        """Open one request for the orders (a single-order request for one, a bulk request for
        several), leaving out each order another request covers; preview them; post the
        request for approval. Whatever stops it on the way, nothing is left pending.
        `requester_language` is for the pointer to APPROVAL_CHANNEL, if any (only a cached
        one: no look-up stands before the post)."""
        if not order_ids:
            raise ValueError("no order to request")
        opened = await self._decisions.open_for_orders(
            order_ids=order_ids,
            channel_id=channel_id,
            requester_id=user_id,
            reason=reason,
            reason_category=category,
        )
        left_out = await self._links(opened.covered)
        if opened.request is None:
            first = left_out[0]
            bind_request(first.request.id)
            logger.info(
                "requests already cover %s: none opened", ", ".join(c.order_id for c in left_out)
            )
            return AlreadyCovered(first.request, first.link, left_out if len(order_ids) > 1 else ())
        request = opened.request
        bind_request(request.id)
        logger.info(
            "request %s: %s asks to cancel %s", request.id, user_id, ", ".join(request.order_ids)
        )
        if request.is_bulk:
            previews = await asyncio.gather(
                *(self._previewer.preview(order_id) for order_id in request.order_ids)
            )
            pairs = tuple(zip(request.order_ids, previews, strict=True))
            request = await self._decisions.record_order_previews(request.id, pairs) or request
            if request.status is RequestStatus.WITHDRAWN:
                return NotRequested(request, previews[0], left_out, skipped=pairs)
        else:
            # Bounded by PREVIEW_TIMEOUT_SECONDS, never raises.
            preview = await self._previewer.preview(request.order_id)
            request = await self._decisions.record_preview(request.id, preview) or request
            if preview.blocked:
                return NotRequested(request, preview, left_out)
        try:
            message_ts = await self._publisher.post_request(
                request, requester_language=requester_language
            )
        except Exception as exc:
            # Slack refused it (not in the channel…), or failed after the post's own retries
            # and look-ups: left pending, the request would hold its orders until REQUEST_TTL
            # with no message to click. If Slack posted it after all, a click on it is refused.
            error = slack_failure(exc)
            logger.warning("request %s could not be posted: %s", request.id, error)
            await self._decisions.withdraw_unposted(request.id, f"could not be posted ({error})")
            return NotPosted(request, error, left_out)
        await self._decisions.attach_message(request.id, message_ts)
        return Posted(request, left_out)

    async def _links(self, covered: Sequence[tuple[str, CancelRequest]]) -> tuple[Covered, ...]:
        """Each covered order with a link to its request's message (one look-up a request)."""
        links: dict[str, str | None] = {}
        for _order_id, request in covered:
            if request.id not in links:
                link = None
                if request.message_ts:
                    channel = self._publisher.message_channel(request)
                    link = await self._publisher.permalink(channel, request.message_ts)
                links[request.id] = link
        return tuple(Covered(order_id, request, links[request.id]) for order_id, request in covered)
