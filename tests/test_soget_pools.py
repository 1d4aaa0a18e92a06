"""The SOGET client under a burst, against the local fake API (issue 10).

A read the caller gives up on must never cost the client a connection for good, and reads
piling up must never make a cancel wait for a connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from bot.domain.preview import PreviewState
from bot.services.preview import OrderPreviewer
from bot.soget.client import NO_RETRY, CallObserver, SogetClient
from bot.soget.errors import SogetError
from bot.soget.tokens import StaticToken
from tests.conftest import SOGET_KEY, SOGET_TOKEN
from tests.fakes.soget_api import FakeSoget, Fault

HTTPX_DEFAULT_POOL_SIZE = 100


def _orders(count: int) -> list[str]:
    return [f"CDE{7000000000 + n}" for n in range(count)]


@pytest.fixture
async def clients() -> AsyncIterator[list[SogetClient]]:
    made: list[SogetClient] = []
    yield made
    for client in made:
        await client.aclose()


def _client(
    fake: FakeSoget,
    clients: list[SogetClient],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    observer: CallObserver | None = None,
) -> SogetClient:
    client = SogetClient.create(
        fake.api_url,
        tokens=StaticToken(SecretStr(SOGET_TOKEN)),
        api_key=SecretStr(SOGET_KEY),
        connect_timeout=1,
        timeout=1,
        retry=NO_RETRY,
        transport=transport,
        observer=observer,
    )
    clients.append(client)
    return client


async def test_reads_given_up_under_contention_leave_the_client_serving(
    fake_soget: FakeSoget, clients: list[SogetClient]
) -> None:
    """Sixty previews over a pool of ten, all giving up at once: httpcore#1093's lock-up."""
    orders = _orders(60)
    for order in orders:
        fake_soget.add(order)
    small_pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=10))
    client = _client(fake_soget, clients, transport=small_pool)
    previewer = OrderPreviewer(client, timeout_seconds=0.2)
    fake_soget.delay_seconds = 1.0  # every read answers long after the preview gave up

    previews = await asyncio.gather(*(previewer.preview(order) for order in orders))
    fake_soget.delay_seconds = 0.0

    assert {preview.state for preview in previews} == {PreviewState.UNAVAILABLE}
    await client.cancel_order(orders[0])
    read = await client.get_order(orders[1])
    assert fake_soget.orders[orders[0]].status == "Cancelled"
    assert len(fake_soget.deletes(orders[0])) == 1
    assert read.status == "Valid"


async def test_a_cancel_never_waits_behind_reads(
    fake_soget: FakeSoget, clients: list[SogetClient]
) -> None:
    """A full pool of reads still in flight: the DELETE goes out on its own connection."""
    orders = _orders(HTTPX_DEFAULT_POOL_SIZE + 1)
    for order in orders:
        fake_soget.add(order)
    *read_orders, cancelled = orders
    answer_reads = asyncio.Event()
    fake_soget.script(*[Fault(method="GET", hold=answer_reads)] * len(read_orders))
    client = _client(fake_soget, clients)
    # The reads wait far longer than the client's 1 s, which bounds the DELETE's wait for a
    # connection.
    reads = [asyncio.create_task(client.get_order(order, timeout=30)) for order in read_orders]
    await fake_soget.wait_until(
        lambda: len(fake_soget.gets()) == len(read_orders), what="every read in flight"
    )

    await client.cancel_order(cancelled)  # sharing the reads' pool: PoolTimeout

    assert fake_soget.orders[cancelled].status == "Cancelled"
    answer_reads.set()
    await asyncio.gather(*reads, return_exceptions=True)


class Attempts:
    """A CallObserver that records each attempt's method and status."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int | None]] = []

    def observe_attempt(
        self, method: str, seconds: float, status: int | None, error: SogetError | None
    ) -> None:
        self.seen.append((method, status))

    def observe_retry(self, method: str, error: SogetError) -> None:
        pass


async def test_a_caller_that_stops_waiting_leaves_the_read_to_finish(
    fake_soget: FakeSoget, clients: list[SogetClient]
) -> None:
    """Giving up on a read stops the waiting, not the read: it ends with its answer."""
    [order] = _orders(1)
    fake_soget.add(order)
    answer = asyncio.Event()
    fake_soget.script(Fault(method="GET", hold=answer))
    attempts = Attempts()
    client = _client(fake_soget, clients, observer=attempts)

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await client.get_order(order)
    answer.set()
    read = await client.get_order(order)

    assert read.customer_order_id == order
    await fake_soget.wait_until(lambda: len(attempts.seen) == 2, what="both reads answered")
    assert attempts.seen == [("GET", 200), ("GET", 200)]
