"""A fake Slack Socket Mode server: the WebSocket end of Slack's Socket Mode protocol.

FakeSlack's `apps.connections.open` (app token only) hands out a one-use URL on this server.
A connection gets `hello`; the test then pushes envelopes
`{"envelope_id", "type", "payload", "accepts_response_payload"}` and the server records each ack
`{"envelope_id", "payload"?}` (a slash command's ack payload is its reply). `disconnect` sends
Slack's notice (`warning`, `refresh_requested`) and `drop` cuts the socket without a goodbye.

As Slack, sending never waits for the client: each connection has an outbox written by its own
task, so a slow client cannot hold up the test that delivers (`sent_at` is when Slack sent the
envelope, which starts its 3 s). `redeliver_unacked` is Slack's retry of the envelopes it saw
no ack for, on whatever connection is current.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.server import FakeServer, wait_until

APP_ID = "A0APP0001"


@dataclass
class Connection:
    ticket: str
    socket: web.WebSocketResponse
    request: web.Request
    received: list[dict[str, Any]] = field(default_factory=list)
    outbox: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None

    async def write(self) -> None:
        """Send what is put in the outbox, in order, until the socket closes."""
        with contextlib.suppress(ConnectionError, RuntimeError):
            while not self.socket.closed:
                await self.socket.send_str(await self.outbox.get())


class FakeSocketMode(FakeServer):
    def __init__(self, *, app_token: str) -> None:
        super().__init__()
        self.app_token = app_token
        self.issued: list[str] = []  # tickets handed out by apps.connections.open
        self.connections: list[Connection] = []  # every WebSocket that was opened, in order
        self.acks: list[dict[str, Any]] = []
        self.sent_at: dict[str, list[float]] = {}  # envelope_id → when each delivery was sent
        self.acked_at: dict[str, list[float]] = {}  # envelope_id → when each ack arrived
        self.refused_tickets: list[str] = []
        self._used: set[str] = set()
        self._envelope = itertools.count(1)
        self._delivered: dict[str, dict[str, Any]] = {}  # envelope_id → the envelope
        self._cut_on_ack: set[str] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/link/", self._link)]

    def issue_url(self) -> str:
        ticket = uuid.uuid4().hex
        self.issued.append(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={APP_ID}"

    # -- what tests do ---------------------------------------------------------------------

    @property
    def current(self) -> Connection | None:
        live = [c for c in self.connections if not c.socket.closed]
        return live[-1] if live else None

    async def wait_connected(self, count: int = 1, *, timeout: float = 10.0) -> Connection:
        """Wait until the `count`-th connection is open and greeted; return it."""
        await wait_until(
            lambda: len(self.connections) >= count and not self.connections[-1].socket.closed,
            timeout=timeout,
            what=f"Socket Mode connection #{count}",
        )
        return self.connections[-1]

    async def send(self, message: dict[str, Any] | str) -> None:
        """Send one frame: a message (as JSON) or raw text; it goes out behind the frames
        already sent, and this returns at once, as Slack's sending does not wait for the app."""
        connection = self.current
        assert connection is not None, "no open Socket Mode connection"
        connection.outbox.put_nowait(message if isinstance(message, str) else json.dumps(message))

    async def redeliver_unacked(self) -> list[str]:
        """Slack's retry: deliver again, with the same id, every envelope no ack came for."""
        again = [e for e in self._delivered if e not in self.acked_at]
        for envelope_id in again:
            envelope = self._delivered[envelope_id]
            if envelope["type"] == "events_api":
                envelope = envelope | {"retry_attempt": envelope["retry_attempt"] + 1}
                envelope["retry_reason"] = "timeout"
                self._delivered[envelope_id] = envelope
            self.sent_at[envelope_id].append(time.monotonic())
            await self.send(envelope)
        return again

    async def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
    ) -> str:
        """Push one envelope the way Slack does; returns its envelope_id."""
        envelope_id = envelope_id or f"env-{next(self._envelope):04d}-{uuid.uuid4().hex[:8]}"
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            # Slack lets the ack carry a reply for commands and interactions, not for events.
            "accepts_response_payload": kind != "events_api",
        }
        if kind == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = "timeout" if retry_attempt else ""
        self._delivered[envelope_id] = envelope
        self.sent_at.setdefault(envelope_id, []).append(time.monotonic())
        await self.send(envelope)
        return envelope_id

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that this connection will go away (`warning` comes ~10 s ahead)."""
        await self.send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake"}})

    async def drop(self) -> None:
        """Cut the current socket: no close frame, the TCP connection just ends."""
        connection = self.current
        assert connection is not None, "no open Socket Mode connection"
        transport = connection.request.transport
        if transport is not None:
            transport.abort()
        await wait_until(lambda: connection.socket.closed, what="the socket to close")

    def cut_on_first_ack(self, envelope_ids: list[str]) -> None:
        """Cut the socket the moment the first ack of one of these envelopes arrives: the acks
        the bot sends after it (for envelopes it has already taken) never reach Slack."""
        self._cut_on_ack = set(envelope_ids)

    def acks_for(self, envelope_id: str) -> list[dict[str, Any]]:
        return [a for a in self.acks if a.get("envelope_id") == envelope_id]

    async def wait_ack(self, envelope_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
        await wait_until(
            lambda: bool(self.acks_for(envelope_id)),
            timeout=timeout,
            what=f"the ack of {envelope_id}",
        )
        return self.acks_for(envelope_id)[0]

    # -- the server ------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        # A URL from apps.connections.open serves one connection.
        if ticket not in self.issued or ticket in self._used:
            self.refused_tickets.append(ticket)
            return web.Response(status=401, text="invalid ticket")
        self._used.add(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(ticket=ticket, socket=socket, request=request)
        await socket.send_str(
            json.dumps(
                {
                    "type": "hello",
                    "num_connections": 1,
                    "debug_info": {"host": "fake-socket-mode", "approximate_connection_time": 60},
                    "connection_info": {"app_id": APP_ID},
                }
            )
        )
        self.connections.append(connection)
        connection.writer = asyncio.create_task(connection.write())
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                connection.received.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data)
                    if isinstance(data["envelope_id"], str):
                        self.acked_at.setdefault(data["envelope_id"], []).append(time.monotonic())
                    if data["envelope_id"] in self._cut_on_ack:
                        self._cut_on_ack = set()
                        if request.transport is not None:
                            request.transport.abort()
                        break
        except ConnectionResetError:
            pass  # dropped by drop() or by the client
        finally:
            connection.writer.cancel()
        return socket

    async def stop(self) -> None:
        for connection in self.connections:
            if not connection.socket.closed:
                await connection.socket.close()
        await super().stop()
