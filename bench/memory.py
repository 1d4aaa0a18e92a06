"""Scenario 4: the bot's resident set size, idle and along 10,000 whole cancel flows.

Each flow is request → posted → Approve → DELETE → thread reply → outcome recorded, several
in flight at once. RSS (VmRSS) is read between batches, once the bot is idle again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from bench.flows import Fakes, FlowDriver
from bench.processes import BOT_MODULE, free_port, serve, server_env
from bench.stats import slope


@dataclass(frozen=True, slots=True)
class MemoryResult:
    idle_mib: float  # right after start, before any request
    after_first_mib: float  # after one whole flow (Bolt and the clients warmed up)
    samples: list[tuple[int, float]]  # (flows done, MiB)
    concurrency: int

    @property
    def slope_per_thousand(self) -> float:
        """MiB per 1,000 flows, fitted over the samples (the first is after the first batch)."""
        return slope([n / 1000 for n, _ in self.samples], [mib for _, mib in self.samples])


async def run_memory(
    fakes: Fakes, workdir: Path, *, flows: int, batch: int, concurrency: int
) -> MemoryResult:
    env = server_env(fakes.slack, fakes.soget, workdir, free_port())
    async with serve("bot", BOT_MODULE, env, workdir) as bot:
        await asyncio.sleep(1.0)
        await bot.settle()
        idle = bot.rss_mib()
        driver = FlowDriver(bot.url, bot.database, fakes)
        try:
            await driver.whole_flow()
            await bot.settle()
            after_first = bot.rss_mib()
            samples = []
            done = 0
            while done < flows:
                size = min(batch, flows - done)
                await _flows(driver, size, concurrency)
                done += size
                fakes.forget()
                await bot.settle()
                samples.append((done, bot.rss_mib()))
        finally:
            await driver.aclose()
    return MemoryResult(idle, after_first, samples, concurrency)


async def _flows(driver: FlowDriver, count: int, concurrency: int) -> None:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await driver.whole_flow()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
