"""Socket Mode: Slack's WebSocket, kept up until the process is asked to stop.

slack_sdk's aiohttp client retries a failed connection every 5 s for ever, logging a traceback
each time, and cannot be stopped while it does. Here the connection loop backs off (jittered,
capped), logs one line per failed attempt, opens a fresh URL for every attempt (a Socket Mode URL
serves one connection) and ends as soon as the client is closed. Envelopes Slack delivers twice
(same `envelope_id`) are acknowledged again but handled once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import OrderedDict
from time import time
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_base_handler import AsyncBaseSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.inbound import bolt_request, payload_problem

logger = logging.getLogger("bot.socket_mode")

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
# Slack redelivers an envelope it saw no ack for within seconds; a few thousand ids cover that.
SEEN_ENVELOPES = 4096
PING_INTERVAL_SECONDS = 5.0
ENVELOPE_TYPES = frozenset({"slash_commands", "interactive", "events_api"})


def retry_delay(failures: int, *, first: float = FIRST_RETRY_SECONDS) -> float:
    """Seconds to wait after the `failures`-th failure in a row: doubling, capped, with jitter
    (half fixed, half random) so that many bots cut off together do not return together."""
    ceiling = min(MAX_RETRY_SECONDS, first * 2.0 ** (failures - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not a secret)


def describe_failure(error: BaseException) -> str:
    """One line, without the URL (its ticket lets anyone take the connection) or any token."""
    if isinstance(error, SlackApiError):
        return f"apps.connections.open answered {error.response.get('error')!r}"
    if isinstance(error, aiohttp.ClientResponseError):
        return f"the WebSocket handshake answered HTTP {error.status}"
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = error.os_error.strerror or "refused"
        return f"cannot connect to {error.host}:{error.port} ({reason})"
    if isinstance(error, TimeoutError):
        return "timed out"
    return type(error).__name__


def well_formed(envelope: dict[str, Any]) -> bool:
    """The shape Slack's envelopes have: a text id, a known type and an object payload."""
    return (
        isinstance(envelope.get("envelope_id"), str)
        and bool(envelope["envelope_id"])
        and envelope.get("type") in ENVELOPE_TYPES
        and isinstance(envelope.get("payload"), dict)
    )


class SeenEnvelopes:
    """The last `capacity` envelope ids, oldest forgotten first."""

    def __init__(self, capacity: int = SEEN_ENVELOPES) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def first_time(self, envelope_id: str) -> bool:
        """True the first time an id is seen (and remembers it), False after."""
        if envelope_id in self._ids:
            self._ids.move_to_end(envelope_id)
            return False
        self._ids[envelope_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True


class ResilientSocketModeClient(SocketModeClient):
    """slack_sdk's aiohttp Socket Mode client with a connection loop that can be stopped."""

    first_retry_seconds = FIRST_RETRY_SECONDS

    async def run_message_listeners(self, message: dict[str, Any], raw_message: str) -> None:
        # An envelope Slack would never send is dropped with one line (slack_sdk raises on
        # some, logging a traceback).
        if "envelope_id" in message and not well_formed(message):
            logger.warning("Socket Mode: ignored a malformed envelope")
            return
        await super().run_message_listeners(message, raw_message)

    async def send_message(self, message: str) -> None:
        # slack_sdk tries the current socket, then once more after a reconnection under way;
        # with none to be had (the socket was cut, the new one not yet up) it raises, and each
        # ack in flight logged an ERROR with a traceback. An ack lost so is one Slack never
        # saw: it delivers the envelope again, and that delivery is acknowledged.
        try:
            await super().send_message(message)
        except ConnectionError:
            logger.warning("Socket Mode: an ack was lost with the connection (Slack resends)")

    def connected(self) -> bool:
        """The WebSocket to Slack is open now (what /healthz reports)."""
        session = self.current_session
        return not self.closed and session is not None and not session.closed

    async def issue_new_wss_url(self) -> str:
        # Failures are retried (and logged, once) by connect().
        response = await self.web_client.apps_connections_open(app_token=self.app_token)
        return str(response["url"])

    async def connect_to_new_endpoint(self, force: bool = False) -> None:
        # Called on `disconnect`, on a closed or stale socket: the new URL is fetched inside
        # connect()'s retry loop, so Slack being away then is retried, not raised.
        acquired: bool
        try:
            acquired = await asyncio.wait_for(self.connect_operation_lock.acquire(), timeout=5)
        except TimeoutError:
            acquired = False
        try:
            if force or (acquired and not await self.is_connected()):
                self.wss_uri = None
                await self.connect()
        finally:
            if acquired:
                self.connect_operation_lock.release()

    async def connect(self) -> None:
        failures = 0
        while not self.closed:
            try:
                await self._connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # every failure is retried, whatever it is
                if self.closed:
                    return
                failures += 1
                self.wss_uri = None
                delay = retry_delay(failures, first=self.first_retry_seconds)
                logger.warning(
                    "Socket Mode: no connection to Slack (%s); attempt %d, next in %.1f s",
                    describe_failure(error),
                    failures,
                    delay,
                )
                await asyncio.sleep(delay)
            else:
                if failures:
                    logger.info("Socket Mode: connected again after %d failed attempt(s)", failures)
                return

    async def _connect_once(self) -> None:
        old_session = self.current_session
        # No reconnection from the monitor while this one is under way.
        self.auto_reconnect_enabled = False
        if old_session is not None and not old_session.closed:
            # The old socket is being given up anyway.
            with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
                await asyncio.wait_for(old_session.close(), timeout=2)
        if self.aiohttp_client_session.closed:
            self.aiohttp_client_session = aiohttp.ClientSession()
        if self.wss_uri is None:
            self.wss_uri = await self.issue_new_wss_url()
        session = await self.aiohttp_client_session.ws_connect(
            self.wss_uri,
            autoping=False,
            heartbeat=self.ping_interval,
            proxy=self.proxy,
            ssl=self.web_client.ssl if self.web_client.ssl is not None else True,
        )
        self.current_session = session
        self.auto_reconnect_enabled = self.default_auto_reconnect_enabled
        self.stale = False
        self.last_ping_pong_time = None
        await session.ping(f"sdk-ping-pong:{time()}".encode())
        if self.current_session_monitor is not None:
            self.current_session_monitor.cancel()
        self.current_session_monitor = asyncio.ensure_future(self.monitor_current_session())
        if self.message_receiver is not None:
            self.message_receiver.cancel()
        self.message_receiver = asyncio.ensure_future(self.receive_messages())


class SocketModeHandler(AsyncBaseSocketModeHandler):
    """Runs each envelope through the Bolt app once; a redelivered one is only acknowledged."""

    app: AsyncApp
    client: ResilientSocketModeClient

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        *,
        web_client: AsyncWebClient | None = None,
        ping_interval: float = PING_INTERVAL_SECONDS,
    ) -> None:
        self.app = app
        self.client = ResilientSocketModeClient(
            app_token=app_token,
            logger=logging.getLogger("bot.socket_mode.sdk"),
            web_client=web_client or app.client,
            ping_interval=ping_interval,
        )
        self.client.socket_mode_request_listeners.append(self.handle)
        self.seen = SeenEnvelopes()

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        if not self.seen.first_time(req.envelope_id):
            logger.info("Socket Mode: envelope delivered again, acknowledged only")
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        start = time()
        built = payload_problem(req.payload) or bolt_request(
            mode="socket_mode", body=req.payload, headers=build_headers(req)
        )
        if isinstance(built, str):
            # Acknowledged so that Slack does not deliver it again; the HTTP door's 400.
            logger.warning("Socket Mode: ignored a malformed %s payload: %s", req.type, built)
            await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        response = await self.app.async_dispatch(built)
        await send_async_response(client, req, response, start)
