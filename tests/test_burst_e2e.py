"""A burst of approvals whose order reads time out must leave the bot able to cancel (issue 10).

The approval-time preview gives up on a slow read after PREVIEW_TIMEOUT_SECONDS. Under a burst,
many previews start in the same instant, more than the SOGET pool has connections, and give up
in the same instant. Cancelling requests that wait inside httpcore's pool can leave connection
slots that are never reclaimed (encode/httpcore#1093): once all are lost, every later call
fails with PoolTimeout and nothing reaches SOGET again until a restart.

A pool of 10 connections under 60 approvals stands for the default 100 under the reported 300.
The previews start together the way a busy bot starts them: the approvals queue behind a held
database, and the event loop stalls while the database catches up (a loop saturated by a burst
wakes its waiting tasks in batches too).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from bot.slack.ids import ActionId
from bot.storage.engine import SqliteDatabase
from tests.conftest import APPROVER, BotFactory, BotUnderTest
from tests.fakes.soget_api import Fault

BURST = 60
POOL_SIZE = 10
PREVIEW_TIMEOUT = 0.3
BLOCKER = "CDE8000000000"
ORDER = "CDE8000000001"


def _stall_event_loop(seconds: float) -> None:
    """Block the event loop, as a saturated one is: everything due meanwhile runs at once."""
    time.sleep(seconds)


async def _store_is_blocked(bot: BotUnderTest) -> bool:
    """Whether the store's write connection is stuck behind a write waiting for the lock (its
    reads go through another connection, which a held lock does not stop)."""
    database = bot.runtime.store._db
    assert isinstance(database, SqliteDatabase)
    try:
        await asyncio.wait_for(database.connection.execute_fetchall("SELECT 1"), timeout=0.05)
    except TimeoutError:
        return True
    return False


@asynccontextmanager
async def _store_held(bot: BotUnderTest) -> AsyncIterator[None]:
    """Hold the database's write lock from outside while the bot tries to write: every store
    call the bot makes meanwhile queues behind that write."""
    lock = sqlite3.connect(bot.runtime.settings.database_path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")
    try:
        bot.soget.add(BLOCKER)
        await bot.command(f"{BLOCKER} customer asked")  # its write waits for the lock
        for _ in range(200):
            if await _store_is_blocked(bot):
                break
        else:
            raise AssertionError("the bot's store never waited for the lock")
        yield
    finally:
        lock.execute("ROLLBACK")
        lock.close()


async def test_a_burst_of_timed_out_previews_leaves_the_client_serving(
    bot_with: BotFactory,
) -> None:
    small_pool = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=POOL_SIZE))
    bot = await bot_with(preview_timeout_seconds=PREVIEW_TIMEOUT, soget_transport=small_pool)
    orders = [f"CDE{9000000000 + n}" for n in range(BURST + 1)]
    for order in orders:
        bot.soget.add(order)
    *burst, last = orders
    answer_reads = asyncio.Event()
    bot.soget.script(*[Fault(method="GET", hold=answer_reads)] * BURST)  # no read answers

    # A burst of commands: each is acknowledged at once, then waits for the store.
    async with _store_held(bot):
        commands = await asyncio.gather(
            *(bot.command(f"{order} vessel cancelled") for order in burst)
        )
    _stall_event_loop(0.5)  # the store catches up: every command's preview starts at once
    assert all(command.status_code == 200 for command in commands)
    # Every preview gives up; each request is posted saying the order could not be read.
    await bot.slack.wait_until(
        lambda: len(bot.slack.channel_posts()) >= BURST, timeout=30, what="the burst's requests"
    )
    answer_reads.set()

    request = await bot.request_posted_for(last)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id, timeout=30)

    assert done.status.value == "succeeded"
    assert len(bot.soget.deletes(last)) == 1
    assert bot.slack.thread_replies(request.message_ts)


async def test_a_click_the_database_cannot_store_in_time_is_answered_not_taken_in_one_line(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """A database too busy to store a click within 2 s: the clicker is told privately that it
    was not taken, in time for Slack; the log says so in one line, no traceback (under a burst
    there are hundreds)."""
    caplog.set_level(logging.WARNING)
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    async with _store_held(bot):
        response = await bot.click(ActionId.APPROVE, request, user=APPROVER)
        await bot.slack.wait_until(
            lambda: "not taken" in str(bot.slack.webhooks() + bot.slack.ephemerals(APPROVER)),
            timeout=5,
            what="the private answer",
        )

    assert response.status_code == 200
    lines = [r for r in caplog.records if "could not store the approve click" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING and not lines[0].exc_info
    assert (await bot.wait_status(request.id, "pending")).approver_ids == ()
    assert bot.soget.deletes() == []
