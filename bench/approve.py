"""Scenario 2: from the Approve click to the outcome's thread reply reaching Slack.

The fake SOGET answers every call after a fixed delay. The baseline is the two calls an
approval makes, raw: the re-read of the order (GET, the check that MouvONE would still take
the cancel) then its DELETE, from the bench process on a kept-alive connection as the bot's
own client has. Flows and baselines alternate; each repetition is a round of flows.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.flows import Fakes, FlowDriver
from bench.processes import BOT_MODULE, Served, free_port, serve, server_env
from bench.stats import Spread
from tests.conftest import SOGET_KEY, SOGET_TOKEN


@dataclass(frozen=True, slots=True)
class ApproveResult:
    soget_delay_ms: float
    flows_per_round: int
    flow: Spread  # milliseconds, click → thread reply (median of each round)
    raw_delete: Spread  # milliseconds, the raw GET + DELETE (median of each round)
    overhead: Spread  # milliseconds, per round: median(flow − paired raw GET + DELETE)


async def run_approve(
    fakes: Fakes, workdir: Path, *, rounds: int, flows_per_round: int, soget_delay: float
) -> ApproveResult:
    env = server_env(fakes.slack, fakes.soget, workdir, free_port())
    headers = {"Authorization": f"Bearer {SOGET_TOKEN}", "Ocp-Apim-Subscription-Key": SOGET_KEY}
    flows, deletes, overheads = [], [], []
    fakes.soget.delay_seconds = soget_delay
    try:
        async with (
            serve("bot", BOT_MODULE, env, workdir) as bot,
            httpx.AsyncClient(base_url=fakes.soget.api_url, headers=headers) as raw,
        ):
            driver = FlowDriver(bot.url, bot.database, fakes)
            try:
                for _ in range(3):  # warm up both paths
                    await driver.whole_flow()
                    await _raw_calls(raw, driver.new_order())
                await bot.settle()
                for _ in range(rounds):
                    pairs = [await _pair(driver, raw, bot, i) for i in range(flows_per_round)]
                    flows.append(statistics.median(flow for flow, _ in pairs))
                    deletes.append(statistics.median(delete for _, delete in pairs))
                    overheads.append(statistics.median(flow - delete for flow, delete in pairs))
                    fakes.forget()
            finally:
                await driver.aclose()
    finally:
        fakes.soget.delay_seconds = 0.0
    return ApproveResult(
        soget_delay_ms=soget_delay * 1000,
        flows_per_round=flows_per_round,
        flow=Spread.of(flows),
        raw_delete=Spread.of(deletes),
        overhead=Spread.of(overheads),
    )


async def _pair(
    driver: FlowDriver, raw: httpx.AsyncClient, bot: Served, index: int
) -> tuple[float, float]:
    """One flow and one raw GET + DELETE, in alternating order; (flow ms, calls ms)."""
    posted = await driver.request_posted(driver.new_order())
    await bot.settle(window=0.05)
    if index % 2 == 0:
        delete = await _raw_calls(raw, driver.new_order())
        flow = await driver.approve_until_reply(posted)
        await driver.outcome_posted(posted)
    else:
        flow = await driver.approve_until_reply(posted)
        await driver.outcome_posted(posted)
        delete = await _raw_calls(raw, driver.new_order())
    return flow * 1000, delete * 1000


async def _raw_calls(client: httpx.AsyncClient, order_id: str) -> float:
    """The approval's SOGET calls without the bot: read the order, then cancel it."""
    started = time.monotonic()
    read = await client.get(f"/customer-orders/{order_id}")
    response = await client.delete(f"/customer-orders/{order_id}")
    elapsed = time.monotonic() - started
    if read.status_code != 200 or response.status_code != 200:
        raise RuntimeError(f"the fake SOGET answered {read.status_code}, {response.status_code}")
    return elapsed
