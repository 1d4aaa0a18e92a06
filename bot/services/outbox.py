"""Delivers the queued Slack effects (the outbox) until Slack has taken each one.

Effects are queued in the same transaction as the state change they announce, and rendered
from the request's state when sent, so a Slack outage or a restart delays them but loses none.
Each effect (a thread reply, a redraw, a direct message) is its own delivery with its own done
mark: a failing redraw never sends a reply again. Before each Web API call the message is
claimed in the database, so two instances never send it together.

Every message posted carries its delivery as Slack message metadata (`DeliveryMark`). When an
earlier attempt may have reached Slack without its answer being recorded (the process died
mid-call and its claim ran out, a drain stopped the call, a timeout, a lost connection, a 5xx),
the message is looked for in its thread or DM channel first: found, it is marked delivered and
not posted again. A look-up Slack refuses (a workspace without the *:history scopes, a rate
limit…) posts it again, as before: at least once, logged with the reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from datetime import timedelta

from bot.domain.requests import (
    SAME_WHEN_LATE,
    CancelRequest,
    Claim,
    MessageKind,
    OutboxMessage,
    RequestStatus,
)
from bot.i18n.language import UserLanguages
from bot.observability.logs import request_context
from bot.slack.publisher import (
    DeliveryMark,
    SlackPublisher,
    may_have_posted,
    retry_after_seconds,
    slack_failure,
)
from bot.storage.store import Store

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
# Slack errors that no retry can fix: the message is dropped with an error in the log.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "message_not_found",
        "invalid_blocks",
        "msg_too_long",
        "not_in_channel",
        "cant_update_message",
        "user_not_found",
        "cannot_dm_bot",
    }
)
GIVE_UP_AFTER_TRIES = 50
# How long a claimed message stays with its instance: longer than its Web API calls may take
# (SLACK_TIMEOUT_SECONDS each, plus LOOKUP_TIMEOUT_SECONDS when it is looked for first); after a
# crash, the message waits this long to be looked for and, if Slack does not have it, sent.
CLAIM_SECONDS = 20.0
# A delivery gives up this long before its claim runs out (as maybe posted: the retry looks for
# it first), so that it never sends after another instance may have taken the message over.
CLAIM_MARGIN_SECONDS = 2.0
# Deliveries in flight at once. Lanes (a request's thread, its redraws, its DMs) are sent in
# order; different lanes go side by side, so one slow or rate-limited call holds back no other.
MAX_PARALLEL_LANES = 8
# The whole look-up for a message that may have reached Slack already (all its pages): past it,
# the message is posted again. Well inside CLAIM_SECONDS with the post that may follow.
LOOKUP_TIMEOUT_SECONDS = 5.0
_REPLIES = frozenset({MessageKind.OUTCOME, MessageKind.UNAVAILABLE})
_DIRECT_MESSAGES = frozenset(
    {
        MessageKind.DM_DECIDED,
        MessageKind.DM_FINISHED,
        MessageKind.DM_CLICK_LOST,
        MessageKind.DM_NOT_POSTED,
    }
)


class Deliverer:
    def __init__(
        self,
        store: Store,
        publisher: SlackPublisher,
        *,
        instance_id: str = "local",
        languages: UserLanguages | None = None,
        base_delay_seconds: float = 2.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._instance_id = instance_id
        # Direct messages speak their recipient's language (Slack locale, cached).
        self._languages = languages
        self._base_delay_seconds = base_delay_seconds
        self._lanes = asyncio.Semaphore(MAX_PARALLEL_LANES)

    async def seconds_until_next(self) -> float | None:
        """Seconds until the earliest undelivered message is due, or None if none waits."""
        due = await self._store.next_message_due_at()
        if due is None:
            return None
        return max(0.0, (due - self._store.now()).total_seconds())

    async def deliver_due(self) -> int:
        """Send every message that is due, in order within each lane. Returns how many were
        delivered (or dropped for good)."""
        lanes: dict[tuple[str, str], list[OutboxMessage]] = defaultdict(list)
        for message in await self._store.due_messages():
            lanes[(message.request_id, message.kind.lane)].append(message)
        if not lanes:
            return 0
        # A channel that answered 429 waits for its Retry-After; other channels go on.
        limited: dict[str, float] = {}
        counts = await asyncio.gather(
            *(self._deliver_lane(messages, limited) for messages in lanes.values())
        )
        return sum(counts)

    async def _deliver_lane(self, messages: list[OutboxMessage], limited: dict[str, float]) -> int:
        sent = 0
        async with self._lanes:
            for message in messages:
                with request_context(message.request_id):
                    done = await self._deliver(message, limited)
                if not done:
                    break  # keep the lane's order: the next one waits for this one
                sent += 1
        return sent

    async def _deliver(self, message: OutboxMessage, limited: dict[str, float]) -> bool:
        request = await self._store.get(message.request_id)
        if request is None:
            await self._store.message_delivered(message, outcome=False)
            return True
        channel = message.recipient or self._publisher.message_channel(request)
        if channel in limited:
            await self._store.message_failed(
                message, "ratelimited", self._store.now() + timedelta(seconds=limited[channel])
            )
            return False
        until = self._store.now() + timedelta(seconds=CLAIM_SECONDS)
        claim = await self._store.claim_message(message, self._instance_id, until)
        if claim is None:
            return False  # another instance is sending it, or it was delivered meanwhile
        request = await self._still_to_send(message)
        if request is None:
            return True  # done without sending
        mark = DeliveryMark(message.request_id, message.id, message.kind)
        try:
            async with asyncio.timeout(CLAIM_SECONDS - CLAIM_MARGIN_SECONDS):
                await self._send(message, request, mark, claim)
        except Exception as exc:
            return await self._failed(message, exc, channel, limited)
        except asyncio.CancelledError:
            # Stopped mid-call: give the message back at once rather than at the claim's end.
            # Slack may have taken it: the retry looks for it first.
            await asyncio.shield(
                self._store.message_failed(message, "stopped", self._store.now(), maybe_posted=True)
            )
            raise
        # A bulk request's outcome is posted once its summary shows where the run ended (not
        # while it runs, nor while a read-back of unknown outcomes is planned).
        finished = (
            message.kind is MessageKind.SUMMARY
            and request.status is not RequestStatus.EXECUTING
            and request.settle_at is None
        )
        await self._store.message_delivered(message, outcome=message.kind in _REPLIES or finished)
        return True

    async def _send(
        self, message: OutboxMessage, request: CancelRequest, mark: DeliveryMark, claim: Claim
    ) -> None:
        """The Web API calls of one delivery, under its claim. Rendered now, from the request's
        state, in the language of where it goes: the thread replies and the redraws speak their
        channel's language (SlackPublisher.deliver), a direct message its recipient's."""
        if message.kind is MessageKind.SUMMARY:
            await self._deliver_summary(request, mark, claim)
            return
        if (
            claim.maybe_posted
            and message.kind is not MessageKind.REDRAW
            and await self._already_posted(mark, request, message.recipient) is not None
        ):
            return  # an earlier attempt did post it: marked delivered, not sent again
        recipient_language = None
        if self._languages is not None and message.kind in _DIRECT_MESSAGES:
            recipient_language = await self._languages.of(message.recipient or request.requester_id)
        await self._publisher.deliver(
            message.kind,
            request,
            recipient=message.recipient,
            recipient_language=recipient_language,
            mark=mark,
        )

    async def _still_to_send(self, message: OutboxMessage) -> CancelRequest | None:
        """Under the claim: the request to render the message from, or None if the message is
        marked done without being sent. Checked on the one read that is rendered (a check made
        before the claim could be stale by the time the message is rendered and sent):
        - a later attempt (an approver's Retry) supersedes this announcement; its own message
          follows;
        - a reply (or "finished" DM) rendered from the request's state, still waiting when a
          newer one was queued (an "outcome unknown" settled by the read-back), would say what
          the newer one says: only the newest goes out. A newer one queued after this read
          comes from a change this rendering does not show, so it says something else."""
        request = await self._store.get(message.request_id)
        if request is None or (message.kind in _REPLIES and message.attempt != request.attempts):
            await self._store.message_delivered(message, outcome=False)
            return None
        if message.kind in SAME_WHEN_LATE and await self._store.supersede_message(
            message, owner=self._instance_id
        ):
            return None
        return request

    async def _deliver_summary(
        self, request: CancelRequest, mark: DeliveryMark, claim: Claim
    ) -> None:
        """Post a bulk request's summary reply the first time, then edit that one message.

        Its ts is stored before the delivery is marked done. When a summary delivery of the
        request may have posted it without its ts being stored, it is looked for in the thread
        first: found, its ts is stored and it is edited, not posted again."""
        ts = await self._store.summary_ts(request.id)
        if ts is None and claim.maybe_posted:
            ts = await self._already_posted(mark, request, None)
            if ts is not None:
                await self._store.set_summary_ts(request.id, ts)
        if ts is not None:
            await self._publisher.update_summary(request, ts)
            return
        posted = await self._publisher.post_summary(request, mark)
        await self._store.set_summary_ts(request.id, posted)

    async def _already_posted(
        self, mark: DeliveryMark, request: CancelRequest, recipient: str | None
    ) -> str | None:
        """The ts of the message of `mark` if an earlier attempt posted it, else None. A
        look-up that fails (missing scope, not in channel, rate limit, network, too long)
        counts as not found: the message is posted again rather than lost."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS):
                ts = await self._publisher.find_posted(mark, request, recipient=recipient)
        except Exception as exc:
            logger.warning(
                "could not check whether the %s message of request %s reached Slack before"
                " (%s): posting it again, it may show twice",
                mark.kind,
                mark.request_id,
                slack_failure(exc),
            )
            return None
        if ts is None:
            logger.info(
                "the %s message of request %s was not in Slack: posting it",
                mark.kind,
                mark.request_id,
            )
        else:
            logger.info(
                "the %s message of request %s was in Slack already (%s): not posting it again",
                mark.kind,
                mark.request_id,
                ts,
            )
        return ts

    async def _failed(
        self,
        message: OutboxMessage,
        exc: Exception,
        channel: str,
        limited: dict[str, float],
    ) -> bool:
        error = slack_failure(exc)
        tries = message.tries + 1
        if error in PERMANENT_ERRORS or tries >= GIVE_UP_AFTER_TRIES:
            logger.error(
                "dropping %s message of request %s after %d tries: %s",
                message.kind,
                message.request_id,
                tries,
                error,
            )
            await self._store.message_delivered(message, outcome=False)
            return True
        retry_after = _retry_after(exc)
        if retry_after is not None:
            limited[channel] = retry_after
            delay = timedelta(seconds=retry_after)
        else:
            delay = _backoff(message.tries, self._base_delay_seconds)
        logger.warning(
            "Slack did not take the %s message of request %s (%s); retrying in %ds",
            message.kind,
            message.request_id,
            error,
            delay.total_seconds(),
        )
        await self._store.message_failed(
            message, error, self._store.now() + delay, maybe_posted=may_have_posted(exc)
        )
        return False


def _backoff(tries: int, base_delay_seconds: float) -> timedelta:
    base = min(MAX_BACKOFF.total_seconds(), base_delay_seconds * 2**tries)
    return timedelta(seconds=random.uniform(base / 2, base))  # noqa: S311 - jitter


def _retry_after(exc: Exception) -> float | None:
    """Slack's Retry-After of a 429, in seconds (bounded), or None for other failures."""
    return retry_after_seconds(exc, MAX_BACKOFF.total_seconds())
