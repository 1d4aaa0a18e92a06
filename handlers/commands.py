"""`/cancel-order`: parse, open a request, post it for approval."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.commands import HelpArgs, ListArgs, StatusArgs, UsageError, parse_cancel_command
from bot.observability.logs import bind_request
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.preview import build_not_requested_reply
from bot.slack.messages.private import (
    build_duplicate_text,
    build_not_posted_text,
    build_usage_blocks,
    channel_refusal_text,
    missing_reason_text,
    not_in_a_channel_text,
    usage_problem_text,
    usage_text,
)
from bot.slack.messages.request_form import build_request_modal
from handlers.audit import answer_audit_command

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    pattern_text = deps.settings.order_id_pattern

    async def handle_cancel_order_command(
        ack: AsyncAck, command: dict[str, str], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        user_id = command["user_id"]
        channel_id = command["channel_id"]
        # Answered in the ack: no time to ask Slack for the user's language.
        language = deps.languages.cached(user_id)
        if not command.get("text", "").strip() and command.get("trigger_id"):
            await open_request_form(ack, client, command, deps)
            return
        try:
            parsed = parse_cancel_command(command.get("text", ""), deps.order_id_pattern)
        except UsageError as problem:
            logger.info("usage error from %s: %s", user_id, problem.problem.name)
            shown = usage_problem_text(problem, language)
            await ack(
                response_type="ephemeral",
                text=shown,
                blocks=build_usage_blocks(shown, pattern_text, language),
            )
            return
        if isinstance(parsed, HelpArgs):
            await ack(
                response_type="ephemeral",
                text=usage_text(pattern_text, language),
                blocks=build_usage_blocks(None, pattern_text, language),
            )
            return
        allowed = deps.settings.allowed_channels
        if allowed and channel_id not in allowed:
            await ack(response_type="ephemeral", text=channel_refusal_text(allowed, language))
            return
        if isinstance(parsed, StatusArgs | ListArgs):
            await answer_audit_command(
                ack, parsed, user_id=user_id, channel_id=channel_id, deps=deps
            )
            return
        if channel_id.startswith("D"):
            await ack(response_type="ephemeral", text=not_in_a_channel_text(language))
            return
        if deps.settings.require_reason and not parsed.reason:
            missing = missing_reason_text(language)
            await ack(
                response_type="ephemeral",
                text=missing,
                blocks=build_usage_blocks(missing, pattern_text, language),
            )
            return
        await ack()

        async def reply(text: str, reply_blocks: Sequence[Block] | None = None) -> None:
            await respond(
                response_type="ephemeral",
                text=text,
                blocks=list(reply_blocks) if reply_blocks else None,
            )

        await open_and_post(
            deps,
            order_id=parsed.order_id,
            reason=parsed.reason,
            category=None,
            channel_id=channel_id,
            user_id=user_id,
            reply=reply,
        )

    app.command(SLASH_COMMAND)(handle_cancel_order_command)


Reply = Callable[[str, Sequence[Block] | None], Awaitable[None]]


async def open_and_post(
    deps: Deps,
    *,
    order_id: str,
    reason: str,
    category: str | None,
    channel_id: str,
    user_id: str,
    reply: Reply,
) -> None:
    """The request flow after validation (slash command or request form): duplicate guard,
    preview, post. `reply` answers the requester privately."""
    opened = await deps.service.open_unless_duplicate(
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
            channel = deps.publisher.message_channel(request)
            link = await deps.publisher.permalink(channel, request.message_ts)
        language = await deps.languages.of(user_id)
        await reply(build_duplicate_text(request, link, language), None)
        return
    logger.info("request %s: %s asks to cancel %s", request.id, user_id, request.order_id)
    # Bounded by PREVIEW_TIMEOUT_SECONDS, never raises.
    preview = await deps.previewer.preview(request.order_id)
    request = await deps.service.record_preview(request.id, preview) or request
    if preview.blocked:
        language = await deps.languages.of(user_id)
        text, not_requested = build_not_requested_reply(request.order_id, preview, language)
        await reply(text, not_requested)
        return
    try:
        # Cached only: no look-up stands before the request is posted.
        message_ts = await deps.publisher.post_request(
            request, requester_language=deps.languages.cached(user_id)
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        await deps.service.withdraw_unposted(request.id, f"could not be posted ({error})")
        language = await deps.languages.of(user_id)
        await reply(build_not_posted_text(error, language), None)
        return
    await deps.service.attach_message(request.id, message_ts)


async def open_request_form(
    ack: AsyncAck, client: AsyncWebClient, command: dict[str, str], deps: Deps
) -> None:
    """`/cancel-order` alone: the request form, where the channel allows requests."""
    channel_id = command["channel_id"]
    # Before the ack and the views.open: the language only if already known.
    language = deps.languages.cached(command["user_id"])
    allowed = deps.settings.allowed_channels
    if allowed and channel_id not in allowed:
        await ack(response_type="ephemeral", text=channel_refusal_text(allowed, language))
        return
    if channel_id.startswith("D"):
        await ack(response_type="ephemeral", text=not_in_a_channel_text(language))
        return
    await ack()
    view = build_request_modal(channel_id, language)
    await client.views_open(trigger_id=command["trigger_id"], view=view)
