"""Everything the bot says in Slack goes through here: Web API calls around the builders."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block
from slack_sdk.models.metadata import Metadata
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.domain.requests import CancelRequest, MessageKind
from bot.i18n.catalogue import Language
from bot.slack.messages import blocks
from bot.slack.messages import bulk as bulk_blocks
from bot.slack.messages import dm as notice_blocks
from bot.slack.messages import thread as settle_blocks
from bot.slack.messages.mrkdwn import Rendered
from bot.slack.sandbox import SandboxWebClient, mark_message

logger = logging.getLogger(__name__)

# chat.postEphemeral errors meaning the user cannot be reached in that channel: the bot is not
# a member or cannot see it, it is archived, or the user is not in it.
CHANNEL_UNREACHABLE_ERRORS = frozenset(
    {"not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel"}
)
RESPONSE_URL_TIMEOUT_SECONDS = 10
# The message metadata event of every message the outbox posts (DeliveryMark).
DELIVERY_EVENT = "cancel_order_delivery"
# A look-up for a delivery reads at most this many pages of this many messages: a thread, or
# the newest messages of a direct message channel (the one looked for is among the newest).
LOOKUP_PAGE_SIZE = 200
LOOKUP_MAX_PAGES = 5
# The message metadata event of every approval request posted: after a failure that may hide a
# post Slack took, the request is looked for by it before it is posted again.
REQUEST_EVENT = "cancel_order_request"
REQUEST_POST_ATTEMPTS = 3
# The approval request is looked for among the channel's newest messages, from a little before
# its first attempt (clocks differ).
REQUEST_LOOKUP_PAGE_SIZE = 100
REQUEST_LOOKUP_LEEWAY_SECONDS = 60
MAX_RETRY_AFTER_SECONDS = 30.0


def retry_after_seconds(exc: Exception, cap: float = MAX_RETRY_AFTER_SECONDS) -> float | None:
    """Slack's Retry-After of a 429, in seconds (at most `cap`), or None for other failures."""
    if not isinstance(exc, SlackApiError) or exc.response.status_code != 429:
        return None
    headers = exc.response.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else 1.0
    except (TypeError, ValueError):
        seconds = 1.0
    return min(max(seconds, 0.0), cap)


def may_have_posted(exc: Exception) -> bool:
    """Whether a failed call may still have posted its message: anything but Slack's own
    refusal (ok: false under a status below 500, such as ratelimited or channel_not_found)."""
    return not (isinstance(exc, SlackApiError) and exc.response.status_code < 500)


def _event_payload(metadata: object, event_type: str) -> dict[str, Any] | None:
    """The payload of a message's metadata if it is of `event_type`, else None."""
    if not isinstance(metadata, dict) or metadata.get("event_type") != event_type:
        return None
    payload = metadata.get("event_payload")
    return payload if isinstance(payload, dict) else None


class LookupIncompleteError(Exception):
    """The look-up read its last page without finding the message nor reaching the end."""


@dataclass(frozen=True, slots=True)
class DeliveryMark:
    """Which outbox delivery a posted message is, sent along as Slack message metadata: a
    delivery whose earlier attempt may have reached Slack is looked for by it before it is
    posted again (`SlackPublisher.find_posted`)."""

    request_id: str
    delivery_id: int
    kind: MessageKind

    def metadata(self) -> Metadata:
        return Metadata(
            event_type=DELIVERY_EVENT,
            event_payload={
                "request": self.request_id,
                "delivery": str(self.delivery_id),
                "kind": self.kind.value,
            },
        )

    def marks(self, metadata: object) -> bool:
        """True if a message with this metadata is the delivery (for a bulk request's summary:
        its one summary reply, whichever of its deliveries posted it)."""
        payload = _event_payload(metadata, DELIVERY_EVENT)
        if payload is None or payload.get("request") != self.request_id:
            return False
        if self.kind is MessageKind.SUMMARY:
            return bool(payload.get("kind") == MessageKind.SUMMARY.value)
        return bool(payload.get("delivery") == str(self.delivery_id))


def _metadata(mark: DeliveryMark | None) -> Metadata | None:
    return mark.metadata() if mark is not None else None


class SlackPublisher:
    def __init__(
        self,
        client: AsyncWebClient,
        approvers: Sequence[str],
        *,
        approval_channel: str | None = None,
        required_approvals: int = 1,
        channel_languages: Mapping[str, Language] | None = None,
        default_language: Language = Language.EN,
        post_client: AsyncWebClient | None = None,
    ) -> None:
        self._client = client
        # The approval request is posted with no retries inside slack_sdk: a resend is decided
        # here, after a look-up (`_post_request_once`).
        self._post_client = post_client or client
        self._approvers = tuple(approvers)
        # APPROVAL_CHANNEL: every approval request (and its thread) lives there.
        self._approval_channel = approval_channel
        self._required_approvals = required_approvals
        # CHANNEL_LANGUAGES: what everyone in a channel reads speaks the channel's language.
        self._channel_languages = dict(channel_languages or {})
        self._default_language = default_language

    def message_channel(self, request: CancelRequest) -> str:
        """The channel of the request's approval message and thread."""
        return self._approval_channel or request.channel_id

    def channel_language(self, request: CancelRequest) -> Language:
        """The language of the request's message and thread (its channel's)."""
        return self._channel_languages.get(self.message_channel(request), self._default_language)

    def _request_message(self, request: CancelRequest) -> Rendered:
        built = blocks.build_request_blocks(
            request,
            self._approvers,
            required_approvals=self._required_approvals,
            language=self.channel_language(request),
        )
        if self.message_channel(request) != request.channel_id:
            built.blocks.append(
                notice_blocks.asked_in_context(request.channel_id, self.channel_language(request))
            )
        return built

    async def post_request(self, request: CancelRequest, *, requester_language: Language) -> str:
        """Post the approval request (in its channel, or APPROVAL_CHANNEL); returns its ts.

        Posted elsewhere, the requester is told where, privately, in `requester_language`."""
        channel = self.message_channel(request)
        ts = await self._post_request_once(channel, request)
        if channel != request.channel_id:
            link = await self.permalink(channel, ts)
            pointer = notice_blocks.build_approval_pointer(
                request, channel, link, requester_language
            )
            await self.tell(request.channel_id, request.requester_id, pointer.text)
        return ts

    async def _post_request_once(self, channel: str, request: CancelRequest) -> str:
        """chat.postMessage of the approval request; its ts. Posted again only when Slack
        surely does not have it: after a rate limit (Slack refused it), or after a failure that
        may hide a post Slack took (a 5xx, a dropped connection, a time-out) once the channel's
        newest messages show none with this request's metadata. Raises the last failure.

        A second message would be an orphan with live buttons: its clicks are refused."""
        message = self._request_message(request)
        metadata = Metadata(event_type=REQUEST_EVENT, event_payload={"request": request.id})
        since = time.time() - REQUEST_LOOKUP_LEEWAY_SECONDS
        for attempt in range(1, REQUEST_POST_ATTEMPTS + 1):
            try:
                response = await self._post_client.chat_postMessage(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    metadata=metadata,
                )
                return str(response["ts"])
            except Exception as exc:
                last = attempt == REQUEST_POST_ATTEMPTS
                wait = retry_after_seconds(exc)
                if wait is not None and not last:
                    await asyncio.sleep(wait)
                    continue
                if not may_have_posted(exc):
                    raise
                found = await self._find_request_post(channel, request.id, since)
                if found is not None:
                    return found
                if last:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _find_request_post(self, channel: str, request_id: str, since: float) -> str | None:
        """The ts of the approval request's message if Slack shows it in `channel`; None if
        not, or if Slack will not tell (without channels:history, say: then it is posted
        again, and may show twice)."""
        try:
            response = await self._client.conversations_history(
                channel=channel,
                oldest=f"{since:.6f}",
                include_all_metadata=True,
                limit=REQUEST_LOOKUP_PAGE_SIZE,
            )
        except Exception as exc:
            logger.warning(
                "could not check whether the request %s reached Slack (%s): posting it again",
                request_id,
                slack_failure(exc),
            )
            return None
        for found in response.get("messages") or []:
            metadata = found.get("metadata") if isinstance(found, dict) else None
            payload = _event_payload(metadata, REQUEST_EVENT)
            if payload is not None and payload.get("request") == request_id:
                logger.info("request %s was in Slack already: not posted again", request_id)
                return str(found["ts"])
        return None

    async def permalink(self, channel: str, ts: str) -> str | None:
        """A link to a message (or thread), or None if Slack would not give one."""
        try:
            response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError as exc:
            logger.warning("no permalink for %s in %s: %s", ts, channel, exc.response.get("error"))
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def show_state(self, request: CancelRequest) -> None:
        """Redraw the request message for the request's current state."""
        if request.message_ts is None:
            return
        message = self._request_message(request)
        await self._client.chat_update(
            channel=self.message_channel(request),
            ts=request.message_ts,
            text=message.text,
            blocks=message.blocks,
        )

    async def post_outcome(self, request: CancelRequest, mark: DeliveryMark | None = None) -> None:
        """Reply in the request's thread with the outcome (the redraw is its own delivery)."""
        outcome = blocks.build_outcome_blocks(request, self.channel_language(request))
        await self._client.chat_postMessage(
            channel=self.message_channel(request),
            thread_ts=request.message_ts,
            text=outcome.text,
            blocks=outcome.blocks,
            unfurl_links=False,
            metadata=_metadata(mark),
        )

    async def post_summary(self, request: CancelRequest, mark: DeliveryMark | None = None) -> str:
        """Post a bulk request's summary reply in its thread; returns its ts."""
        summary = bulk_blocks.build_summary_reply(request, self.channel_language(request))
        response = await self._client.chat_postMessage(
            channel=self.message_channel(request),
            thread_ts=request.message_ts,
            text=summary.text,
            blocks=summary.blocks,
            unfurl_links=False,
            metadata=_metadata(mark),
        )
        return str(response["ts"])

    async def update_summary(self, request: CancelRequest, ts: str) -> None:
        """Edit a bulk request's summary reply to the orders' answers so far."""
        summary = bulk_blocks.build_summary_reply(request, self.channel_language(request))
        await self._client.chat_update(
            channel=self.message_channel(request), ts=ts, text=summary.text, blocks=summary.blocks
        )

    async def deliver(
        self,
        kind: MessageKind,
        request: CancelRequest,
        *,
        recipient: str | None = None,
        recipient_language: Language | None = None,
        mark: DeliveryMark | None = None,
    ) -> None:
        """Make one queued Slack effect happen, rendered from the request's current state (what
        the channel reads in the channel's language; a direct message in `recipient_language`).

        Exactly one Web API call that changes something, so "delivered" means just that call.
        A message it posts carries `mark` as its metadata (`find_posted` looks for it).
        """
        language = self.channel_language(request)
        match kind:
            case MessageKind.REDRAW:
                await self.show_state(request)
            case MessageKind.OUTCOME | MessageKind.UNAVAILABLE:
                await self.post_outcome(request, mark)
            case MessageKind.REJECTION:
                await self.post_rejection(request, mark)
            case MessageKind.REMINDER:
                reminder = settle_blocks.build_reminder_text(request, self._approvers, language)
                await self._thread_reply(request, reminder, mark)
            case MessageKind.VERIFIED:
                verified = settle_blocks.build_verified_text(request, language)
                await self._thread_reply(request, verified, mark)
            case (
                MessageKind.DM_DECIDED
                | MessageKind.DM_FINISHED
                | MessageKind.DM_CLICK_LOST
                | MessageKind.DM_NOT_POSTED
            ):
                recipient = recipient or request.requester_id
                await self._direct_message(
                    kind, request, recipient, recipient_language or language, mark
                )

    async def find_posted(
        self, mark: DeliveryMark, request: CancelRequest, *, recipient: str | None = None
    ) -> str | None:
        """The ts of the message `mark` names if Slack shows it, else None.

        A thread reply is looked for in the request's thread (conversations.replies), a direct
        message in the newest messages of the DM channel (conversations.open, then
        conversations.history). Raises what Slack answers when it will not tell (missing_scope
        without the *:history scopes, not_in_channel, ratelimited…) or the connection fails,
        and LookupIncompleteError past LOOKUP_MAX_PAGES pages.
        """
        if mark.kind.lane == "dm":
            opened = await self._client.conversations_open(users=recipient or request.requester_id)
            response = await self._client.conversations_history(
                channel=str(opened["channel"]["id"]),
                include_all_metadata=True,
                limit=LOOKUP_PAGE_SIZE,
            )
        elif request.message_ts is not None:
            response = await self._client.conversations_replies(
                channel=self.message_channel(request),
                ts=request.message_ts,
                include_all_metadata=True,
                limit=LOOKUP_PAGE_SIZE,
            )
        else:  # no thread to reply in: the reply went to the channel itself
            response = await self._client.conversations_history(
                channel=self.message_channel(request),
                include_all_metadata=True,
                limit=LOOKUP_PAGE_SIZE,
            )
        pages = 0
        async for page in response:  # slack_sdk follows response_metadata.next_cursor
            for message in page.get("messages") or []:
                if isinstance(message, dict) and mark.marks(message.get("metadata")):
                    return str(message["ts"])
            pages += 1
            if pages >= LOOKUP_MAX_PAGES and page.get("response_metadata", {}).get("next_cursor"):
                raise LookupIncompleteError(f"not in the first {pages} pages")
        return None

    async def _thread_reply(
        self, request: CancelRequest, reply: Rendered, mark: DeliveryMark | None = None
    ) -> None:
        await self._client.chat_postMessage(
            channel=self.message_channel(request),
            thread_ts=request.message_ts,
            text=reply.text,
            blocks=reply.blocks or None,
            metadata=_metadata(mark),
        )

    async def _direct_message(
        self,
        kind: MessageKind,
        request: CancelRequest,
        user: str,
        language: Language,
        mark: DeliveryMark | None = None,
    ) -> None:
        """A direct message to `user`, in their `language`."""
        link = None
        if request.message_ts:
            link = await self.permalink(self.message_channel(request), request.message_ts)
        build = {
            MessageKind.DM_DECIDED: notice_blocks.build_decided_dm,
            MessageKind.DM_FINISHED: notice_blocks.build_finished_dm,
            MessageKind.DM_CLICK_LOST: notice_blocks.build_click_lost_dm,
            MessageKind.DM_NOT_POSTED: notice_blocks.build_not_posted_dm,
        }[kind]
        dm = build(request, link, language)
        await self._client.chat_postMessage(
            channel=user,
            text=dm.text,
            blocks=dm.blocks,
            unfurl_links=False,
            metadata=_metadata(mark),
        )

    async def post_rejection(
        self, request: CancelRequest, mark: DeliveryMark | None = None
    ) -> None:
        reply = blocks.build_rejection_reply(request, self.channel_language(request))
        await self._thread_reply(request, reply, mark)

    async def tell(
        self, channel_id: str, user_id: str, text: str, *, response_url: str | None = None
    ) -> None:
        """A private message to one user in a channel; failures are logged, not raised.

        Where the bot cannot post in the channel (not invited, a private channel or a DM it
        is not part of) the message goes through `response_url` (the interaction's own
        reply route, which needs no membership) when there is one, else as a direct message.
        """
        await self._tell(channel_id, user_id, text, None, response_url)

    async def tell_blocks(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        message_blocks: Sequence[Block],
        *,
        response_url: str | None = None,
    ) -> None:
        """Like `tell`, with Block Kit (buttons in a private message)."""
        await self._tell(channel_id, user_id, text, list(message_blocks), response_url)

    async def _tell(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        message_blocks: list[Block] | None,
        response_url: str | None,
    ) -> None:
        try:
            await self._client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=message_blocks
            )
            return
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error not in CHANNEL_UNREACHABLE_ERRORS:
                logger.warning("could not tell %s in %s: %s", user_id, channel_id, error)
                return
            logger.info(
                "cannot tell %s in %s (%s): answering another way", user_id, channel_id, error
            )
        if response_url and await self._respond_privately(response_url, text, message_blocks):
            return
        try:
            await self._client.chat_postMessage(
                channel=user_id, text=text, blocks=message_blocks, unfurl_links=False
            )
        except SlackApiError as exc:
            logger.warning(
                "could not tell %s in a direct message either: %s",
                user_id,
                exc.response.get("error"),
            )

    async def _respond_privately(
        self, response_url: str, text: str, message_blocks: list[Block] | None
    ) -> bool:
        """An ephemeral answer through an interaction's response_url; True if Slack took it.

        The URL carries its own authorisation: it is never logged.
        """
        payload_text: str | None = text
        payload_blocks: Sequence[Block | dict[str, Any]] | None = message_blocks
        if isinstance(self._client, SandboxWebClient):
            payload_text, payload_blocks = mark_message(text, message_blocks)
        webhook = AsyncWebhookClient(
            response_url, timeout=RESPONSE_URL_TIMEOUT_SECONDS, session=self._client.session
        )
        try:
            response = await webhook.send(
                text=payload_text,
                blocks=payload_blocks,
                response_type="ephemeral",
                replace_original=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("could not answer through response_url: %s", type(exc).__name__)
            return False
        if response.status_code != 200:
            logger.warning("response_url refused the answer: HTTP %s", response.status_code)
            return False
        return True

    async def user_locale(self, user_id: str) -> str | None:
        """The user's Slack locale, e.g. 'fr-FR' (needs the users:read scope)."""
        response = await self._client.users_info(user=user_id, include_locale=True)
        user = response.get("user") or {}
        locale = user.get("locale") if isinstance(user, dict) else None
        return str(locale) if locale else None

    async def group_members(self, group_id: str) -> list[str]:
        response = await self._client.usergroups_users_list(usergroup=group_id)
        users: list[object] = response.get("users", [])
        return [str(user) for user in users]


def slack_failure(exc: Exception) -> str:
    """A failure in a few words: Slack's error code, or the exception's type."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__
