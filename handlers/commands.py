"""`/cancel-order`: parse, open a request, post it for approval."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import ChannelRefusal, channel_refusal
from bot.domain.commands import HelpArgs, ListArgs, StatusArgs, UsageError, parse_cancel_command
from bot.domain.containers import ContainerNumberError
from bot.domain.requests import CancelRequest
from bot.domain.search import SearchArgs, SearchInputError
from bot.i18n.catalogue import Language
from bot.services.request_flow import (
    AlreadyCovered,
    NotPosted,
    NotRequested,
    Posted,
    RequestResult,
)
from bot.slack.ids import SLASH_COMMAND
from bot.slack.messages.mrkdwn import Rendered, md
from bot.slack.messages.preview import build_bulk_not_requested_reply, build_not_requested_reply
from bot.slack.messages.private import (
    build_duplicate_text,
    build_left_out_text,
    build_not_posted_text,
    build_usage_blocks,
    channel_refusal_text,
    missing_reason_text,
    not_in_a_channel_text,
    usage_problem_text,
)
from bot.slack.messages.request_form import build_request_modal
from bot.slack.messages.search import search_input_text
from handlers.audit import answer_audit_command
from handlers.replies import respond_or_tell
from handlers.search import answer_search_command

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    pattern_text = deps.settings.order_id_pattern
    max_orders = deps.settings.max_orders_per_request

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
            parsed = parse_cancel_command(
                command.get("text", ""), deps.order_id_pattern, max_orders=max_orders
            )
        except UsageError as problem:
            logger.info("usage error from %s: %s", user_id, problem.problem.name)
            shown = usage_problem_text(problem, language)
            usage = build_usage_blocks(shown, pattern_text, language, max_orders=max_orders)
            await ack(response_type="ephemeral", text=usage.text, blocks=usage.blocks)
            return
        except (SearchInputError, ContainerNumberError) as problem:
            # A search refused before any call to MouvONE (a container number's typo…).
            logger.info("search refused for %s: %s", user_id, problem)
            refused = search_input_text(problem, language)
            await ack(response_type="ephemeral", text=refused.text, blocks=refused.blocks)
            return
        if isinstance(parsed, HelpArgs):
            usage = build_usage_blocks(None, pattern_text, language, max_orders=max_orders)
            await ack(response_type="ephemeral", text=usage.text, blocks=usage.blocks)
            return
        refusal = channel_refusal(channel_id, deps.settings.allowed_channels)
        # `status` and `list` answer privately, in direct messages too.
        if refusal is ChannelRefusal.NOT_ALLOWED or (
            refusal is not None and not isinstance(parsed, StatusArgs | ListArgs)
        ):
            await ack(response_type="ephemeral", text=_refusal(refusal, deps, language).text)
            return
        if isinstance(parsed, StatusArgs | ListArgs):
            await answer_audit_command(
                ack, parsed, user_id=user_id, channel_id=channel_id, deps=deps
            )
            return
        if isinstance(parsed, SearchArgs):
            await answer_search_command(
                ack, respond, parsed, user_id=user_id, channel_id=channel_id, deps=deps
            )
            return
        if deps.settings.require_reason and not parsed.reason:
            missing = missing_reason_text(language)
            usage = build_usage_blocks(missing, pattern_text, language, max_orders=max_orders)
            await ack(response_type="ephemeral", text=usage.text, blocks=usage.blocks)
            return
        await ack()
        result = await deps.requests.open_and_post(
            order_ids=parsed.order_ids,
            reason=parsed.reason,
            category=None,
            channel_id=channel_id,
            user_id=user_id,
            requester_language=deps.languages.cached(user_id),
        )
        reply = await request_reply(result, deps, user_id)
        if reply is not None:
            await respond_or_tell(respond, reply, channel_id=channel_id, user_id=user_id, deps=deps)

    app.command(SLASH_COMMAND)(handle_cancel_order_command)


async def request_reply(result: RequestResult, deps: Deps, user_id: str) -> Rendered | None:
    """The requester's private reply to the request flow's result, in their language; None
    once it is posted with every order asked for (the approval message speaks for itself)."""
    if isinstance(result, Posted) and not result.left_out:
        return None
    language = await deps.languages.of(user_id)
    left_out = [(c.order_id, c.request, c.link) for c in result.left_out]
    match result:
        case Posted():
            return build_left_out_text(left_out, language, posted=True)
        case AlreadyCovered(left_out=covered) if covered:
            return build_left_out_text(left_out, language, posted=False)
        case AlreadyCovered(request=request, link=link):
            return build_duplicate_text(request, link, language)
        case NotRequested(skipped=skipped) if skipped:
            return _with_left_out(
                build_bulk_not_requested_reply(skipped, language), left_out, language
            )
        case NotRequested(request=request, preview=preview):
            return _with_left_out(
                build_not_requested_reply(request.order_id, preview, language), left_out, language
            )
        case NotPosted(error=error):
            return build_not_posted_text(error, language)
    return None


def _with_left_out(
    reply: Rendered, left_out: list[tuple[str, CancelRequest, str | None]], language: Language
) -> Rendered:
    """A reply followed by the orders left out because other requests cover them."""
    if not left_out:
        return reply
    covered = build_left_out_text(left_out, language, posted=False)
    return Rendered(reply.text, [*reply.blocks, SectionBlock(text=md(covered.text))])


async def tell_request_reply(
    result: RequestResult, deps: Deps, channel_id: str, user_id: str
) -> None:
    """The private reply to a request opened from a modal (no response_url): an ephemeral
    message in the channel, or a direct message where the bot cannot post."""
    reply = await request_reply(result, deps, user_id)
    if reply is None:
        return
    if reply.blocks:
        await deps.publisher.tell_blocks(channel_id, user_id, reply.text, reply.blocks)
    else:
        await deps.publisher.tell(channel_id, user_id, reply.text)


def _refusal(refusal: ChannelRefusal, deps: Deps, language: Language) -> Rendered:
    if refusal is ChannelRefusal.NOT_ALLOWED:
        return channel_refusal_text(deps.settings.allowed_channels, language)
    return not_in_a_channel_text(language)


async def open_request_form(
    ack: AsyncAck, client: AsyncWebClient, command: dict[str, str], deps: Deps
) -> None:
    """`/cancel-order` alone: the request form, where the channel allows requests."""
    channel_id = command["channel_id"]
    # Before the ack and the views.open: the language only if already known.
    language = deps.languages.cached(command["user_id"])
    refusal = channel_refusal(channel_id, deps.settings.allowed_channels)
    if refusal is not None:
        await ack(response_type="ephemeral", text=_refusal(refusal, deps, language).text)
        return
    await ack()
    view = build_request_modal(channel_id, language)
    await client.views_open(trigger_id=command["trigger_id"], view=view)
