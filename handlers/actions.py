"""The Approve and Reject buttons of a request message."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.approval import Decision
from bot.deps import Deps
from bot.ids import ActionId

logger = logging.getLogger(__name__)


def _click(body: dict[str, Any], action: dict[str, Any]) -> tuple[str, str, str, str | None]:
    """(request id, user id, channel id, message ts) of a button click."""
    message_ts = (body.get("container") or {}).get("message_ts") or (body.get("message") or {}).get(
        "ts"
    )
    return (
        str(action.get("value", "")),
        body["user"]["id"],
        (body.get("channel") or {}).get("id", ""),
        message_ts,
    )


def register(app: AsyncApp, deps: Deps) -> None:
    async def handle_approve_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.approve(request_id, user_id, message_ts=message_ts)
        if result.denial is not None or result.request is None:
            logger.info("approve of %s by %s refused: %s", request_id, user_id, result.denial)
            text = blocks.denial_text(result.denial, result.request, deps.approvers)
            await deps.publisher.tell(channel_id, user_id, text)
            return
        try:
            await deps.publisher.show_state(result.request)
        except Exception:
            # The cancel must not wait on a cosmetic update; the outcome redraws the message.
            logger.warning(
                "could not mark request %s as approved in Slack", request_id, exc_info=True
            )
        deps.runner.launch(request_id)

    async def handle_reject_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.check(
            Decision.REJECT, request_id, user_id, message_ts=message_ts
        )
        if result.denial is not None or result.request is None:
            logger.info("reject of %s by %s refused: %s", request_id, user_id, result.denial)
            text = blocks.denial_text(result.denial, result.request, deps.approvers)
            await deps.publisher.tell(channel_id, user_id, text)
            return
        await client.views_open(
            trigger_id=body["trigger_id"], view=blocks.build_reject_modal(result.request)
        )

    app.action(ActionId.APPROVE.value)(handle_approve_action)
    app.action(ActionId.REJECT.value)(handle_reject_action)
