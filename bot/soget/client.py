"""Typed client for SOGET's customer-orders API (MouvONE, formerly S'mouv): `GET` and `DELETE`
of one customer order (docs/soget-api.md §2-3) and the search `GET /customer-orders` (§5), with
retries where the API surely did not act.

Its failures are the `SogetError` hierarchy of `bot.soget.errors`; what it reads is
`bot.soget.models`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from bot.soget.errors import (
    SogetError,
    SogetHttpError,
    SogetInvalidResponse,
    SogetTimeout,
    SogetUnreachable,
    error_from,
)
from bot.soget.models import CustomerOrder, OrderSearchPage, OrderSearchResult
from bot.soget.tokens import TokenProvider

logger = logging.getLogger(__name__)

# Statuses worth another try of a read: the gateway or the backend did not serve it.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# A DELETE is resent only when the backend surely did not act: the gateway's rate limit. After
# a 5xx it may have applied the cancel, so the caller reads the order back instead.
CANCEL_RETRYABLE_STATUSES = frozenset({429})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries for failures where the API did not act: connect errors, 429 and, for reads
    only, 502/503/504.

    Documented business errors, 5xx answers to a DELETE and timeouts after sending are never
    retried here.
    """

    max_attempts: int = 3
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 5.0
    total_budget_seconds: float = 30.0

    def delay_for(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay_seconds)
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - full jitter, not cryptography


NO_RETRY = RetryPolicy(max_attempts=1)

# The search's page size: the documented maximum of `limit` (docs/soget-api.md §5).
SEARCH_PAGE_LIMIT = 50

# Per pool (reads, cancels): httpx's defaults, stated so that a change of httpx cannot
# silently change how many calls the bot makes at once.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

Sleeper = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Call:
    """One HTTP call to the API, as each attempt sends it."""

    method: str
    path: str  # relative to the base URL
    params: dict[str, str] | None = None  # the query string
    timeout: float | None = None  # overrides the client's read timeout


class CallObserver(Protocol):
    """Told about every attempt and retry (metrics); must not raise."""

    def observe_attempt(
        self, method: str, seconds: float, status: int | None, error: SogetError | None
    ) -> None: ...

    def observe_retry(self, method: str, error: SogetError) -> None: ...


class SogetClient:
    """One long-lived client per process; the app owns its lifecycle through `aclose()`.

    Two rules keep a burst from locking the client up (see `_attempt`):
    - reads and cancels use separate connection pools, so reads piling up (previews nobody
      waits for any more, slow answers) never hold the connections a DELETE needs;
    - a caller's cancellation or timeout never reaches httpx: each attempt runs in a task of
      its own, ended by httpx's own timeouts. Cancelling a request inside httpcore's pool can
      leave a connection slot that is never reclaimed (encode/httpcore#1093); once every slot
      is lost, each call fails with PoolTimeout until the process restarts.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        reads: httpx.AsyncClient | None = None,
        tokens: TokenProvider,
        api_key: SecretStr,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleeper = asyncio.sleep,
        observer: CallObserver | None = None,
    ) -> None:
        self._cancels = http  # DELETEs, and reads too unless `reads` is given
        self._reads = reads if reads is not None else http
        self._tokens = tokens  # owned: closed by aclose()
        self._api_key = api_key
        self._retry = retry
        self._sleep = sleep
        self._observer = observer
        # Attempts whose caller stopped waiting: they end on httpx's timeouts, or at aclose().
        self._abandoned: set[asyncio.Task[httpx.Response]] = set()

    @classmethod
    def create(
        cls,
        base_url: str,
        *,
        tokens: TokenProvider,
        api_key: SecretStr,
        connect_timeout: float,
        timeout: float,
        retry: RetryPolicy = RetryPolicy(),
        transport: httpx.AsyncBaseTransport | None = None,
        observer: CallObserver | None = None,
        limits: httpx.Limits = POOL_LIMITS,
    ) -> SogetClient:
        """A client with one pool for reads and one for cancels, each within `limits`.

        A `transport` (tests) replaces both pools with itself.
        """

        def pool() -> httpx.AsyncClient:
            return httpx.AsyncClient(
                base_url=base_url.rstrip("/") + "/",
                # The pool timeout is `timeout` too: a call waiting that long for a
                # connection fails as SogetUnreachable (nothing was sent), which is retried.
                timeout=httpx.Timeout(timeout, connect=connect_timeout),
                headers={"Accept": "application/json", "User-Agent": "cancel-order-bot"},
                transport=transport,
                limits=limits,
            )

        return cls(
            pool(), reads=pool(), tokens=tokens, api_key=api_key, retry=retry, observer=observer
        )

    async def aclose(self) -> None:
        for attempt in self._abandoned:
            attempt.cancel()  # the pools close next: nothing is left to protect
        await asyncio.gather(*self._abandoned, return_exceptions=True)
        await self._cancels.aclose()
        if self._reads is not self._cancels:
            await self._reads.aclose()
        await self._tokens.aclose()

    async def cancel_order(self, order_id: str) -> None:
        """`DELETE /customer-orders/{orderId}`: returns on 2xx, raises a SogetError otherwise."""
        await self._call("DELETE", order_id)

    async def get_order(
        self,
        order_id: str,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> CustomerOrder:
        """`GET /customer-orders/{id}`; `timeout`/`retry` override the client's for this call."""
        response = await self._call("GET", order_id, timeout=timeout, retry=retry)
        try:
            return CustomerOrder.model_validate(response.json())
        except (ValueError, ValidationError) as exc:
            raise SogetInvalidResponse(response.status_code, _short(exc)) from None

    async def search_orders(
        self,
        *,
        container_number: str | None = None,
        transport_order_number: str | None = None,
        max_results: int,
        max_pages: int,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> OrderSearchResult:
        """`GET /customer-orders?containerNumber=…|transportOrderNumber=…`, page after page of
        at most 50 (`offset`/`limit`), until `total` is read or `max_results` orders or
        `max_pages` pages are: then the result says it is `capped`.

        Reads go through the read pool; each page is one read (retried like any read). An
        order met twice (the list moved between pages) counts once.
        """
        filters = {
            "containerNumber": container_number,
            "transportOrderNumber": transport_order_number,
        }
        params = {name: value for name, value in filters.items() if value}
        if not params:
            raise ValueError("a search needs a container number or a transport order number")
        found: dict[str, CustomerOrder] = {}
        offset = total = pages = 0
        while True:
            limit = min(SEARCH_PAGE_LIMIT, max_results - len(found))
            page_params = {**params, "offset": str(offset), "limit": str(limit)}
            response = await self._call(
                "GET", path="customer-orders", params=page_params, timeout=timeout, retry=retry
            )
            pages += 1
            try:
                page = OrderSearchPage.model_validate(response.json())
            except (ValueError, ValidationError) as exc:
                raise SogetInvalidResponse(response.status_code, _short(exc)) from None
            total = page.total
            for order in page.items:
                found.setdefault(order.customer_order_id, order)
            offset += len(page.items)
            if not page.items or offset >= total:
                return OrderSearchResult(tuple(found.values()), total, pages, capped=False)
            if len(found) >= max_results or pages >= max_pages:
                return OrderSearchResult(tuple(found.values()), total, pages, capped=True)

    async def _call(
        self,
        method: str,
        order_id: str | None = None,
        *,
        path: str | None = None,
        params: dict[str, str] | None = None,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> httpx.Response:
        """One call, retried per `retry`: on one order (`order_id`), or at a fixed `path`."""
        if path is None:
            if order_id is None or order_id.strip(".") == "":
                # "." and ".." would be resolved as path segments, reaching another resource.
                raise ValueError("not an order id")
            path = "customer-orders/" + quote(order_id, safe="")
        policy = retry or self._retry
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(_Call(method, path, params, timeout))
            except (SogetUnreachable, SogetHttpError) as exc:
                statuses = RETRYABLE_STATUSES if method == "GET" else CANCEL_RETRYABLE_STATUSES
                retryable = isinstance(exc, SogetUnreachable) or (exc.http_status in statuses)
                retry_after = exc.retry_after if isinstance(exc, SogetHttpError) else None
                delay = policy.delay_for(attempt, retry_after)
                out_of_time = time.monotonic() - started + delay > policy.total_budget_seconds
                if not retryable or attempt >= policy.max_attempts or out_of_time:
                    raise
                if self._observer is not None:
                    self._observer.observe_retry(method, exc)
                logger.warning(
                    "SOGET %s %s failed (%s), attempt %d of %d, retrying in %.1fs",
                    method,
                    path,
                    exc,
                    attempt,
                    policy.max_attempts,
                    delay,
                )
                await self._sleep(delay)

    async def _attempt(self, call: _Call) -> httpx.Response:
        """One attempt, in a task of its own: cancelling the caller only stops the waiting.

        The attempt then ends by itself, within httpx's timeouts (`timeout` when given), so
        no cancellation ever lands inside httpx's pool (encode/httpcore#1093).
        """
        attempt = asyncio.create_task(self._send_authorised(call))
        try:
            return await asyncio.shield(attempt)
        except asyncio.CancelledError:
            if not attempt.done():
                self._abandoned.add(attempt)
                attempt.add_done_callback(self._forget)
            raise

    def _forget(self, attempt: asyncio.Task[httpx.Response]) -> None:
        self._abandoned.discard(attempt)
        if not attempt.cancelled():
            attempt.exception()  # nobody waits for it any more; the observer counted it

    async def _send_authorised(self, call: _Call) -> httpx.Response:
        """One attempt; a 401 with a token that can be renewed gets one renewal and one resend.

        A 401 comes from the gateway before the backend acts, so resending a DELETE is safe.
        """
        token = await self._tokens.token()
        try:
            return await self._send_observed(call, token)
        except SogetError as exc:
            if exc.http_status != 401 or not self._tokens.refreshable:
                raise
            logger.info("SOGET refused the access token (401): obtaining a new one")
            self._tokens.invalidate(token)
            return await self._send_observed(call, await self._tokens.token())

    async def _send_observed(self, call: _Call, token: SecretStr) -> httpx.Response:
        started = time.monotonic()
        error: SogetError | None = None
        status: int | None = None
        try:
            response = await self._send_once(call, token)
            status = response.status_code
            return response
        except SogetError as exc:
            error, status = exc, exc.http_status
            raise
        finally:
            if self._observer is not None:
                seconds = time.monotonic() - started
                self._observer.observe_attempt(call.method, seconds, status, error)

    async def _send_once(self, call: _Call, token: SecretStr) -> httpx.Response:
        headers = {
            "Authorization": f"Bearer {token.get_secret_value()}",
            "Ocp-Apim-Subscription-Key": self._api_key.get_secret_value(),
        }
        http = self._reads if call.method == "GET" else self._cancels
        timeout = call.timeout
        try:
            response = await http.request(
                call.method,
                call.path,
                params=call.params,
                headers=headers,
                timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise SogetUnreachable(type(exc).__name__) from None
        except httpx.TimeoutException as exc:
            raise SogetTimeout(f"no answer from SOGET in time ({type(exc).__name__})") from None
        except httpx.ConnectError as exc:
            raise SogetUnreachable(type(exc).__name__, tls=_is_tls_error(exc)) from None
        except httpx.TransportError as exc:
            # The connection broke after the request went out: we cannot know what happened.
            raise SogetTimeout(
                f"connection lost before the answer ({type(exc).__name__})"
            ) from None
        if response.is_success:
            return response
        raise error_from(response)


def _is_tls_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE" in str(seen).upper():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
