"""Scenario 6: a bulk request of N orders, from the Approve click to the final summary in Slack.

MouvONE (the fake SOGET) answers every call after a fixed delay. The bot sends the N DELETEs
BULK_CONCURRENCY at a time and edits one summary reply; the time measured ends when Slack
receives the summary with its final line. Two baselines, measured in the same run from the bench
process with kept-alive httpx connections, in turns with the flows: the N DELETEs one after the
other (what one person clicking N single requests would at best wait for MouvONE), and the N
DELETEs BULK_CONCURRENCY at a time (the bounded-concurrency floor, ⌈N/C⌉ × delay in theory).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.flows import Fakes, FlowDriver, Posted
from bench.processes import BOT_MODULE, free_port, serve, server_env
from bench.stats import Spread
from tests import payloads
from tests.conftest import REQUESTER, SOGET_KEY, SOGET_TOKEN


@dataclass(frozen=True, slots=True)
class BulkResult:
    orders: int
    concurrency: int
    soget_delay_ms: float
    rounds: int
    flow: Spread  # ms, Approve → final summary received by Slack
    sequential: Spread  # ms, N raw DELETEs one after the other
    bounded: Spread  # ms, N raw DELETEs C at a time (the measured floor)

    @property
    def theoretical_floor_ms(self) -> float:
        return math.ceil(self.orders / self.concurrency) * self.soget_delay_ms


async def run_bulk(
    fakes: Fakes,
    workdir: Path,
    *,
    rounds: int,
    orders: int,
    concurrency: int,
    soget_delay: float,
) -> BulkResult:
    env = server_env(fakes.slack, fakes.soget, workdir, free_port()) | {
        "BULK_CONCURRENCY": str(concurrency),
        "MAX_ORDERS_PER_REQUEST": str(max(orders, 20)),
    }
    headers = {"Authorization": f"Bearer {SOGET_TOKEN}", "Ocp-Apim-Subscription-Key": SOGET_KEY}
    flows: list[float] = []
    sequential: list[float] = []
    bounded: list[float] = []
    try:
        async with (
            serve("bot", BOT_MODULE, env, workdir) as bot,
            httpx.AsyncClient(base_url=fakes.soget.api_url, headers=headers) as raw,
        ):
            driver = FlowDriver(bot.url, bot.database, fakes)
            try:
                fakes.soget.delay_seconds = 0.0
                await _bulk_flow(driver, fakes, orders)  # warm up
                await _raw(raw, driver, orders, 1)
                await bot.settle()
                fakes.forget()
                for index in range(rounds):
                    fakes.soget.delay_seconds = 0.0
                    posted = await _bulk_posted(driver, fakes, orders)
                    await bot.settle(window=0.05)
                    fakes.soget.delay_seconds = soget_delay
                    if index % 2 == 0:
                        sequential.append(await _raw(raw, driver, orders, 1))
                        bounded.append(await _raw(raw, driver, orders, concurrency))
                        flows.append(await _approve_until_final(driver, fakes, posted))
                    else:
                        flows.append(await _approve_until_final(driver, fakes, posted))
                        bounded.append(await _raw(raw, driver, orders, concurrency))
                        sequential.append(await _raw(raw, driver, orders, 1))
                    fakes.soget.delay_seconds = 0.0
                    await bot.settle(window=0.05)
                    fakes.forget()
            finally:
                await driver.aclose()
    finally:
        fakes.soget.delay_seconds = 0.0
    return BulkResult(
        orders=orders,
        concurrency=concurrency,
        soget_delay_ms=soget_delay * 1000,
        rounds=rounds,
        flow=Spread.of(flows),
        sequential=Spread.of(sequential),
        bounded=Spread.of(bounded),
    )


async def _bulk_posted(driver: FlowDriver, fakes: Fakes, orders: int) -> Posted:
    ids = [driver.new_order() for _ in range(orders)]
    await driver.post(
        payloads.slash_command(
            "\n".join(ids) + "\nbench", user=REQUESTER, response_url=fakes.slack.response_url
        )
    )
    return await driver.poll_posted(ids[0])


async def _bulk_flow(driver: FlowDriver, fakes: Fakes, orders: int) -> None:
    await _approve_until_final(driver, fakes, await _bulk_posted(driver, fakes, orders))


async def _approve_until_final(driver: FlowDriver, fakes: Fakes, posted: Posted) -> float:
    """Click Approve; ms until Slack received the summary reply showing its final line."""
    body = driver.approve_body(posted)
    started = time.monotonic()
    await driver.post(body)
    await driver.outcome_posted(posted)
    finals = [
        r.at
        for r in fakes.slack.requests
        if r.path in ("/api/chat.update", "/api/chat.postMessage") and "Done:" in json.dumps(r.body)
    ]
    if not finals:
        raise RuntimeError("the summary never showed its final line")
    return (min(finals) - started) * 1000


async def _raw(raw: httpx.AsyncClient, driver: FlowDriver, orders: int, at_once: int) -> float:
    """ms for `orders` raw DELETEs, `at_once` in flight at a time."""
    ids = [driver.new_order() for _ in range(orders)]
    gate = asyncio.Semaphore(at_once)

    async def one(order_id: str) -> None:
        async with gate:
            response = await raw.delete(f"/customer-orders/{order_id}")
            if response.status_code != 200:
                raise RuntimeError(f"the fake SOGET answered {response.status_code}")

    started = time.monotonic()
    await asyncio.gather(*(one(order_id) for order_id in ids))
    return (time.monotonic() - started) * 1000
