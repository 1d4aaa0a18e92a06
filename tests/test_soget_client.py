"""Tests for bot.soget.SogetClient, driven through httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.i18n.catalogue import FailureKind
from bot.soget.client import NO_RETRY, RETRYABLE_STATUSES, RetryPolicy, SogetClient
from bot.soget.errors import (
    SogetApiError,
    SogetError,
    SogetHttpError,
    SogetInvalidResponse,
    SogetTimeout,
    SogetUnreachable,
)
from bot.soget.models import CustomerOrder
from bot.soget.tokens import StaticToken

BASE_URL = "https://soget-api.example/customer-orders/v1"
ORDER = "CDE0000000001"
TOKEN = "tok-SECRET-bearer-0123456789"
API_KEY = "key-SECRET-subscription-9876543210"
FAST_RETRY = RetryPolicy(
    max_attempts=3, base_delay_seconds=0.001, max_delay_seconds=0.05, total_budget_seconds=5
)

DOCUMENTED_ERROR = {
    "timestamp": "2022-11-08T14:17:19Z",
    "code": "ACTOR_NOT_FOUND",
    "message": "Commande de transport est introuvable!",
}
ORDER_BODY: dict[str, Any] = {
    "customerOrderId": ORDER,
    "type": "Master",
    "status": "Valid",
    "transportOrderNumber": "TOC-02-03-2022",
    "container": {"reference": "CGMU2436601", "type": "45G1", "grossWeight": 12000},
    "contractor": {"code": "CTR01", "name": "Contractor SA", "company": {"x": 1}},
    "carrier": {"code": "CAR01", "name": "Carrier SARL", "contact": {"email": "c@example"}},
    "date": "2022-03-02T08:30:00Z",
    "sender": "Alice",
    "clientReference": "REF-42",
    "customsFlag": "T1",
    "histories": [{"status": "Draft"}],
    "voyage": {"name": "V1"},
}

Step = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, *, text: str | None = None, **headers: str) -> Step:
    """A step answering `status` with a JSON `body`, or a raw `text`."""

    def step(request: httpx.Request) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text, headers=headers)
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return step


def fail(error: type[httpx.TransportError], message: str = "boom") -> Step:
    """A step where the transport raises `error` (the message carries the secrets on purpose)."""

    def step(request: httpx.Request) -> httpx.Response:
        raise error(f"{message} {TOKEN} {API_KEY}", request=request)

    return step


class Script:
    """The fake API: plays its steps in order, then repeats the last one; records requests."""

    def __init__(self, steps: tuple[Step, ...]) -> None:
        assert steps
        self._steps = steps
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self._steps)) - 1
        return self._steps[index](request)

    @property
    def calls(self) -> int:
        return len(self.requests)


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


class Harness:
    def __init__(self) -> None:
        self._clients: list[SogetClient] = []
        self.script = Script((reply(200),))
        self.sleep = RecordingSleep()

    def client(self, *steps: Step, retry: RetryPolicy = FAST_RETRY) -> SogetClient:
        self.script = Script(steps)
        http = httpx.AsyncClient(
            base_url=BASE_URL + "/", transport=httpx.MockTransport(self.script)
        )
        client = SogetClient(
            http,
            tokens=StaticToken(SecretStr(TOKEN)),
            api_key=SecretStr(API_KEY),
            retry=retry,
            sleep=self.sleep,
        )
        self._clients.append(client)
        return client

    def created(self, *steps: Step, base_url: str = BASE_URL) -> SogetClient:
        """A client made by SogetClient.create, as the app makes it."""
        self.script = Script(steps)
        client = SogetClient.create(
            base_url,
            tokens=StaticToken(SecretStr(TOKEN)),
            api_key=SecretStr(API_KEY),
            connect_timeout=1,
            timeout=1,
            retry=NO_RETRY,
            transport=httpx.MockTransport(self.script),
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    made = Harness()
    yield made
    await made.aclose()


# -- request shape -----------------------------------------------------------------------------


@pytest.mark.parametrize("base_url", [BASE_URL, BASE_URL + "/"])
async def test_cancel_sends_both_credentials_to_the_exact_path(
    harness: Harness, base_url: str
) -> None:
    client = harness.created(reply(200), base_url=base_url)

    await client.cancel_order(ORDER)

    assert harness.script.calls == 1
    request = harness.script.requests[0]
    assert request.method == "DELETE"
    assert str(request.url) == f"{BASE_URL}/customer-orders/{ORDER}"
    assert request.url.path == "/customer-orders/v1/customer-orders/CDE0000000001"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Ocp-Apim-Subscription-Key"] == API_KEY
    assert request.content == b""
    assert not request.url.query


async def test_get_sends_both_credentials_to_the_exact_path(harness: Harness) -> None:
    client = harness.created(reply(200, ORDER_BODY))

    await client.get_order(ORDER)

    request = harness.script.requests[0]
    assert request.method == "GET"
    assert str(request.url) == f"{BASE_URL}/customer-orders/{ORDER}"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Ocp-Apim-Subscription-Key"] == API_KEY


@pytest.mark.parametrize("order_id", ["CDE/../../admin", "a?b#c", "x/y", "a..b", "%2e%2e"])
async def test_order_id_stays_one_path_segment(harness: Harness, order_id: str) -> None:
    """Whatever the id, the call goes to one resource under customer-orders/, never elsewhere."""
    client = harness.created(reply(200))

    await client.cancel_order(order_id)

    url = harness.script.requests[0].url
    prefix = b"/customer-orders/v1/customer-orders/"
    assert url.raw_path.startswith(prefix)
    segment = url.raw_path[len(prefix) :]
    assert segment
    assert b"/" not in segment
    assert b"?" not in segment
    assert not url.query


@pytest.mark.parametrize("order_id", [".", "..", "..."])
@pytest.mark.parametrize("method", ["cancel_order", "get_order"])
async def test_dot_segment_id_is_refused_before_sending(
    harness: Harness, order_id: str, method: str
) -> None:
    """`customer-orders/..` would resolve to the API root: such an id must never be sent."""
    client = harness.created(reply(200, ORDER_BODY))

    with pytest.raises(ValueError, match="not an order id"):
        await getattr(client, method)(order_id)

    assert harness.script.calls == 0


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 202, 204])
async def test_success_returns(harness: Harness, status: int) -> None:
    client = harness.client(reply(status))

    await client.cancel_order(ORDER)

    assert harness.script.calls == 1
    assert harness.sleep.delays == []


async def test_documented_400_is_an_api_error(harness: Harness) -> None:
    client = harness.client(reply(400, DOCUMENTED_ERROR))

    with pytest.raises(SogetApiError) as caught:
        await client.cancel_order(ORDER)

    error = caught.value
    assert error.http_status == 400
    assert error.code == "ACTOR_NOT_FOUND"
    assert error.api_message == "Commande de transport est introuvable!"
    assert error.api_timestamp == "2022-11-08T14:17:19Z"
    assert harness.script.calls == 1


async def test_documented_400_with_null_message(harness: Harness) -> None:
    body = {"timestamp": "2024-01-01T00:00:00Z", "code": "R0008", "message": None}
    client = harness.client(reply(400, body))

    with pytest.raises(SogetApiError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.code == "R0008"
    assert caught.value.api_message is None


async def test_documented_body_on_another_status_is_an_api_error(harness: Harness) -> None:
    body = {"timestamp": "2024-01-01T00:00:00Z", "code": "CUSTOMER_ORDER_NOT_FOUND"}
    client = harness.client(reply(404, body))

    with pytest.raises(SogetApiError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.http_status == 404
    assert caught.value.code == "CUSTOMER_ORDER_NOT_FOUND"
    assert caught.value.api_message is None


@pytest.mark.parametrize(
    "step",
    [
        reply(400, text="<html><body><h1>Bad Request</h1></body></html>"),
        reply(400, text="Bad Request"),
        reply(400, text=""),
        reply(400, {"error": "bad_request", "error_description": "nope"}),
        reply(400, {"statusCode": 400, "message": "Bad request"}),
        reply(400, ["ACTOR_NOT_FOUND"]),
        reply(400, "ACTOR_NOT_FOUND"),
        reply(400, {"code": ""}),
        reply(400, {"code": 42, "message": "x"}),
        reply(400, {"code": None}),
    ],
    ids=[
        "html",
        "plain-text",
        "empty",
        "oauth-json",
        "apim-json",
        "json-list",
        "json-string",
        "empty-code",
        "numeric-code",
        "null-code",
    ],
)
async def test_undocumented_400_is_an_invalid_response(harness: Harness, step: Step) -> None:
    client = harness.client(step)

    with pytest.raises(SogetInvalidResponse) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.http_status == 400
    assert caught.value.failure_kind is FailureKind.INVALID_BODY
    assert harness.script.calls == 1


async def test_apim_401_is_gateway_unauthorized(harness: Harness) -> None:
    body = {
        "statusCode": 401,
        "message": (
            "Access denied due to invalid subscription key. Make sure to provide a valid key."
        ),
    }
    client = harness.client(reply(401, body))

    with pytest.raises(SogetHttpError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.http_status == 401
    assert caught.value.failure_kind is FailureKind.GATEWAY_UNAUTHORIZED
    assert harness.script.calls == 1
    assert harness.sleep.delays == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, FailureKind.GATEWAY_UNAUTHORIZED),
        (403, FailureKind.GATEWAY_FORBIDDEN),
        (404, FailureKind.ENDPOINT_NOT_FOUND),
        (408, FailureKind.REQUEST_TIMEOUT_STATUS),
        (418, FailureKind.UNEXPECTED_STATUS),
        (500, FailureKind.SERVER_ERROR),
        (501, FailureKind.SERVER_ERROR),
    ],
)
@pytest.mark.parametrize(
    "body", [None, {"statusCode": 0, "message": "gateway says no"}], ids=["no-body", "apim"]
)
async def test_non_retryable_status_maps_to_failure_kind(
    harness: Harness, status: int, kind: FailureKind, body: dict[str, Any] | None
) -> None:
    client = harness.client(reply(status, body))

    with pytest.raises(SogetHttpError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.http_status == status
    assert caught.value.failure_kind is kind
    assert harness.script.calls == 1
    assert harness.sleep.delays == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (429, FailureKind.RATE_LIMITED),
        (502, FailureKind.SERVER_ERROR),
        (503, FailureKind.SERVER_ERROR),
        (504, FailureKind.SERVER_ERROR),
    ],
)
async def test_retryable_status_maps_to_failure_kind(
    harness: Harness, status: int, kind: FailureKind
) -> None:
    assert status in RETRYABLE_STATUSES
    client = harness.client(reply(status), retry=NO_RETRY)

    with pytest.raises(SogetHttpError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.failure_kind is kind
    assert harness.script.calls == 1


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("get_order", 502),
        ("get_order", 503),
        ("get_order", 504),
        ("get_order", 429),
        ("cancel_order", 429),
    ],
)
async def test_transient_status_then_success_is_retried(
    harness: Harness, method: str, status: int
) -> None:
    order = {"customerOrderId": ORDER, "type": "Master", "status": "Valid"}
    client = harness.client(reply(status), reply(200, order))

    await getattr(client, method)(ORDER)

    assert harness.script.calls == 2
    assert len(harness.sleep.delays) == 1
    ceiling = min(FAST_RETRY.max_delay_seconds, FAST_RETRY.base_delay_seconds)
    assert 0 <= harness.sleep.delays[0] <= ceiling


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("2", 0.05), ("0.01", 0.01), ("0", 0.0), ("120", 0.05), ("-5", 0.0)],
)
async def test_retry_after_is_honoured(harness: Harness, retry_after: str, expected: float) -> None:
    client = harness.client(reply(429, **{"Retry-After": retry_after}), reply(200))

    await client.cancel_order(ORDER)

    assert harness.script.calls == 2
    assert harness.sleep.delays == [pytest.approx(expected)]
    assert harness.sleep.delays[0] == min(max(float(retry_after), 0), FAST_RETRY.max_delay_seconds)


async def test_unreadable_retry_after_falls_back_to_backoff(harness: Harness) -> None:
    client = harness.client(
        reply(429, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), reply(200)
    )

    await client.cancel_order(ORDER)

    assert harness.script.calls == 2
    assert 0 <= harness.sleep.delays[0] <= FAST_RETRY.base_delay_seconds


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
async def test_a_cancel_answered_by_a_server_error_is_never_resent(
    harness: Harness, status: int
) -> None:
    """The backend may have applied the cancel before the 5xx: resending is the caller's call,
    after reading the order back."""
    client = harness.client(reply(status), reply(200))

    with pytest.raises(SogetHttpError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.http_status == status
    assert harness.script.calls == 1
    assert harness.sleep.delays == []


@pytest.mark.parametrize("max_attempts", [1, 2, 3, 5])
async def test_retries_are_bounded_by_max_attempts(harness: Harness, max_attempts: int) -> None:
    policy = RetryPolicy(
        max_attempts=max_attempts, base_delay_seconds=0.001, max_delay_seconds=0.004
    )
    client = harness.client(reply(503), retry=policy)

    with pytest.raises(SogetHttpError) as caught:
        await client.get_order(ORDER)

    assert caught.value.http_status == 503
    assert harness.script.calls == max_attempts
    assert len(harness.sleep.delays) == max_attempts - 1
    for attempt, delay in enumerate(harness.sleep.delays, start=1):
        ceiling = min(policy.max_delay_seconds, policy.base_delay_seconds * 2 ** (attempt - 1))
        assert 0 <= delay <= ceiling


async def test_retry_stops_when_the_time_budget_would_be_exceeded(harness: Harness) -> None:
    policy = RetryPolicy(max_attempts=5, max_delay_seconds=10, total_budget_seconds=0.5)
    client = harness.client(reply(429, **{"Retry-After": "1"}), reply(200), retry=policy)

    with pytest.raises(SogetHttpError) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.failure_kind is FailureKind.RATE_LIMITED
    assert harness.script.calls == 1
    assert harness.sleep.delays == []


@pytest.mark.parametrize("code", ["R0008", "CUSTOMER_ORDER_NOT_FOUND", "ORDER_ALREADY_CANCELED"])
async def test_business_error_is_never_retried(harness: Harness, code: str) -> None:
    body = {"timestamp": "2024-01-01T00:00:00Z", "code": code, "message": "non"}
    client = harness.client(reply(400, body), reply(200))

    with pytest.raises(SogetApiError):
        await client.cancel_order(ORDER)

    assert harness.script.calls == 1
    assert harness.sleep.delays == []


async def test_documented_body_on_503_is_not_retried(harness: Harness) -> None:
    body = {"timestamp": "2024-01-01T00:00:00Z", "code": "CONFLICT", "message": None}
    client = harness.client(reply(503, body), reply(200))

    with pytest.raises(SogetApiError):
        await client.cancel_order(ORDER)

    assert harness.script.calls == 1


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_connect_failure_is_unreachable_and_retried(
    harness: Harness, error: type[httpx.TransportError]
) -> None:
    client = harness.client(fail(error), reply(200))

    await client.cancel_order(ORDER)

    assert harness.script.calls == 2
    assert len(harness.sleep.delays) == 1


async def test_connect_failure_every_time_raises_unreachable(harness: Harness) -> None:
    client = harness.client(fail(httpx.ConnectError))

    with pytest.raises(SogetUnreachable) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.failure_kind is FailureKind.CONNECTION_FAILED
    assert harness.script.calls == FAST_RETRY.max_attempts
    assert len(harness.sleep.delays) == FAST_RETRY.max_attempts - 1


async def test_certificate_failure_is_a_tls_failure(harness: Harness) -> None:
    client = harness.client(fail(httpx.ConnectError, "[SSL: CERTIFICATE_VERIFY_FAILED]"))

    with pytest.raises(SogetUnreachable) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.failure_kind is FailureKind.TLS_FAILURE


@pytest.mark.parametrize(
    "error", [httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError]
)
async def test_failure_after_sending_is_a_timeout_and_not_retried(
    harness: Harness, error: type[httpx.TransportError]
) -> None:
    client = harness.client(fail(error), reply(200))

    with pytest.raises(SogetTimeout) as caught:
        await client.cancel_order(ORDER)

    assert caught.value.failure_kind is FailureKind.TIMEOUT
    assert harness.script.calls == 1
    assert harness.sleep.delays == []


# -- get_order ----------------------------------------------------------------------------------


async def test_get_order_parses_the_documented_fields(harness: Harness) -> None:
    client = harness.client(reply(200, ORDER_BODY))

    order = await client.get_order(ORDER)

    assert isinstance(order, CustomerOrder)
    assert order.customer_order_id == ORDER
    assert order.type == "Master"
    assert order.status == "Valid"
    assert order.transport_order_number == "TOC-02-03-2022"
    assert order.container is not None
    assert order.container.reference == "CGMU2436601"
    assert order.container.type == "45G1"
    assert order.contractor is not None
    assert order.contractor.code == "CTR01"
    assert order.contractor.name == "Contractor SA"
    assert order.carrier is not None
    assert order.carrier.code == "CAR01"
    assert order.carrier.name == "Carrier SARL"
    assert order.client_reference == "REF-42"
    assert order.date is not None
    assert order.date.isoformat() == "2022-03-02T08:30:00+00:00"


async def test_get_order_with_only_required_fields(harness: Harness) -> None:
    body = {"customerOrderId": ORDER, "type": "Elementary", "status": "Submitted"}
    client = harness.client(reply(200, body))

    order = await client.get_order(ORDER)

    assert order.type == "Elementary"
    assert order.status == "Submitted"
    assert order.transport_order_number is None
    assert order.container is None
    assert order.contractor is None
    assert order.carrier is None
    assert order.date is None


async def test_get_order_accepts_nulls_in_optional_fields(harness: Harness) -> None:
    body = {
        "customerOrderId": ORDER,
        "type": "Master",
        "status": "Draft",
        "date": None,
        "clientReference": None,
        "container": {"reference": None},
    }
    client = harness.client(reply(200, body))

    order = await client.get_order(ORDER)

    assert order.date is None
    assert order.container is not None
    assert order.container.reference is None


@pytest.mark.parametrize(
    "step",
    [
        reply(200, {"type": "Master", "status": "Valid"}),
        reply(200, {"customerOrderId": ORDER, "type": "Master"}),
        reply(200, {"customerOrderId": ORDER, "status": "Valid"}),
        reply(200, {"customerOrderId": 1, "type": "Master", "status": "Valid"}),
        reply(200, {**ORDER_BODY, "container": "CGMU2436601"}),
        reply(200, {**ORDER_BODY, "carrier": ["CAR01"]}),
        reply(200, {**ORDER_BODY, "date": "yesterday"}),
        reply(200, [ORDER_BODY]),
        reply(200, None),
        reply(200, text="null"),
        reply(200, text="<html>maintenance</html>"),
        reply(200, text='{"customerOrderId": "CDE0000000001", '),
    ],
    ids=[
        "no-id",
        "no-status",
        "no-type",
        "numeric-id",
        "container-string",
        "carrier-list",
        "bad-date",
        "list",
        "empty",
        "json-null",
        "html",
        "truncated-json",
    ],
)
async def test_get_order_wrong_shape_is_an_invalid_response(harness: Harness, step: Step) -> None:
    client = harness.client(step)

    with pytest.raises(SogetInvalidResponse) as caught:
        await client.get_order(ORDER)

    assert caught.value.http_status == 200
    assert caught.value.failure_kind is FailureKind.INVALID_BODY
    assert harness.script.calls == 1


async def test_get_order_error_is_an_api_error(harness: Harness) -> None:
    body = {"timestamp": "2024-01-01T00:00:00Z", "code": "CUSTOMER_ORDER_NOT_FOUND"}
    client = harness.client(reply(400, body))

    with pytest.raises(SogetApiError) as caught:
        await client.get_order(ORDER)

    assert caught.value.code == "CUSTOMER_ORDER_NOT_FOUND"


# -- secrets -----------------------------------------------------------------------------------

_ECHO = f"Authorization: Bearer {TOKEN}; Ocp-Apim-Subscription-Key: {API_KEY}"


@pytest.mark.parametrize(
    ("method", "step"),
    [
        ("cancel_order", reply(400, {"code": "WRONG_FORMAT", "message": _ECHO})),
        ("cancel_order", reply(400, text=f"<html>{_ECHO}</html>")),
        ("cancel_order", reply(400, {"code": "", "message": _ECHO})),
        ("cancel_order", reply(401, {"statusCode": 401, "message": _ECHO})),
        ("cancel_order", reply(403, text=_ECHO)),
        ("cancel_order", reply(404, text=_ECHO)),
        ("cancel_order", reply(500, text=_ECHO)),
        ("cancel_order", reply(503, text=_ECHO)),
        ("cancel_order", reply(429, text=_ECHO, **{"Retry-After": "0"})),
        ("cancel_order", fail(httpx.ConnectError)),
        ("cancel_order", fail(httpx.ConnectError, "CERTIFICATE_VERIFY_FAILED")),
        ("cancel_order", fail(httpx.ConnectTimeout)),
        ("cancel_order", fail(httpx.ReadTimeout)),
        ("cancel_order", fail(httpx.RemoteProtocolError)),
        ("get_order", reply(200, {"customerOrderId": TOKEN, "type": API_KEY})),
        ("get_order", reply(200, {"customerOrderId": ORDER, "type": "M", "status": 1, "x": TOKEN})),
        ("get_order", reply(200, text=_ECHO)),
        ("get_order", reply(400, {"code": "CUSTOMER_ORDER_NOT_FOUND", "message": _ECHO})),
    ],
)
async def test_no_error_message_contains_the_credentials(
    harness: Harness, caplog: pytest.LogCaptureFixture, method: str, step: Step
) -> None:
    client = harness.client(step)
    caplog.set_level(logging.DEBUG, logger="bot.soget.client")

    with pytest.raises(SogetError) as caught:
        await getattr(client, method)(ORDER)

    shown = [str(caught.value), repr(caught.value), str(caught.value.args)]
    for text in shown:
        assert TOKEN not in text
        assert API_KEY not in text
    assert TOKEN not in caplog.text
    assert API_KEY not in caplog.text


async def test_secrets_are_not_in_the_clients_repr(harness: Harness) -> None:
    client = harness.client(reply(200))

    text = json.dumps([repr(client), repr(vars(client))])

    assert TOKEN not in text
    assert API_KEY not in text
