"""The choice of orders a search found: the Choose button (its click brings a fresh trigger,
which expires in 3 s: a "searching…" modal opens at once, MouvONE is searched again, and the
modal is replaced by the choice) and the modal's submission (one request for the orders chosen,
checked against the seal of what was offered)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.channels import channel_refusal
from bot.domain.containers import ContainerNumberError
from bot.domain.search import (
    SearchArgs,
    SearchFailed,
    SearchInputError,
    SelectionProblem,
    parse_search,
)
from bot.slack.ids import ActionId, CallbackId
from bot.slack.messages.private import denial_text
from bot.slack.messages.request_form import form_refusal_text
from bot.slack.messages.search import (
    Choice,
    ChoiceMetadata,
    build_choice_failed_modal,
    build_choice_loading_modal,
    build_choice_modal,
    choice_metadata,
    choice_not_opened_text,
    orders_block_id,
    parse_choice_button_value,
    parse_choice_submission,
    selection_error,
)
from bot.slack.publisher import slack_failure
from handlers.commands import tell_request_reply

logger = logging.getLogger(__name__)


def _search_args(keyword: str, query: str) -> SearchArgs | None:
    """A search named by a button or a modal: checked like typed text, never trusted."""
    try:
        return parse_search(keyword, [query] if query else [])
    except (SearchInputError, ContainerNumberError):
        return None


# views.update errors that mean the modal is no longer there to show (closed, replaced).
_VIEW_GONE = frozenset({"not_found", "hash_conflict"})


def _object(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def register(app: AsyncApp, deps: Deps) -> None:
    async def handle_choose_orders_action(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        user_id = str(_object(body.get("user")).get("id", ""))
        channel = _object(body.get("channel")).get("id") or _object(body.get("container")).get(
            "channel_id"
        )
        channel_id = channel if isinstance(channel, str) else ""
        response_url = body.get("response_url")
        reply_to = response_url if isinstance(response_url, str) and response_url else None
        # The trigger expires within 3 s: the language only if already known.
        language = deps.languages.cached(user_id)

        async def tell(text: str) -> None:
            await deps.publisher.tell(channel_id, user_id, text, response_url=reply_to)

        async def not_shown(error: str) -> None:
            # An expired trigger, Slack failing: a click again will do.
            logger.warning("could not show the choice of orders to %s: %s", user_id, error)
            await tell(choice_not_opened_text(error, language).text)

        args = _search_args(*parse_choice_button_value(str(action.get("value", ""))))
        if args is None:
            logger.info("choose button of %s with an unreadable search", user_id)
            denied = denial_text(None, None, deps.approvers, language)
            await tell(denied.text)
            return
        refusal = channel_refusal(channel_id, deps.settings.allowed_channels)
        if refusal is not None:
            await tell(form_refusal_text(refusal, language))
            return
        try:
            opened = await client.views_open(
                trigger_id=str(body.get("trigger_id", "")),
                view=build_choice_loading_modal(args, language),
            )
        except Exception as exc:
            await not_shown(slack_failure(exc))
            return
        shown = _object(opened.get("view"))
        found = await deps.search.find(args)  # bounded by SEARCH_TIMEOUT_SECONDS
        if isinstance(found, SearchFailed):
            view = build_choice_failed_modal(args, found, language)
        else:
            seal = deps.search.seal(
                user_id=user_id,
                channel_id=channel_id,
                args=args,
                order_ids=[offered.order_id for offered in found.offered],
            )
            metadata = ChoiceMetadata(channel_id, args.kind.value, args.query, seal)
            view = build_choice_modal(args, found, metadata.dumps(), language)
        try:
            await client.views_update(
                view_id=str(shown.get("id", "")), hash=shown.get("hash"), view=view
            )
        except Exception as exc:
            error = slack_failure(exc)
            if error in _VIEW_GONE:  # closed meanwhile, most often: nothing to do
                logger.info("could not show the choice of orders: %s", error)
                return
            await not_shown(error)  # else the modal says "searching…" for ever

    async def handle_choice_submission(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        user_id = str(_object(body.get("user")).get("id", ""))
        # Errors are the ack itself: the language only if already known.
        language = deps.languages.cached(user_id)
        limit = deps.search.orders_per_request
        metadata = choice_metadata(view.get("private_metadata"))
        args = _search_args(metadata.keyword, metadata.query) if metadata else None
        if metadata is None or args is None:
            logger.info("choice of %s refused: unreadable metadata", user_id)
            errors = selection_error(SelectionProblem.NOT_OFFERED, 0, limit, language)
            await ack(response_action="errors", errors=errors)
            return
        refusal = channel_refusal(metadata.channel_id, deps.settings.allowed_channels)
        if refusal is not None:
            text = form_refusal_text(refusal, language)
            await ack(response_action="errors", errors={orders_block_id(0): text})
            return
        choice = parse_choice_submission(view, language)
        if not isinstance(choice, Choice):
            await ack(response_action="errors", errors=choice)
            return
        problem = deps.search.choice_problem(
            metadata.seal,
            user_id=user_id,
            channel_id=metadata.channel_id,
            args=args,
            offered=choice.offered,
            selected=choice.selected,
        )
        if problem is not None:
            logger.info("choice of %s refused: %s", user_id, problem.name)
            errors = selection_error(problem, len(choice.selected), limit, language)
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        result = await deps.requests.open_and_post(
            order_ids=choice.selected,
            reason=choice.details,
            category=choice.category,
            channel_id=metadata.channel_id,
            user_id=user_id,
            requester_language=deps.languages.cached(user_id),
        )
        await tell_request_reply(result, deps, metadata.channel_id, user_id)

    app.action(ActionId.CHOOSE_ORDERS.value)(handle_choose_orders_action)
    app.view(CallbackId.CHOICE_MODAL.value)(handle_choice_submission)
