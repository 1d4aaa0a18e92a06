"""SogetClient.search_orders against the sandbox stand-in (the fake SOGET's documented search):
paging by 50 past `total`, the caps, the read pool, typed failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.domain.containers import ContainerNumberError, parse_container_number
from bot.soget.client import NO_RETRY, SogetClient
from bot.soget.errors import SogetApiError, SogetInvalidResponse, SogetTimeout
from bot.soget.sandbox import SANDBOX_SEARCHES, SogetStandIn
from bot.soget.tokens import StaticToken
from tests.fakes.soget_api import SEARCH_PATH, FakeSoget, Fault

TOKEN = "search-token-0123456789"
KEY = "search-key-0123456789"
CONTAINER = "CSQU3054383"


@pytest.fixture
async def soget() -> AsyncIterator[FakeSoget]:
    server = FakeSoget(access_token=TOKEN, api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(soget: FakeSoget) -> AsyncIterator[SogetClient]:
    made = SogetClient.create(
        soget.api_url,
        tokens=StaticToken(SecretStr(TOKEN)),
        api_key=SecretStr(KEY),
        connect_timeout=1,
        timeout=2,
        retry=NO_RETRY,
    )
    yield made
    await made.aclose()


def _add(soget: FakeSoget, count: int, *, container: str = CONTAINER, start: int = 1) -> None:
    for number in range(start, start + count):
        soget.add(f"CDE{number:010d}", container_reference=container)


def _pages(soget: FakeSoget) -> list[tuple[str, str]]:
    return [(r.body["offset"], r.body["limit"]) for r in soget.searches()]


async def test_sixty_matches_are_read_in_two_pages_of_at_most_fifty(
    soget: FakeSoget, client: SogetClient
) -> None:
    _add(soget, 60)
    _add(soget, 5, container="MSKU9070323", start=100)  # another container: not found
    result = await client.search_orders(container_number=CONTAINER, max_results=200, max_pages=10)

    assert _pages(soget) == [("0", "50"), ("50", "50")]
    assert [o.customer_order_id for o in result.orders] == [f"CDE{n:010d}" for n in range(1, 61)]
    assert (result.total, result.pages, result.capped) == (60, 2, False)
    [first, _] = soget.searches()
    assert first.body["containerNumber"] == CONTAINER
    assert "transportOrderNumber" not in first.body
    assert first.headers["Ocp-Apim-Subscription-Key"] == KEY


async def test_the_result_cap_stops_paging_and_says_so(
    soget: FakeSoget, client: SogetClient
) -> None:
    _add(soget, 120)
    result = await client.search_orders(container_number=CONTAINER, max_results=70, max_pages=10)

    assert _pages(soget) == [("0", "50"), ("50", "20")]
    assert (len(result.orders), result.total, result.capped) == (70, 120, True)


async def test_the_page_cap_holds_when_the_server_serves_small_pages(
    soget: FakeSoget, client: SogetClient
) -> None:
    """A server serving fewer than asked (here 10 a page) is paged by what it `returned`, and
    never more than `max_pages` times."""
    _add(soget, 45)
    original = soget.search

    def small_pages(query: object) -> web.Response:
        assert isinstance(query, dict) or hasattr(query, "get")
        return original({**query, "limit": "10"})  # type: ignore[dict-item]

    soget.search = small_pages  # type: ignore[method-assign]
    result = await client.search_orders(container_number=CONTAINER, max_results=200, max_pages=3)

    assert [offset for offset, _ in _pages(soget)] == ["0", "10", "20"]
    assert (len(result.orders), result.total, result.capped) == (30, 45, True)


async def test_an_empty_page_before_total_ends_the_search(
    soget: FakeSoget, client: SogetClient
) -> None:
    """A `total` larger than what the pages hold (orders cancelled meanwhile…) cannot loop."""
    soget.script(Fault(method="GET", body='{"total": 80, "returned": 0, "first": 0, "items": []}'))
    result = await client.search_orders(
        transport_order_number="TOC-1", max_results=200, max_pages=10
    )

    assert len(soget.searches()) == 1
    assert (result.orders, result.total, result.capped) == ((), 80, False)


async def test_the_transport_order_filter_and_the_documented_limits_of_the_stand_in(
    soget: FakeSoget,
) -> None:
    soget.add("CDE0000000001", transport_order_number="TOC-02-03-2022")
    soget.add("CDE0000000002", transport_order_number="TOC-02-03-2022", status="Cancelled")
    soget.add("CDE0000000003", transport_order_number="TOC-OTHER")
    async with httpx.AsyncClient(
        headers={"Authorization": f"Bearer {TOKEN}", "Ocp-Apim-Subscription-Key": KEY}
    ) as http:

        async def search(**params: str) -> httpx.Response:
            return await http.get(soget.url + SEARCH_PATH, params=params)

        found = (await search(transportOrderNumber="TOC-02-03-2022")).json()
        by_status = (await search(transportOrderNumber="TOC-02-03-2022", status="Valid")).json()
        above = (await search(limit="51", transportOrderNumber="TOC-02-03-2022")).json()
        negative = await search(offset="-1")
        zero = await search(limit="0")

    assert found["total"] == 2 and found["returned"] == 2 and found["first"] == 0
    assert [o["customerOrderId"] for o in found["items"]] == ["CDE0000000001", "CDE0000000002"]
    assert [o["customerOrderId"] for o in by_status["items"]] == ["CDE0000000001"]
    assert above["returned"] == 2  # served as at most 50
    assert (negative.status_code, negative.json()["code"]) == (400, "OFFSET_NEGATIVE")
    assert (zero.status_code, zero.json()["code"]) == (400, "LIMIT_NONPOSITIVE")


async def test_a_documented_error_is_typed(soget: FakeSoget, client: SogetClient) -> None:
    soget.script(
        Fault(
            method="GET",
            status=400,
            body='{"timestamp": "2026-01-01T00:00:00Z", "code": "ORGANIZATION_NOT_FOUND"}',
        )
    )
    with pytest.raises(SogetApiError) as raised:
        await client.search_orders(container_number=CONTAINER, max_results=10, max_pages=2)
    assert raised.value.code == "ORGANIZATION_NOT_FOUND"


async def test_an_unreadable_page_is_an_invalid_response(
    soget: FakeSoget, client: SogetClient
) -> None:
    soget.script(Fault(method="GET", body='{"items": "nope"}'))
    with pytest.raises(SogetInvalidResponse):
        await client.search_orders(container_number=CONTAINER, max_results=10, max_pages=2)


async def test_a_slow_page_is_a_timeout(soget: FakeSoget, client: SogetClient) -> None:
    soget.script(Fault(method="GET", delay=1.0, body="{}"))
    with pytest.raises(SogetTimeout):
        await client.search_orders(
            container_number=CONTAINER, max_results=10, max_pages=2, timeout=0.1
        )


async def test_searches_use_the_read_pool() -> None:
    seen: list[str] = []

    def pool(name: str) -> httpx.AsyncClient:
        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(name)
            return httpx.Response(200, json={"total": 0, "returned": 0, "items": []})

        return httpx.AsyncClient(
            base_url="https://x.example/", transport=httpx.MockTransport(answer)
        )

    client = SogetClient(
        pool("cancels"),
        reads=pool("reads"),
        tokens=StaticToken(SecretStr(TOKEN)),
        api_key=SecretStr(KEY),
    )
    try:
        await client.search_orders(container_number=CONTAINER, max_results=10, max_pages=1)
    finally:
        await client.aclose()
    assert seen == ["reads"]


async def test_a_search_needs_a_filter() -> None:
    client = SogetClient(
        httpx.AsyncClient(base_url="https://x.example/"),
        tokens=StaticToken(SecretStr(TOKEN)),
        api_key=SecretStr(KEY),
    )
    try:
        with pytest.raises(ValueError, match="needs a container number"):
            await client.search_orders(max_results=10, max_pages=1)
    finally:
        await client.aclose()


README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


async def test_the_sandbox_searches_find_what_the_readme_says() -> None:
    readme = README
    stand_in = SogetStandIn.seeded()
    await stand_in.start()
    client = SogetClient.create(
        stand_in.api_url,
        tokens=StaticToken(SecretStr(stand_in.access_token)),
        api_key=SecretStr(stand_in.api_key),
        connect_timeout=1,
        timeout=2,
        retry=NO_RETRY,
    )
    try:
        for search in SANDBOX_SEARCHES:
            assert f"| `/cancel-order {search.command}` | {search.what_it_finds} |" in readme
            kind, value = search.command.split()
            if kind == "container":
                try:
                    value = parse_container_number(value)
                except ContainerNumberError:
                    assert search.finds == ()
                    continue
                result = await client.search_orders(
                    container_number=value, max_results=50, max_pages=1
                )
            else:
                result = await client.search_orders(
                    transport_order_number=value, max_results=50, max_pages=1
                )
            assert tuple(o.customer_order_id for o in result.orders) == search.finds
    finally:
        await client.aclose()
        await stand_in.stop()
