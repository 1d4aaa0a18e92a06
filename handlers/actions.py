"""The buttons of a request message: Approve, Reject, Withdraw, Retry."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.approval import Decision
from bot.deps import Deps
from bot.ids import ActionId
from bot.service import DecisionResult
from bot.settle_blocks import build_send_anyway

logger = logging.getLogger(__name__)


def _click(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """(request id, user id, channel id, message ts) of a button click."""
    container = body.get("container") or {}
    message_ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return (
        str(action.get("value", "")),
        body["user"]["id"],
        (body.get("channel") or {}).get("id", ""),
        message_ts,
    )


def _response_url(body: dict[str, Any]) -> str | None:
    """The click's own reply route: private answers reach the user even where the bot is not
    a member of the channel."""
    url = body.get("response_url")
    return str(url) if url else None


def register(app: AsyncApp, deps: Deps) -> None:
    async def refused(
        result: DecisionResult,
        what: str,
        user_id: str,
        channel_id: str,
        response_url: str | None = None,
    ) -> bool:
        """Tell the user privately why nothing happened; True if the action was refused."""
        if result.accepted:
            return False
        logger.info("%s by %s refused: %s", what, user_id, result.denial)
        text = blocks.denial_text(result.denial, result.request, deps.approvers)
        await deps.publisher.tell(channel_id, user_id, text, response_url=response_url)
        return True

    async def handle_approve_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        checked = await deps.service.check(
            Decision.APPROVE, request_id, user_id, message_ts=message_ts
        )
        reply_url = _response_url(body)
        if await refused(checked, f"approve of {request_id}", user_id, channel_id, reply_url):
            return
        assert checked.request is not None
        refusal = await deps.service.refusal_at_approval(checked.request, deps.previewer)
        if refusal is not None:
            text, warning = build_send_anyway(checked.request, refusal)
            await deps.publisher.tell_blocks(
                channel_id, user_id, text, warning, response_url=reply_url
            )
            return
        await approve(request_id, user_id, channel_id, message_ts, reply_url)

    async def handle_send_anyway_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        request_id, user_id, channel_id, _ephemeral_ts = _click(body, action)
        # The button lives in a private message, not on the request message.
        await approve(request_id, user_id, channel_id, None, _response_url(body))

    async def approve(
        request_id: str,
        user_id: str,
        channel_id: str,
        message_ts: str | None,
        response_url: str | None,
    ) -> None:
        result = await deps.service.approve(request_id, user_id, message_ts=message_ts)
        if await refused(result, f"approve of {request_id}", user_id, channel_id, response_url):
            return
        assert result.request is not None
        if result.request.is_pending:  # counted; the quorum needs more approvers
            await deps.publisher.tell(
                channel_id,
                user_id,
                blocks.approval_counted_text(result.request, deps.service.required_approvals),
                response_url=response_url,
            )
            return
        deps.runner.launch(request_id)

    async def handle_retry_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.check_retry(request_id, user_id, message_ts=message_ts)
        reply_url = _response_url(body)
        if not await refused(result, f"retry of {request_id}", user_id, channel_id, reply_url):
            # `execute` claims the request atomically: concurrent retries send one cancel.
            deps.runner.launch(request_id)

    async def handle_withdraw_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.withdraw(request_id, user_id, message_ts=message_ts)
        await refused(
            result, f"withdrawal of {request_id}", user_id, channel_id, _response_url(body)
        )

    async def handle_reject_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.check(
            Decision.REJECT, request_id, user_id, message_ts=message_ts
        )
        if await refused(
            result, f"reject of {request_id}", user_id, channel_id, _response_url(body)
        ):
            return
        assert result.request is not None
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.build_reject_modal(result.request)
        )

    app.action(ActionId.APPROVE.value)(handle_approve_action)
    app.action(ActionId.REJECT.value)(handle_reject_action)
    app.action(ActionId.WITHDRAW.value)(handle_withdraw_action)
    app.action(ActionId.RETRY.value)(handle_retry_action)
    app.action(ActionId.SEND_ANYWAY.value)(handle_send_anyway_action)
