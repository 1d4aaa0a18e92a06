"""Last resort for exceptions escaping a listener: log with a reference, tell the user briefly."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext, AsyncRespond

from bot.deps import Deps
from bot.slack.messages.private import unexpected_error_text
from handlers.middleware import VERIFIED

logger = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    async def handle_unexpected_error(
        error: Exception,
        body: dict[str, Any],
        respond: AsyncRespond | None,
        context: AsyncBoltContext,
    ) -> None:
        reference = uuid.uuid4().hex[:8]
        if not context.get(VERIFIED):
            # Failed before the signature was checked: the body (and its response_url) may be
            # anyone's. Nothing of it is read or answered.
            logger.warning(
                "error before the request was verified (ref %s): %s",
                reference,
                type(error).__name__,
            )
            return
        logger.error(
            "unexpected error (ref %s) in %s: %s",
            reference,
            body.get("command") or body.get("type"),
            type(error).__name__,
            exc_info=error,
        )
        if respond is None or not body.get("response_url"):
            return
        # Slack may still wait for this request's answer: the language only if already known.
        language = deps.languages.cached(str(context.user_id or ""))
        try:
            await respond(
                response_type="ephemeral",
                replace_original=False,
                text=unexpected_error_text(reference, language).text,
            )
        except Exception:
            logger.warning("could not tell the user about error %s", reference)

    app.error(handle_unexpected_error)
