"""Delivers the queued Slack messages (the outbox) until Slack has taken each one.

Messages are queued in the same transaction as the state change they announce, and rendered
from the request's state when sent, so a Slack outage or a restart delays them but loses none.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.catalogue import Language
from bot.language import UserLanguages
from bot.logging_setup import request_context
from bot.publisher import SlackPublisher
from bot.requests import MessageKind, OutboxMessage
from bot.storage import Store

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
# Slack errors that no retry can fix: the message is dropped with an error in the log.
PERMANENT_ERRORS = frozenset(
    {"channel_not_found", "is_archived", "message_not_found", "invalid_blocks", "msg_too_long"}
)
GIVE_UP_AFTER_TRIES = 50


class Deliverer:
    def __init__(
        self,
        store: Store,
        publisher: SlackPublisher,
        *,
        languages: UserLanguages | None = None,
        base_delay_seconds: float = 2.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._languages = languages
        self._base_delay_seconds = base_delay_seconds

    async def seconds_until_next(self) -> float | None:
        """Seconds until the earliest undelivered message is due, or None if none waits."""
        due = await self._store.next_message_due_at()
        if due is None:
            return None
        return max(0.0, (due - self._store.now()).total_seconds())

    async def deliver_due(self) -> int:
        """Send every message that is due, in order per request. Returns how many were sent."""
        sent = 0
        blocked: set[str] = set()  # a request whose earlier message failed keeps its order
        for message in await self._store.due_messages():
            if message.request_id in blocked:
                continue
            with request_context(message.request_id):
                delivered = await self._deliver(message)
            if delivered:
                sent += 1
            else:
                blocked.add(message.request_id)
        return sent

    async def _deliver(self, message: OutboxMessage) -> bool:
        request = await self._store.get(message.request_id)
        is_outcome = message.kind in (MessageKind.OUTCOME, MessageKind.UNAVAILABLE)
        if request is None or (
            message.kind in (MessageKind.OUTCOME, MessageKind.UNAVAILABLE)
            and message.attempt != request.attempts
        ):
            # A later attempt superseded this announcement; its own message will follow.
            await self._store.message_delivered(message, outcome=False)
            return True
        # Thread replies are public: they speak the requester's language. A redraw has no
        # translated text, so it costs no look-up.
        language = Language.EN
        if self._languages is not None and message.kind is not MessageKind.REDRAW:
            language = await self._languages.of(request.requester_id)
        try:
            await self._publisher.deliver(message.kind, request, language)
        except Exception as exc:
            error = _describe(exc)
            if error in PERMANENT_ERRORS or message.tries + 1 >= GIVE_UP_AFTER_TRIES:
                logger.error(
                    "dropping %s message of request %s after %d tries: %s",
                    message.kind,
                    message.request_id,
                    message.tries + 1,
                    error,
                )
                await self._store.message_delivered(message, outcome=False)
                return True
            delay = _backoff(message.tries, self._base_delay_seconds)
            logger.warning(
                "Slack did not take the %s message of request %s (%s); retrying in %ds",
                message.kind,
                message.request_id,
                error,
                delay.total_seconds(),
            )
            await self._store.message_failed(message, error, self._store.now() + delay)
            return False
        await self._store.message_delivered(message, outcome=is_outcome)
        return True


def _backoff(tries: int, base_delay_seconds: float) -> timedelta:
    base = min(MAX_BACKOFF.total_seconds(), base_delay_seconds * 2**tries)
    return timedelta(seconds=random.uniform(base / 2, base))  # noqa: S311 - jitter


def _describe(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__
