"""The buttons of a request message: Approve, Reject, Withdraw, Retry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
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

# What a decision click does once stored and acknowledged: (request, user, channel, message ts).
Click = Callable[[str, str, str, str | None], Awaitable[None]]


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


def register(app: AsyncApp, deps: Deps) -> None:
    async def refused(result: DecisionResult, what: str, user_id: str, channel_id: str) -> bool:
        """Tell the user privately why nothing happened; True if the action was refused."""
        if result.accepted:
            return False
        logger.info("%s by %s refused: %s", what, user_id, result.denial)
        text = blocks.denial_text(result.denial, result.request, deps.approvers)
        await deps.publisher.tell(channel_id, user_id, text)
        return True

    async def remembered(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], decision: Decision, then: Click
    ) -> None:
        """Store the click before Slack gets its answer, then handle it: a process killed in
        between leaves a stored click, and its user is told it was not taken."""
        request_id, user_id, channel_id, message_ts = _click(body, action)
        try:
            click_id = await deps.service.record_click(
                request_id, user_id, decision.value, channel_id
            )
        except Exception:
            logger.exception("could not store the %s click of %s", decision, user_id)
            await ack()
            await deps.publisher.tell(channel_id, user_id, blocks.CLICK_NOT_TAKEN)
            return
        await ack()
        try:
            await then(request_id, user_id, channel_id, message_ts)
        finally:
            await deps.service.click_handled(click_id)

    async def handle_approve_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.APPROVE, check_then_approve)

    async def check_then_approve(
        request_id: str, user_id: str, channel_id: str, message_ts: str | None
    ) -> None:
        checked = await deps.service.check(
            Decision.APPROVE, request_id, user_id, message_ts=message_ts
        )
        if await refused(checked, f"approve of {request_id}", user_id, channel_id):
            return
        assert checked.request is not None
        refusal = await deps.service.refusal_at_approval(checked.request, deps.previewer)
        if refusal is not None:
            text, warning = build_send_anyway(checked.request, refusal)
            await deps.publisher.tell_blocks(channel_id, user_id, text, warning)
            return
        await approve(request_id, user_id, channel_id, message_ts)

    async def handle_send_anyway_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        # The button lives in a private message, not on the request message.
        async def approve_anyway(
            request_id: str, user_id: str, channel_id: str, _ephemeral_ts: str | None
        ) -> None:
            await approve(request_id, user_id, channel_id, None)

        await remembered(ack, body, action, Decision.APPROVE, approve_anyway)

    async def approve(
        request_id: str, user_id: str, channel_id: str, message_ts: str | None
    ) -> None:
        result = await deps.service.approve(request_id, user_id, message_ts=message_ts)
        if await refused(result, f"approve of {request_id}", user_id, channel_id):
            return
        assert result.request is not None
        if result.request.is_pending:  # counted; the quorum needs more approvers
            await deps.publisher.tell(
                channel_id,
                user_id,
                blocks.approval_counted_text(result.request, deps.service.required_approvals),
            )
            return
        deps.runner.launch(request_id)

    async def handle_retry_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.RETRY, retry)

    async def retry(request_id: str, user_id: str, channel_id: str, message_ts: str | None) -> None:
        result = await deps.service.check_retry(request_id, user_id, message_ts=message_ts)
        if not await refused(result, f"retry of {request_id}", user_id, channel_id):
            # `execute` claims the request atomically: concurrent retries send one cancel.
            deps.runner.launch(request_id)

    async def handle_withdraw_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.WITHDRAW, withdraw)

    async def withdraw(
        request_id: str, user_id: str, channel_id: str, message_ts: str | None
    ) -> None:
        result = await deps.service.withdraw(request_id, user_id, message_ts=message_ts)
        await refused(result, f"withdrawal of {request_id}", user_id, channel_id)

    async def handle_reject_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        request_id, user_id, channel_id, message_ts = _click(body, action)
        result = await deps.service.check(
            Decision.REJECT, request_id, user_id, message_ts=message_ts
        )
        if await refused(result, f"reject of {request_id}", user_id, channel_id):
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
