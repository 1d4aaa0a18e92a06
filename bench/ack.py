"""Scenario 1: ack latency of N concurrent signed slash commands, bot vs a bare Bolt app.

Both run in their own processes at the same time (started once) and take the bursts in turns,
A B B A …, so drift on this shared machine hits both alike. Each burst fires N commands at
once; a request's latency runs from just before it is sent to its response's last byte.
After each burst the bench waits until the server is idle again (the bot finishes posting
and storing in the background after it acks).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp

from bench.flows import Fakes
from bench.processes import BOT_MODULE, FLOOR_MODULE, Served, free_port, serve, server_env
from bench.stats import Spread, percentile
from bot.app import SLACK_EVENTS_PATH
from tests import payloads
from tests.conftest import REQUESTER, SIGNING_SECRET

BOT = "bot"
FLOOR = "floor"
# New connection per request: what N separate senders look like to the server (includes the
# TCP handshake and the listen backlog). Keep-alive: N connections opened before the burst,
# as a proxy in front of the bot would hold them; this isolates the application.
CONNECTION_MODES = ("new", "keep-alive")


@dataclass(frozen=True, slots=True)
class Burst:
    latencies: list[float]  # seconds, one per request
    wall: float  # seconds from the first send to the last response
    errors: int
    cpu_acking: float = 0.0  # server CPU seconds from the first send to the last response
    cpu_total: float = 0.0  # … until the server is idle again (its background work done)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


@dataclass(frozen=True, slots=True)
class AckRow:
    """One (N, connection mode, app): each figure is the median of the repetitions."""

    concurrency: int
    mode: str
    app: str
    p50: Spread  # milliseconds
    p95: Spread
    p99: Spread
    max: Spread
    worst: float  # the slowest ack of all repetitions, milliseconds
    throughput: Spread  # acks per second
    errors: int
    cpu_acking: Spread  # server CPU ms per command, until the last ack
    cpu_total: Spread  # server CPU ms per command, including the work after the ack
    p99s: list[float]  # per repetition, in order, to pair bot and floor runs


@dataclass(frozen=True, slots=True)
class AckResult:
    rows: list[AckRow]
    repetitions: int

    def row(self, concurrency: int, mode: str, app: str) -> AckRow:
        for row in self.rows:
            if (row.concurrency, row.mode, row.app) == (concurrency, mode, app):
                return row
        raise KeyError((concurrency, mode, app))

    def p99_ratio(self, concurrency: int, mode: str) -> Spread:
        """Bot p99 / floor p99, of each pair of runs taken back to back."""
        bot, floor = self.row(concurrency, mode, BOT), self.row(concurrency, mode, FLOOR)
        return Spread.of([b / f for b, f in zip(bot.p99s, floor.p99s, strict=True)])


def signed_commands(count: int, response_url: str) -> list[tuple[str, dict[str, str]]]:
    requests = []
    for number in range(count):
        body = payloads.slash_command(
            f"CDE{number % 10**10:010d} burst", user=REQUESTER, response_url=response_url
        )
        requests.append((body, payloads.signed_headers(body, SIGNING_SECRET)))
    return requests


async def burst(
    url: str,
    requests: list[tuple[str, dict[str, str]]],
    mode: str,
    cpu: Callable[[], float] = lambda: 0.0,
) -> tuple[Burst, float]:
    """Send every request at once and time each response; also the server's CPU clock then.

    aiohttp's client, not httpx: at 200 concurrent requests httpx's connection pool added
    ~200 ms of its own to the floor (measured), which would hide the servers' difference.
    """
    connector = aiohttp.TCPConnector(limit=len(requests), force_close=mode == "new")
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        if mode == "keep-alive":
            await asyncio.gather(*(_get(http, url + "/healthz") for _ in requests))
        latencies: list[float] = []
        errors = 0

        async def send(body: str, headers: dict[str, str]) -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                async with http.post(url + SLACK_EVENTS_PATH, data=body, headers=headers) as r:
                    await r.read()
                    errors += r.status != 200
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - started)

        cpu_before = cpu()
        started = time.perf_counter()
        await asyncio.gather(*(send(body, headers) for body, headers in requests))
        wall = time.perf_counter() - started
        return Burst(latencies, wall, errors, cpu_acking=cpu() - cpu_before), cpu_before


async def _get(http: aiohttp.ClientSession, url: str) -> None:
    async with http.get(url) as response:
        await response.read()


async def run_ack(
    fakes: Fakes, workdir: Path, sizes: tuple[int, ...], repetitions: int
) -> AckResult:
    bot_env = server_env(fakes.slack, fakes.soget, workdir / BOT, free_port())
    floor_env = server_env(fakes.slack, fakes.soget, workdir / FLOOR, free_port())
    async with (
        serve(BOT, BOT_MODULE, bot_env, workdir / BOT) as bot,
        serve(FLOOR, FLOOR_MODULE, floor_env, workdir / FLOOR) as floor,
    ):
        servers = {BOT: bot, FLOOR: floor}
        for server in servers.values():  # first requests: Bolt's auth.test, lazy imports
            await burst(server.url, signed_commands(20, fakes.slack.response_url), "new")
            await server.settle()
        rows = []
        for concurrency in sizes:
            for mode in CONNECTION_MODES:
                bursts: dict[str, list[Burst]] = {BOT: [], FLOOR: []}
                for repetition in range(repetitions):
                    order = (BOT, FLOOR) if repetition % 2 == 0 else (FLOOR, BOT)
                    for app in order:
                        bursts[app].append(
                            await _measured_burst(servers[app], fakes, concurrency, mode)
                        )
                        fakes.forget()
                rows += [_row(concurrency, mode, app, bursts[app]) for app in (BOT, FLOOR)]
    return AckResult(rows, repetitions)


async def _measured_burst(server: Served, fakes: Fakes, concurrency: int, mode: str) -> Burst:
    requests = signed_commands(concurrency, fakes.slack.response_url)
    result, cpu_before = await burst(server.url, requests, mode, server.cpu_seconds)
    await server.settle()
    return replace(result, cpu_total=server.cpu_seconds() - cpu_before)


def _row(concurrency: int, mode: str, app: str, bursts: list[Burst]) -> AckRow:
    def spread(q: float) -> Spread:
        return Spread.of([percentile(b.latencies, q) * 1000 for b in bursts])

    return AckRow(
        concurrency=concurrency,
        mode=mode,
        app=app,
        p50=spread(50),
        p95=spread(95),
        p99=spread(99),
        max=spread(100),
        worst=max(max(b.latencies) for b in bursts) * 1000,
        throughput=Spread.of([b.throughput for b in bursts]),
        errors=sum(b.errors for b in bursts),
        cpu_acking=Spread.of([b.cpu_acking * 1000 / concurrency for b in bursts]),
        cpu_total=Spread.of([b.cpu_total * 1000 / concurrency for b in bursts]),
        p99s=[percentile(b.latencies, 99) for b in bursts],
    )
