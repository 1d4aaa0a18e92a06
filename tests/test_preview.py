"""Tests for bot.preview: the documented rules, the classification of every answer, and the
previewer's limits (httpx.MockTransport, no sockets)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.domain.preview import (
    ALREADY_CANCELLED,
    IN_PROGRESS,
    NOT_MASTER,
    Preview,
    PreviewState,
    predicted_refusal,
    preview_of,
)
from bot.i18n.catalogue import FailureKind
from bot.services.preview import OrderPreviewer
from bot.soget.client import RetryPolicy, SogetClient
from bot.soget.errors import (
    SogetApiError,
    SogetHttpError,
    SogetInvalidResponse,
    SogetTimeout,
    SogetUnreachable,
)
from bot.soget.models import CustomerOrder
from bot.soget.tokens import StaticToken

TYPES = [
    "Master",
    "Elementary",
    "SegmentTerminalEntrepot",
    "SegmentEntrepotDepot",
    "SegmentDepotEntrepot",
    "SegmentEntrepotTerminal",
    "SegmentTransfer",
]
STATUSES = [
    "Draft",
    "Valid",
    "Cancelled",
    "Submitted",
    "Rejected",
    "InProcess",
    "Accepted",
    "Refused",
]


def order(type_: str = "Master", status: str = "Valid", **extra: Any) -> CustomerOrder:
    return CustomerOrder.model_validate(
        {"customerOrderId": "CDE0000000001", "type": type_, "status": status, **extra}
    )


def expected_refusal(type_: str, status: str) -> str | None:
    """The documented rules, written out independently of the code under test."""
    if status == "Cancelled":
        return ALREADY_CANCELLED
    if type_ != "Master":
        return NOT_MASTER
    if status in ("Submitted", "InProcess"):
        return IN_PROGRESS
    return None


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("type_", TYPES)
def test_predicted_refusal_for_every_type_and_status(type_: str, status: str) -> None:
    assert predicted_refusal(order(type_, status)) == expected_refusal(type_, status)


def test_only_master_orders_in_allowed_statuses_are_predicted_to_succeed() -> None:
    allowed = {s for s in STATUSES if predicted_refusal(order("Master", s)) is None}
    assert allowed == {"Draft", "Valid", "Rejected", "Accepted", "Refused"}


@pytest.mark.parametrize(
    ("type_", "status", "code"),
    [
        ("master", "submitted", IN_PROGRESS),
        (" Master ", "INPROCESS", IN_PROGRESS),
        ("Master", "InProgress", IN_PROGRESS),  # the name R0008's description uses
        ("MASTER", "cancelled", ALREADY_CANCELLED),
        ("Elementary", "CANCELLED", ALREADY_CANCELLED),
        ("", "Valid", NOT_MASTER),
        ("SomethingNew", "Valid", NOT_MASTER),
        ("Master", "SomethingNew", None),
    ],
)
def test_predicted_refusal_tolerates_case_and_spelling(
    type_: str, status: str, code: str | None
) -> None:
    assert predicted_refusal(order(type_, status)) == code


@pytest.mark.parametrize(
    ("found", "state", "code"),
    [
        (order(), PreviewState.READY, None),
        (order(status="Draft"), PreviewState.READY, None),
        (order(status="Cancelled"), PreviewState.BLOCKED, ALREADY_CANCELLED),
        (order(type_="Elementary"), PreviewState.WARNING, NOT_MASTER),
        (order(status="Submitted"), PreviewState.WARNING, IN_PROGRESS),
    ],
)
def test_preview_of_an_order(found: CustomerOrder, state: PreviewState, code: str | None) -> None:
    preview = preview_of(found)
    assert (preview.state, preview.code, preview.order, preview.failure) == (
        state,
        code,
        found,
        None,
    )


def _api_error(code: str, message: str | None = "Commande introuvable") -> SogetApiError:
    return SogetApiError(http_status=400, code=code, message=message, timestamp=None)


@pytest.mark.parametrize("code", ["CUSTOMER_ORDER_NOT_FOUND", "WRONG_FORMAT"])
def test_no_such_order_blocks(code: str) -> None:
    preview = preview_of(_api_error(code))
    assert preview.state is PreviewState.BLOCKED and preview.blocked
    assert (preview.code, preview.api_message, preview.order) == (
        code,
        "Commande introuvable",
        None,
    )


@pytest.mark.parametrize("code", ["ORGANIZATION_NOT_FOUND", "ACTOR_NOT_FOUND", "NEW_CODE"])
def test_other_api_codes_make_the_preview_unavailable(code: str) -> None:
    preview = preview_of(_api_error(code, None))
    assert (preview.state, preview.code, preview.failure) == (PreviewState.UNAVAILABLE, code, None)
    assert not preview.blocked


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (SogetHttpError(401), FailureKind.GATEWAY_UNAUTHORIZED),
        (SogetHttpError(403), FailureKind.GATEWAY_FORBIDDEN),
        (SogetHttpError(404), FailureKind.ENDPOINT_NOT_FOUND),
        (SogetHttpError(408), FailureKind.REQUEST_TIMEOUT_STATUS),
        (SogetHttpError(429), FailureKind.RATE_LIMITED),
        (SogetHttpError(500), FailureKind.SERVER_ERROR),
        (SogetHttpError(503), FailureKind.SERVER_ERROR),
        (SogetHttpError(418), FailureKind.UNEXPECTED_STATUS),
        (SogetTimeout("slow"), FailureKind.TIMEOUT),
        (SogetUnreachable("ConnectError"), FailureKind.CONNECTION_FAILED),
        (SogetUnreachable("ConnectError", tls=True), FailureKind.TLS_FAILURE),
        (SogetInvalidResponse(200, "not JSON"), FailureKind.INVALID_BODY),
    ],
)
def test_failures_make_the_preview_unavailable(error: Exception, kind: FailureKind) -> None:
    assert isinstance(
        error, SogetHttpError | SogetTimeout | SogetUnreachable | SogetInvalidResponse
    )
    preview = preview_of(error)
    assert (preview.state, preview.failure, preview.code) == (PreviewState.UNAVAILABLE, kind, None)


def test_columns_and_note() -> None:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    found = order(status="Submitted", transportOrderNumber="TOC-1", date="2026-11-20T08:00:00Z")
    columns = preview_of(found).columns(at)
    assert columns["preview_state"] == "warning"
    assert columns["preview_code"] == IN_PROGRESS
    assert columns["preview_failure"] is None
    assert columns["preview_at"] == at
    assert CustomerOrder.model_validate_json(columns["preview_order"]) == found
    assert preview_of(found).note() == "preview warning: R0008"
    unavailable = Preview(PreviewState.UNAVAILABLE, failure=FailureKind.TIMEOUT)
    assert unavailable.columns(at)["preview_failure"] == "timeout"
    assert unavailable.columns(at)["preview_order"] is None
    assert unavailable.note() == "preview unavailable: timeout"
    assert Preview(PreviewState.READY).note() == "preview ready"


# -- the previewer, over a mock transport -------------------------------------------------------

ORDER_JSON = {"customerOrderId": "CDE0000000001", "type": "Master", "status": "Valid"}


def previewer(handler: Any, timeout: float = 2.0) -> tuple[OrderPreviewer, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        result = handler(request)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, httpx.Response)
        return result

    # The shared client retries and waits long; the previewer must override both.
    client = SogetClient.create(
        "https://soget.invalid/customer-orders/v1",
        tokens=StaticToken(SecretStr("token")),
        api_key=SecretStr("key"),
        connect_timeout=30,
        timeout=30,
        retry=RetryPolicy(max_attempts=3, base_delay_seconds=0, max_delay_seconds=0),
        transport=httpx.MockTransport(record),
    )
    return OrderPreviewer(client, timeout_seconds=timeout), seen


async def test_previewer_reads_the_order() -> None:
    subject, seen = previewer(lambda _r: httpx.Response(200, json=ORDER_JSON))

    preview = await subject.preview("CDE0000000001")

    assert preview.state is PreviewState.READY
    assert preview.order is not None and preview.order.customer_order_id == "CDE0000000001"
    [request] = seen
    assert request.method == "GET"
    assert request.url.path == "/customer-orders/v1/customer-orders/CDE0000000001"
    assert request.extensions["timeout"] == dict.fromkeys(("connect", "read", "write", "pool"), 2.0)


async def test_previewer_does_not_retry_a_503() -> None:
    subject, seen = previewer(lambda _r: httpx.Response(503))

    preview = await subject.preview("CDE0000000001")

    assert (preview.state, preview.failure) == (PreviewState.UNAVAILABLE, FailureKind.SERVER_ERROR)
    assert len(seen) == 1


async def test_previewer_blocks_a_missing_order() -> None:
    body = {"timestamp": "t", "code": "CUSTOMER_ORDER_NOT_FOUND", "message": "introuvable"}
    subject, _seen = previewer(lambda _r: httpx.Response(400, content=json.dumps(body)))

    preview = await subject.preview("CDE0000000001")

    assert (preview.state, preview.code, preview.api_message) == (
        PreviewState.BLOCKED,
        "CUSTOMER_ORDER_NOT_FOUND",
        "introuvable",
    )


async def test_previewer_gives_up_after_its_time_limit() -> None:
    # The answer never comes: the previewer's own limit ends the wait, whatever httpx does.
    never = asyncio.Event()

    async def hang(_request: httpx.Request) -> httpx.Response:
        await never.wait()
        return httpx.Response(200, json=ORDER_JSON)

    subject, seen = previewer(hang, timeout=0.05)

    preview = await subject.preview("CDE0000000001")

    assert (preview.state, preview.failure) == (PreviewState.UNAVAILABLE, FailureKind.TIMEOUT)
    assert len(seen) == 1


async def test_previewer_never_raises_on_a_bug() -> None:
    def broken(_request: httpx.Request) -> httpx.Response:
        raise RuntimeError("bug in the transport")

    subject, _seen = previewer(broken)

    preview = await subject.preview("CDE0000000001")

    assert preview.state is PreviewState.UNAVAILABLE
    assert preview.failure is FailureKind.UNEXPECTED_STATUS
