"""The buttons of a request message: Approve, Reject, Withdraw, Retry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.approval import Decision, Denial
from bot.domain.requests import CancelRequest
from bot.services.decisions import DecisionResult
from bot.slack.ids import ActionId
from bot.slack.messages.modals import build_reject_modal
from bot.slack.messages.private import approval_counted_text, click_not_taken_text, denial_text
from bot.slack.messages.thread import build_send_anyway

logger = logging.getLogger(__name__)

CLICK_STORE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Click:
    request_id: str
    user_id: str
    channel_id: str
    message_ts: str | None  # the clicked message; None if Slack did not say
    # The click's own reply route: private answers reach the user even where the bot is not
    # a member of the channel.
    response_url: str | None = None


def _click(body: dict[str, Any], action: dict[str, Any]) -> Click:
    """Who clicked which request's button where. The body's shape is checked at the door
    (bot/inbound.py); a field of the wrong type reads as missing here."""
    container = _object(body.get("container"))
    message_ts = container.get("message_ts") or _object(body.get("message")).get("ts")
    channel_id = _object(body.get("channel")).get("id") or container.get("channel_id")
    response_url = body.get("response_url")
    return Click(
        request_id=str(action.get("value", "")),
        user_id=str(_object(body.get("user")).get("id", "")),
        channel_id=channel_id if isinstance(channel_id, str) else "",
        message_ts=message_ts if isinstance(message_ts, str) and message_ts else None,
        response_url=response_url if isinstance(response_url, str) and response_url else None,
    )


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def wrong_message(
    click: Click, request: CancelRequest, message_channel: str, *, private: bool = False
) -> bool:
    """True if a click did not come from where the request's buttons are: its message (channel
    and ts), or for a `private` (ephemeral) message, the channel of the request's message.

    A request whose ts is not stored yet (the click raced the store write, or the bot stopped
    between posting and storing) is checked on the channel only.
    """
    if click.channel_id != message_channel:
        return True
    if private:
        return False
    if click.message_ts is None:
        return True
    return request.message_ts not in (None, click.message_ts)


def register(app: AsyncApp, deps: Deps) -> None:
    async def checked(decision: Decision, click: Click, *, private: bool = False) -> DecisionResult:
        """The service's check, and that the click came from the request's message."""
        on_message_ts = None if private else click.message_ts
        result = await deps.service.check(
            decision, click.request_id, click.user_id, message_ts=on_message_ts
        )
        request = result.request
        if request is not None and wrong_message(
            click, request, deps.publisher.message_channel(request), private=private
        ):
            return DecisionResult(request, Denial.WRONG_MESSAGE)
        if request is not None and on_message_ts is not None:
            # The click names its message: stored if the request has none yet.
            adopted = await deps.service.adopt_clicked_message(request, on_message_ts)
            return DecisionResult(adopted, result.denial)
        return result

    async def refused(result: DecisionResult, what: str, click: Click) -> bool:
        """Tell the user privately why nothing happened; True if the action was refused."""
        if result.accepted:
            return False
        logger.info("%s by %s refused: %s", what, click.user_id, result.denial)
        language = await deps.languages.of(click.user_id)  # the click is acked already
        denied = denial_text(result.denial, result.request, deps.approvers, language)
        await deps.publisher.tell(
            click.channel_id, click.user_id, denied.text, response_url=click.response_url
        )
        return True

    async def remembered(
        ack: AsyncAck,
        body: dict[str, Any],
        action: dict[str, Any],
        decision: Decision,
        then: Callable[[Click], Awaitable[None]],
    ) -> None:
        """Store the click before Slack gets its answer, then handle it: a process killed in
        between leaves a stored click, and its user is told it was not taken."""
        click = _click(body, action)
        try:
            # Slack waits 3 s for the answer: a database that cannot take the click by then
            # gets the user a "not taken" instead of a silent time-out.
            async with asyncio.timeout(CLICK_STORE_SECONDS):
                click_id = await deps.service.record_click(
                    click.request_id, click.user_id, decision.value, click.channel_id
                )
        except Exception as exc:
            if isinstance(exc, TimeoutError):  # a busy database, not a fault: one line
                logger.warning(
                    "could not store the %s click of %s within %.0f s: not taken",
                    decision,
                    click.user_id,
                    CLICK_STORE_SECONDS,
                )
            else:
                logger.exception("could not store the %s click of %s", decision, click.user_id)
            await ack()
            await deps.publisher.tell(
                click.channel_id,
                click.user_id,
                click_not_taken_text(await deps.languages.of(click.user_id)).text,
                response_url=click.response_url,
            )
            return
        await ack()
        try:
            await then(click)
        finally:
            await deps.service.click_handled(click_id)

    async def handle_approve_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.APPROVE, check_then_approve)

    async def check_then_approve(click: Click) -> None:
        checked_click = await checked(Decision.APPROVE, click)
        if await refused(checked_click, f"approve of {click.request_id}", click):
            return
        assert checked_click.request is not None
        refusal = await deps.service.refusal_at_approval(checked_click.request, deps.previewer)
        if refusal is not None:
            language = await deps.languages.of(click.user_id)  # a private reply: theirs
            warning = build_send_anyway(checked_click.request, refusal, language)
            await deps.publisher.tell_blocks(
                click.channel_id,
                click.user_id,
                warning.text,
                warning.blocks,
                response_url=click.response_url,
            )
            return
        await approve(click, click.message_ts)

    async def handle_send_anyway_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.APPROVE, approve_anyway)

    async def approve_anyway(click: Click) -> None:
        # The button lives in a private message in the request message's channel.
        checked_click = await checked(Decision.APPROVE, click, private=True)
        if await refused(checked_click, f"approve of {click.request_id}", click):
            return
        await approve(click, None)

    async def approve(click: Click, message_ts: str | None) -> None:
        request_id, user_id = click.request_id, click.user_id
        result = await deps.service.approve(request_id, user_id, message_ts=message_ts)
        if await refused(result, f"approve of {request_id}", click):
            return
        assert result.request is not None
        if result.request.is_pending:  # counted; the quorum needs more approvers
            required = deps.service.required_approvals
            language = await deps.languages.of(user_id)
            await deps.publisher.tell(
                click.channel_id,
                user_id,
                approval_counted_text(result.request, required, language).text,
                response_url=click.response_url,
            )
            return
        deps.runner.launch(request_id)

    async def handle_retry_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.RETRY, retry)

    async def retry(click: Click) -> None:
        result = await checked(Decision.RETRY, click)
        if not await refused(result, f"retry of {click.request_id}", click):
            # `execute` claims the request atomically: concurrent retries send one cancel.
            deps.runner.launch(click.request_id, retry=True)

    async def handle_withdraw_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await remembered(ack, body, action, Decision.WITHDRAW, withdraw)

    async def withdraw(click: Click) -> None:
        what = f"withdrawal of {click.request_id}"
        if await refused(await checked(Decision.WITHDRAW, click), what, click):
            return
        result = await deps.service.withdraw(
            click.request_id, click.user_id, message_ts=click.message_ts
        )
        await refused(result, what, click)

    async def handle_reject_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        click = _click(body, action)
        result = await checked(Decision.REJECT, click)
        if await refused(result, f"reject of {click.request_id}", click):
            return
        assert result.request is not None
        # The trigger expires within 3 s: the language only if already known.
        language = deps.languages.cached(click.user_id)
        await client.views_open(
            trigger_id=body["trigger_id"], view=build_reject_modal(result.request, language)
        )

    app.action(ActionId.APPROVE.value)(handle_approve_action)
    app.action(ActionId.REJECT.value)(handle_reject_action)
    app.action(ActionId.WITHDRAW.value)(handle_withdraw_action)
    app.action(ActionId.RETRY.value)(handle_retry_action)
    app.action(ActionId.SEND_ANYWAY.value)(handle_send_anyway_action)
