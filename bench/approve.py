"""Scenario 2: from the Approve click to the outcome's thread reply reaching Slack.

The fake SOGET answers every call after a fixed delay. The baseline is a raw httpx DELETE
of an order on the same fake, from the bench process, on a kept-alive connection as the
bot's own client has. Flows and baselines alternate; each repetition is a round of flows.
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
    raw_delete: Spread  # milliseconds, the raw DELETE (median of each round)
    overhead: Spread  # milliseconds, per round: median(flow − paired raw DELETE)


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
                    await _raw_delete(raw, driver.new_order())
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
    """One flow and one raw DELETE, in alternating order; (flow ms, DELETE ms)."""
    posted = await driver.request_posted(driver.new_order())
    await bot.settle(window=0.05)
    if index % 2 == 0:
        delete = await _raw_delete(raw, driver.new_order())
        flow = await driver.approve_until_reply(posted)
        await driver.outcome_posted(posted)
    else:
        flow = await driver.approve_until_reply(posted)
        await driver.outcome_posted(posted)
        delete = await _raw_delete(raw, driver.new_order())
    return flow * 1000, delete * 1000


async def _raw_delete(client: httpx.AsyncClient, order_id: str) -> float:
    started = time.monotonic()
    response = await client.delete(f"/customer-orders/{order_id}")
    elapsed = time.monotonic() - started
    if response.status_code != 200:
        raise RuntimeError(f"the fake SOGET answered {response.status_code}")
    return elapsed
