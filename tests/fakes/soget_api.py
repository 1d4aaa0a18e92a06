"""A fake SOGET customer-orders API implementing the documented cancel and read behaviour.

Orders live in memory. DELETE applies the documented rules (../shared/soget-api.md §3):
only Master orders, not Submitted/InProcess (R0008), not with a delivered segment (R0009),
not with a container tied to a booking, already cancelled → ORDER_ALREADY_CANCELED.
Any documented code can be forced per order, and faults can be scripted.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer, RecordedRequest

BASE_PATH = "/customer-orders/v1"
ORDER_ID = re.compile(r"CDE\d{10}")


@dataclass
class FakeOrder:
    order_id: str
    type: str = "Master"
    status: str = "Valid"
    delivered_segment: bool = False
    container_booked: bool = False
    forced_code: str | None = None  # any documented code, answered to DELETE
    transport_order_number: str = "TOC-02-03-2022"
    container_reference: str = "CGMU2436601"

    def as_json(self) -> dict[str, Any]:
        return {
            "customerOrderId": self.order_id,
            "type": self.type,
            "status": self.status,
            "transportOrderNumber": self.transport_order_number,
            "container": {"reference": self.container_reference, "type": "45G1"},
            "contractor": {"code": "FWD01", "name": "Forwarder One"},
            "carrier": {"code": "CAR01", "name": "Carrier One"},
            "date": "2026-11-20T08:00:00Z",
            "clientReference": "REF-42",
        }


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


class FakeSoget(FakeServer):
    def __init__(self, *, access_token: str, api_key: str) -> None:
        super().__init__()
        self.access_token = access_token
        self.api_key = api_key
        self.orders: dict[str, FakeOrder] = {}
        self.delay_seconds = 0.0
        self._faults: list[Fault] = []
        self._stopping = asyncio.Event()  # ends scripted waits, so stopping never lingers

    @property
    def api_url(self) -> str:
        return self.url + BASE_PATH

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", BASE_PATH + "/customer-orders/{order_id}", self._order)]

    def add(self, order_id: str, **fields: Any) -> FakeOrder:
        order = FakeOrder(order_id=order_id, **fields)
        self.orders[order_id] = order
        return order

    def script(self, *faults: Fault) -> None:
        """The next calls of each fault's method get these answers, in order, then documented
        behaviour again."""
        self._faults.extend(faults)

    async def stop(self) -> None:
        self._stopping.set()
        await super().stop()

    def gets(self, order_id: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "GET" and (order_id is None or r.path.endswith("/" + order_id))
        ]

    def deletes(self, order_id: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.requests
            if r.method == "DELETE" and (order_id is None or r.path.endswith("/" + order_id))
        ]

    async def _order(self, request: web.Request) -> web.StreamResponse:
        recorded = await self.record(request)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        fault = self._next_fault(request.method)
        if fault is not None:
            if fault.then_apply:
                self._documented(request.method, request.match_info["order_id"])
            return await self._fault(request, fault)
        if (
            recorded.headers.get("Authorization") != f"Bearer {self.access_token}"
            or recorded.headers.get("Ocp-Apim-Subscription-Key") != self.api_key
        ):
            # Azure API Management's own body, not SOGET's documented one.
            return web.json_response(
                {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
                status=401,
            )
        return self._documented(request.method, request.match_info["order_id"])

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

    async def _fault(self, request: web.Request, fault: Fault) -> web.StreamResponse:
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

    def _documented(self, method: str, order_id: str) -> web.Response:
        if not ORDER_ID.fullmatch(order_id):
            return error_response("WRONG_FORMAT", "Format de l'identifiant incorrect")
        order = self.orders.get(order_id)
        if order is None:
            return error_response("CUSTOMER_ORDER_NOT_FOUND", "Commande introuvable")
        if method == "GET":
            return web.json_response(order.as_json())
        if method != "DELETE":
            return web.Response(status=405)
        code = cancel_refusal(order)
        if code is not None:
            return error_response(code, None if code == "R0009" else f"Erreur {code}")
        order.status = "Cancelled"
        return web.Response(status=200)


def cancel_refusal(order: FakeOrder) -> str | None:
    """The documented reason a DELETE of this order is refused, or None."""
    if order.forced_code:
        return order.forced_code
    if order.status == "Cancelled":
        return "ORDER_ALREADY_CANCELED"
    if order.type != "Master":
        return "CANNOT_CANCEL_NOT_MASTER_ORDER"
    if order.status in {"Submitted", "InProcess"}:
        return "R0008"
    if order.delivered_segment:
        return "R0009"
    if order.container_booked:
        return "CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER"
    return None


def error_response(code: str, message: str | None, status: int = 400) -> web.Response:
    return web.json_response(
        {"timestamp": "2026-11-25T10:00:00Z", "code": code, "message": message}, status=status
    )
