"""The submissions of the reject modal and the request form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.deps import Deps
from bot.domain.channels import channel_refusal
from bot.domain.commands import UsageError, UsageProblem, has_hidden_characters
from bot.slack.ids import BlockId, CallbackId, InputActionId
from bot.slack.messages.private import denial_text
from bot.slack.messages.request_form import (
    RequestForm,
    form_problem_text,
    form_refusal_text,
    parse_request_form,
)
from handlers.commands import tell_request_reply

logger = logging.getLogger(__name__)


def _reject_reason(view: dict[str, Any]) -> str:
    values = view.get("state", {}).get("values", {})
    field = values.get(BlockId.REJECT_REASON.value, {}).get(InputActionId.REJECT_REASON.value, {})
    return str(field.get("value") or "").strip()


def register(app: AsyncApp, deps: Deps) -> None:
    async def handle_reject_submission(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        user_id = body["user"]["id"]
        # Errors are the ack itself: the language only if already known.
        language = deps.languages.cached(user_id)
        request_id = str(view.get("private_metadata", ""))
        reason = _reject_reason(view)
        if has_hidden_characters(reason):  # shown in the thread: the slash command's rule
            hidden = form_problem_text(UsageError(UsageProblem.HIDDEN_CHARACTERS), language)
            await ack(response_action="errors", errors={BlockId.REJECT_REASON.value: hidden})
            return
        result = await deps.service.reject(request_id, user_id, note=reason[:500])
        if result.denial is not None or result.request is None:
            logger.info("reject of %s by %s refused: %s", request_id, user_id, result.denial)
            denied = denial_text(result.denial, result.request, deps.approvers, language)
            await ack(response_action="errors", errors={BlockId.REJECT_REASON.value: denied.text})
            return
        await ack()  # the rejection reply and the message update go out through the outbox

    async def handle_request_submission(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]
    ) -> None:
        user_id = body["user"]["id"]
        # Errors are the ack itself: the language only if already known.
        language = deps.languages.cached(user_id)
        channel_id = str(view.get("private_metadata", ""))
        refusal = channel_refusal(channel_id, deps.settings.allowed_channels)
        if refusal is not None:
            logger.info("request form of %s for channel %r refused", user_id, channel_id)
            text = form_refusal_text(refusal, language)
            await ack(response_action="errors", errors={BlockId.REQUEST_ORDER.value: text})
            return
        form = parse_request_form(view, deps.order_id_pattern, language)
        if not isinstance(form, RequestForm):
            await ack(response_action="errors", errors=form)
            return
        await ack()

        result = await deps.requests.open_and_post(
            order_ids=(form.args.order_id,),
            reason=form.args.reason,
            category=form.category,
            channel_id=channel_id,
            user_id=user_id,
            requester_language=deps.languages.cached(user_id),
        )
        await tell_request_reply(result, deps, channel_id, user_id)

    app.view(CallbackId.REJECT_MODAL.value)(handle_reject_submission)
    app.view(CallbackId.REQUEST_MODAL.value)(handle_request_submission)
