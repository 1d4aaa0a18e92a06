"""The fake SOGET API of the tests: the bot's own sandbox stand-in plus fault scripting.

The documented behaviour (orders, refusal rules, error bodies, routes) lives in bot/sandbox.py,
so `cancel-order-bot --sandbox` behaves exactly as the tests expect. This subclass records every
request and can answer scripted faults (statuses, bodies, delays, dropped connections) instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.soget.sandbox import API_BASE_PATH as BASE_PATH
from bot.soget.sandbox import ORDER_ID, SogetStandIn, cancel_refusal, error_response
from bot.soget.sandbox import StandInOrder as FakeOrder
from tests.fakes.server import RecordedRequest, record_request, wait_until

SEARCH_PATH = BASE_PATH + "/customer-orders"

__all__ = [
    "BASE_PATH",
    "ORDER_ID",
    "SEARCH_PATH",
    "FakeOrder",
    "FakeSoget",
    "Fault",
    "cancel_refusal",
    "error_response",
]


@dataclass
class Fault:
    """One scripted answer instead of the documented behaviour."""

    status: int = 200
    body: str | bytes | None = None  # raw body; None → empty
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    reset: bool = False  # drop the connection instead of answering
    then_apply: bool = False  # apply the documented behaviour (e.g. cancel) before the fault
    method: str = "DELETE"  # the calls it answers: "DELETE", "GET", or "*" for any
    hold: asyncio.Event | None = None  # answer only once the test sets it (or the fake stops)


class FakeSoget(SogetStandIn):
    def __init__(self, *, access_token: str, api_key: str) -> None:
        super().__init__(access_token=access_token, api_key=api_key)
        self.requests: list[RecordedRequest] = []
        self.delay_seconds = 0.0
        # While set to an unset event, every call waits for it (then answers as documented).
        self.gate: asyncio.Event | None = None
        self.in_flight = 0  # calls received and not answered yet (gate, delay)
        self.most_in_flight = 0
        self._faults: list[Fault] = []
        self._stopping = asyncio.Event()  # ends scripted waits, so stopping never lingers

    def script(self, *faults: Fault) -> None:
        """The next calls of each fault's method get these answers, in order, then documented
        behaviour again."""
        self._faults.extend(faults)

    async def stop(self) -> None:
        self._stopping.set()
        await super().stop()

    def gets(self, order_id: str | None = None) -> list[RecordedRequest]:
        """Reads of one order (not searches)."""
        return [
            r
            for r in self.requests
            if r.method == "GET"
            and r.path != SEARCH_PATH
            and (order_id is None or r.path.endswith("/" + order_id))
        ]

    def searches(self) -> list[RecordedRequest]:
        """`GET /customer-orders` calls; each one's `body` holds its query parameters."""
        return [r for r in self.requests if r.method == "GET" and r.path == SEARCH_PATH]

    def deletes(self, order_id: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "DELETE" and (order_id is None or r.path.endswith("/" + order_id))
        ]

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition"
    ) -> None:
        await wait_until(predicate, timeout=timeout, what=what)

    def _next_fault(self, method: str) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.method in (method, "*"):
                return self._faults.pop(index)
        return None

    async def _wait(self, event: asyncio.Event, timeout: float | None) -> None:
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stopping.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def intercept(self, request: web.Request) -> web.StreamResponse | None:
        await record_request(self.requests, request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self._wait(self.gate, None)
            if self.delay_seconds:
                await asyncio.sleep(self.delay_seconds)
        finally:
            self.in_flight -= 1
        fault = self._next_fault(request.method)
        if fault is None:
            return None
        if fault.then_apply and "order_id" in request.match_info:
            self.documented(request.method, request.match_info["order_id"])
        if fault.hold is not None:
            await self._wait(fault.hold, None)
        if fault.delay:
            await self._wait(asyncio.Event(), fault.delay)
        if fault.reset:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return web.Response(
            status=fault.status,
            body=fault.body if fault.body is not None else b"",
            content_type=fault.content_type,
            headers=fault.headers,
        )
