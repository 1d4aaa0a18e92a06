"""A built-in stand-in of SOGET's customer-orders API: the documented behaviour, in memory.

`cancel-order-bot --sandbox` serves it on 127.0.0.1 (random port) and points the bot at it, so a
team can try the whole approval flow without touching a real order. The tests' fake SOGET API
(tests/fakes/soget_api.py) is this same class plus fault scripting: one implementation.

DELETE applies the documented rules (docs/soget-api.md §3-4): only Master orders, not
Submitted/InProcess (R0008), not with a delivered segment (R0009), not with a container tied to
a booking, already cancelled → ORDER_ALREADY_CANCELED. Any documented code can be forced.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

API_BASE_PATH = "/customer-orders/v1"
ORDER_ID = re.compile(r"CDE\d{10}")


@dataclass
class StandInOrder:
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


@dataclass(frozen=True, slots=True)
class SandboxOrder:
    """One seeded example order, and what cancelling it shows (listed in README.md)."""

    order_id: str
    fields: dict[str, Any]
    what_happens: str


SANDBOX_ORDERS: tuple[SandboxOrder, ...] = (
    SandboxOrder("CDE0000000001", {}, "Master, Valid: cancelled"),
    SandboxOrder("CDE0000000002", {"status": "Accepted"}, "Master, Accepted: cancelled"),
    SandboxOrder("CDE0000000003", {"status": "Submitted"}, "Master, Submitted: refused (R0008)"),
    SandboxOrder("CDE0000000004", {"status": "InProcess"}, "Master, InProcess: refused (R0008)"),
    SandboxOrder(
        "CDE0000000005", {"delivered_segment": True}, "a segment delivered: refused (R0009)"
    ),
    SandboxOrder(
        "CDE0000000006",
        {"type": "Elementary"},
        "Elementary order: refused (CANNOT_CANCEL_NOT_MASTER_ORDER)",
    ),
    SandboxOrder(
        "CDE0000000007",
        {"container_booked": True},
        "container tied to a booking: refused (CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER)",
    ),
    SandboxOrder(
        "CDE0000000008", {"status": "Cancelled"}, "already cancelled: reported as cancelled"
    ),
)


def cancel_refusal(order: StandInOrder) -> str | None:
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


class SogetStandIn:
    """The customer-orders API on 127.0.0.1: `await start()`, then use `api_url`."""

    def __init__(self, *, access_token: str, api_key: str) -> None:
        self.access_tokens: set[str] = {access_token}
        self.api_key = api_key
        self.orders: dict[str, StandInOrder] = {}
        self.port = 0
        self._runner: web.AppRunner | None = None

    @classmethod
    def seeded(cls) -> SogetStandIn:
        """A stand-in with fresh random credentials and the example orders of SANDBOX_ORDERS."""
        stand_in = cls(access_token=secrets.token_urlsafe(24), api_key=secrets.token_urlsafe(24))
        for example in SANDBOX_ORDERS:
            stand_in.add(example.order_id, **example.fields)
        return stand_in

    @property
    def access_token(self) -> str:
        return next(iter(sorted(self.access_tokens)))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return self.url + API_BASE_PATH

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", API_BASE_PATH + "/customer-orders/{order_id}", self.handle_order)]

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def add(self, order_id: str, **fields: Any) -> StandInOrder:
        order = StandInOrder(order_id=order_id, **fields)
        self.orders[order_id] = order
        return order

    def authorised(self, headers: Mapping[str, str]) -> bool:
        bearer = {f"Bearer {token}" for token in self.access_tokens}
        return (
            headers.get("Authorization") in bearer
            and headers.get("Ocp-Apim-Subscription-Key") == self.api_key
        )

    async def intercept(self, request: web.Request) -> web.StreamResponse | None:
        """A hook before the documented behaviour (the tests' fake scripts faults here)."""
        return None

    async def handle_order(self, request: web.Request) -> web.StreamResponse:
        intercepted = await self.intercept(request)
        if intercepted is not None:
            return intercepted
        if not self.authorised(request.headers):
            # Azure API Management's own body, not SOGET's documented one.
            return web.json_response(
                {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
                status=401,
            )
        return self.documented(request.method, request.match_info["order_id"])

    def documented(self, method: str, order_id: str) -> web.Response:
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
