"""A built-in stand-in of SOGET's customer-orders API: the documented behaviour, in memory.

`cancel-order-bot --sandbox` serves it on 127.0.0.1 (random port) and points the bot at it, so a
team can try the whole approval flow without touching a real order. The tests' fake SOGET API
(tests/fakes/soget_api.py) is this same class plus fault scripting: one implementation.

DELETE applies the documented rules (docs/soget-api.md §3-4): only Master orders, not
Submitted/InProcess (R0008), not with a delivered segment (R0009), not with a container tied to
a booking, already cancelled → ORDER_ALREADY_CANCELED. Any documented code can be forced.
The search (`GET /customer-orders`, §5) filters the same orders by container number, transport
order number and status, and pages them with `offset`/`limit` (at most 50).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.local_server import LocalServer

API_BASE_PATH = "/customer-orders/v1"
ORDER_ID = re.compile(r"CDE\d{10}")
SEARCH_MAX_LIMIT = 50  # the documented maximum of the search's `limit`


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

    def matches(self, query: Mapping[str, str]) -> bool:
        """Whether the search's filters (those given) all hold for this order."""
        container = query.get("containerNumber")
        transport = query.get("transportOrderNumber")
        status = query.get("status")
        return (
            (container is None or container.upper() == self.container_reference.upper())
            and (transport is None or transport == self.transport_order_number)
            and (status is None or status == self.status)
        )

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
    # Found by the searches of SANDBOX_SEARCHES.
    *(
        SandboxOrder(
            order_id,
            {"container_reference": container, "transport_order_number": transport, **fields},
            what,
        )
        for order_id, container, transport, fields, what in (
            ("CDE0000000011", "CSQU3054383", "TOC-14-11-2026", {}, "Master, Valid: cancelled"),
            (
                *("CDE0000000012", "CSQU3054383", "TOC-14-11-2026", {"status": "Accepted"}),
                "Master, Accepted: cancelled",
            ),
            (
                *("CDE0000000013", "CSQU3054383", "TOC-14-11-2026", {"status": "Submitted"}),
                "Master, Submitted: refused (R0008)",
            ),
            ("CDE0000000014", "MSCU1234566", "TOC-14-11-2026", {}, "Master, Valid: cancelled"),
            (
                *("CDE0000000015", "MSCU1234566", "TOC-14-11-2026", {"status": "Cancelled"}),
                "already cancelled: reported as cancelled",
            ),
            ("CDE0000000016", "TGHU6178450", "TOC-15-11-2026", {}, "Master, Valid: cancelled"),
            (
                *("CDE0000000017", "TGHU6178450", "TOC-15-11-2026", {"type": "Elementary"}),
                "Elementary order: refused (CANNOT_CANCEL_NOT_MASTER_ORDER)",
            ),
        )
    ),
)


@dataclass(frozen=True, slots=True)
class SandboxSearch:
    """A search to try in the sandbox, what it finds, and how README.md says it."""

    command: str
    finds: tuple[str, ...]
    what_it_finds: str


_FIRST_TRANSPORT_ORDER = tuple(f"CDE00000000{n}" for n in range(11, 16))
SANDBOX_SEARCHES: tuple[SandboxSearch, ...] = (
    SandboxSearch(
        "container CSQU3054383",
        _FIRST_TRANSPORT_ORDER[:3],
        "`CDE0000000011`, `CDE0000000012` (cancellable), `CDE0000000013` (Submitted: R0008)",
    ),
    SandboxSearch(
        "container MSCU1234566",
        _FIRST_TRANSPORT_ORDER[3:],
        "`CDE0000000014` (cancellable), `CDE0000000015` (already cancelled: not offered)",
    ),
    SandboxSearch(
        "container TGHU6178450",
        ("CDE0000000016", "CDE0000000017"),
        "`CDE0000000016` (cancellable), `CDE0000000017` (Elementary: refused)",
    ),
    SandboxSearch(
        "transport TOC-14-11-2026",
        _FIRST_TRANSPORT_ORDER,
        "`CDE0000000011` to `CDE0000000015`: the orders of the first two containers",
    ),
    SandboxSearch(
        "container MSCU1234565",
        (),
        "nothing: the check digit is wrong (6, not 5), so MouvONE is not asked",
    ),
)


def _gateway_unauthorised() -> web.Response:
    # Azure API Management's own body, not SOGET's documented one.
    return web.json_response(
        {"statusCode": 401, "message": "Access denied due to invalid subscription key."},
        status=401,
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


class SogetStandIn(LocalServer):
    """The customer-orders API on 127.0.0.1: `await start()`, then use `api_url`."""

    shutdown_timeout = 60.0  # aiohttp's default, as this stand-in always had

    def __init__(self, *, access_token: str, api_key: str) -> None:
        super().__init__()
        self.access_tokens: set[str] = {access_token}
        self.api_key = api_key
        self.orders: dict[str, StandInOrder] = {}

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
    def api_url(self) -> str:
        return self.url + API_BASE_PATH

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(API_BASE_PATH + "/customer-orders", self.handle_search),
            web.route("*", API_BASE_PATH + "/customer-orders/{order_id}", self.handle_order),
        ]

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
            return _gateway_unauthorised()
        return self.documented(request.method, request.match_info["order_id"])

    async def handle_search(self, request: web.Request) -> web.StreamResponse:
        intercepted = await self.intercept(request)
        if intercepted is not None:
            return intercepted
        if not self.authorised(request.headers):
            return _gateway_unauthorised()
        return self.search(request.query)

    def search(self, query: Mapping[str, str]) -> web.Response:
        """`GET /customer-orders`: the orders matching every filter given, one page of them.

        `offset` defaults to 0 and `limit` to 10 (documented); a `limit` above the documented
        maximum of 50 is served as 50 (inferred: the documentation does not say it is refused).
        """
        try:
            offset = int(query.get("offset", "0"))
            limit = int(query.get("limit", "10"))
        except ValueError:
            return error_response("WRONG_FORMAT", "Paramètre de pagination incorrect")
        if offset < 0:
            return error_response("OFFSET_NEGATIVE", "L'offset ne peut pas être négatif")
        if limit <= 0:
            return error_response("LIMIT_NONPOSITIVE", "La limite doit être positive")
        limit = min(limit, SEARCH_MAX_LIMIT)
        matches = [order for order in self.orders.values() if order.matches(query)]
        page = matches[offset : offset + limit]
        return web.json_response(
            {
                "total": len(matches),
                "returned": len(page),
                "first": offset,
                "items": [order.as_json() for order in page],
            }
        )

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
