"""Scenario 5: N concurrent `/cancel-order` commands, then N concurrent approvals, then one more.

The promises under a burst (issue 10): no ack over 3 s (commands and approvals counted
apart), exactly one DELETE per approved order, and a request made after the burst still
completes. The bot runs in its own process at INFO logging, against the fakes; the fake SOGET
answers every call after a fixed delay, longer than the preview waits, so every order read
made for a preview (at the command and at the approval) times out, as under the reported
burst.

What reached Slack is counted from the fake Slack's recorded calls (a thread reply on the
request's message is its outcome), and DELETEs from the fake SOGET's, so the count does not
depend on how the bot queues its messages. The bot's database is read (read-only) only to learn
each request's id and message ts, as an approver reads them off the channel.

Baselines from the same run: the floor app (bare Bolt, bench/floor_app.py) takes the same
burst of commands, and one whole flow on the idle bot before the burst is timed like the one
after it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from bench.ack import FLOOR, burst
from bench.flows import Fakes, FlowDriver, Posted
from bench.processes import BOT_MODULE, FLOOR_MODULE, free_port, serve, server_env
from bench.stats import percentile
from tests import payloads
from tests.conftest import REQUESTER, SIGNING_SECRET

ACK_LIMIT_S = 3.0
POSTED_TIMEOUT_S = 300.0  # how long the bench waits for the burst's messages to reach Slack
AFTER_TIMEOUT_S = 60.0  # how long the request after the burst may take, click to reply


@dataclass(frozen=True, slots=True)
class AckPhase:
    """One burst of signed requests sent at once, as the sender saw the acks."""

    count: int
    over_limit: int  # acks slower than 3 s, errors included
    errors: int  # non-200 answers and broken connections
    p50_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class BurstResult:
    size: int
    soget_delay_ms: float
    preview_timeout_ms: float
    commands: AckPhase
    approvals: AckPhase
    floor_commands: AckPhase  # the same burst of commands on the floor app
    requests_posted: int  # of the burst's commands, requests posted in the channel
    outcomes_posted: int  # of the approved requests, those whose outcome reached the thread
    drain_s: float  # first approval sent → last outcome reply (or the wait gave up)
    deletes_min: int  # DELETEs per approved order
    deletes_max: int
    idle_flow_ms: float  # click → thread reply of one request before the burst
    after_completed: bool  # the request after the burst got its outcome reply
    after_flow_ms: float | None  # … its click → thread reply
    after_deletes: int

    @property
    def after_ratio(self) -> float | None:
        if self.after_flow_ms is None:
            return None
        return self.after_flow_ms / self.idle_flow_ms


async def run_burst(
    fakes: Fakes, workdir: Path, *, size: int, soget_delay: float, preview_timeout: float
) -> BurstResult:
    bot_env = server_env(fakes.slack, fakes.soget, workdir / "bot", free_port()) | {
        "PREVIEW_TIMEOUT_SECONDS": str(preview_timeout)
    }
    floor_env = server_env(fakes.slack, fakes.soget, workdir / FLOOR, free_port())
    fakes.soget.delay_seconds = soget_delay
    try:
        async with (
            serve("bot", BOT_MODULE, bot_env, workdir / "bot") as bot,
            serve(FLOOR, FLOOR_MODULE, floor_env, workdir / FLOOR) as floor,
        ):
            driver = FlowDriver(bot.url, bot.database, fakes)
            try:
                # Warm-up: Bolt's auth.test, lazy imports, the first connections; then the
                # idle baseline of a whole flow.
                await driver.whole_flow()
                await burst(floor.url, _commands(driver, 20, fakes), "new")
                await bot.settle()
                idle_flow = await _timed_flow(driver)
                if idle_flow is None:
                    raise RuntimeError("the idle bot did not complete one flow; see bot.log")
                await bot.settle()
                fakes.forget()

                floor_commands = _phase(await _send(floor.url, _commands(driver, size, fakes)))
                await floor.settle()
                orders = [driver.new_order() for _ in range(size)]
                commands = _phase(await _send(bot.url, _signed_commands(orders, fakes)))
                posted = await _wait_posted(bot.database, orders)
                approvals_sent = time.monotonic()
                approvals = _phase(
                    await _send(bot.url, [_approval(driver, p) for p in posted.values()])
                )
                outcomes = await _wait_outcomes(fakes, list(posted.values()))
                drain = time.monotonic() - approvals_sent
                deletes = [len(fakes.soget.deletes(order)) for order in posted]
                await bot.settle()

                after_order = driver.new_order()
                after_flow = await _timed_flow(driver, order_id=after_order)
                after_deletes = len(fakes.soget.deletes(after_order))
            finally:
                await driver.aclose()
    finally:
        fakes.soget.delay_seconds = 0.0
        fakes.forget()
    return BurstResult(
        size=size,
        soget_delay_ms=soget_delay * 1000,
        preview_timeout_ms=preview_timeout * 1000,
        commands=commands,
        approvals=approvals,
        floor_commands=floor_commands,
        requests_posted=len(posted),
        outcomes_posted=outcomes,
        drain_s=drain,
        deletes_min=min(deletes, default=0),
        deletes_max=max(deletes, default=0),
        idle_flow_ms=idle_flow * 1000,
        after_completed=after_flow is not None,
        after_flow_ms=after_flow * 1000 if after_flow is not None else None,
        after_deletes=after_deletes,
    )


Signed = list[tuple[str, dict[str, str]]]


def _signed(body: str) -> tuple[str, dict[str, str]]:
    return body, payloads.signed_headers(body, SIGNING_SECRET)


def _signed_commands(orders: list[str], fakes: Fakes) -> Signed:
    return [
        _signed(
            payloads.slash_command(
                f"{order} burst", user=REQUESTER, response_url=fakes.slack.response_url
            )
        )
        for order in orders
    ]


def _commands(driver: FlowDriver, count: int, fakes: Fakes) -> Signed:
    return _signed_commands([driver.new_order() for _ in range(count)], fakes)


def _approval(driver: FlowDriver, posted: Posted) -> tuple[str, dict[str, str]]:
    return _signed(driver.approve_body(posted))


async def _send(url: str, requests: Signed) -> tuple[list[float], int]:
    """Every request at once, each on its own connection: (latencies in s, errors)."""
    sent, _cpu = await burst(url, requests, "new")
    return sent.latencies, sent.errors


def _phase(sent: tuple[list[float], int]) -> AckPhase:
    latencies, errors = sent
    return AckPhase(
        count=len(latencies),
        over_limit=sum(1 for latency in latencies if latency > ACK_LIMIT_S) + errors,
        errors=errors,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        max_ms=max(latencies) * 1000,
    )


async def _wait_posted(database: Path, orders: list[str]) -> dict[str, Posted]:
    """order id → its posted request, once all are posted or the wait gives up."""
    wanted = set(orders)
    found: dict[str, Posted] = {}
    deadline = time.monotonic() + POSTED_TIMEOUT_S
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        while len(found) < len(wanted) and time.monotonic() < deadline:
            rows = db.execute(
                "SELECT order_id, id, message_ts FROM requests WHERE message_ts IS NOT NULL"
            ).fetchall()
            for order_id, request_id, message_ts in rows:
                if order_id in wanted:
                    found[order_id] = Posted(str(request_id), str(message_ts))
            await asyncio.sleep(0.05)
    return found


async def _wait_outcomes(fakes: Fakes, posted: list[Posted]) -> int:
    """How many of the requests got a thread reply (their outcome) before the wait gave up."""
    deadline = time.monotonic() + POSTED_TIMEOUT_S

    def replied() -> int:
        threads = {str(r.body["thread_ts"]) for r in fakes.slack.thread_replies()}
        return sum(1 for p in posted if p.message_ts in threads)

    while True:
        count = replied()
        if count == len(posted) or time.monotonic() > deadline:
            return count
        await asyncio.sleep(0.05)


async def _timed_flow(driver: FlowDriver, *, order_id: str | None = None) -> float | None:
    """Seconds from the Approve click to the outcome's thread reply; None if it never came."""
    try:
        posted = await driver.request_posted(order_id or driver.new_order())
        return await asyncio.wait_for(driver.approve_until_reply(posted), AFTER_TIMEOUT_S)
    except TimeoutError:
        return None
