"""The fakes, and a driver that takes the bot (in its own process) through whole cancel flows.

The driver talks to the bot as Slack does (signed bodies from tests/payloads.py) and reads the
bot's SQLite file, read-only, to learn a request's id and message ts, as a person would read
them off the channel.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

from bot.app import SLACK_EVENTS_PATH
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER, BOT_TOKEN, REQUESTER, SIGNING_SECRET, SOGET_KEY, SOGET_TOKEN
from tests.fakes.server import RecordedRequest
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget


class WatchedSlack(FakeSlack):
    """The fake Slack, which also wakes whoever waits for a reply in a given thread."""

    def __init__(self) -> None:
        super().__init__(token=BOT_TOKEN)
        self._reply_waiters: dict[str, asyncio.Future[RecordedRequest]] = {}

    def expect_reply(self, thread_ts: str) -> asyncio.Future[RecordedRequest]:
        waiter = asyncio.get_running_loop().create_future()
        self._reply_waiters[thread_ts] = waiter
        return waiter

    async def record(self, request: web.Request) -> RecordedRequest:
        recorded = await super().record(request)
        thread_ts = recorded.body.get("thread_ts")
        if recorded.path == "/api/chat.postMessage" and thread_ts:
            waiter = self._reply_waiters.pop(str(thread_ts), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(recorded)
        return recorded


@dataclass
class Fakes:
    slack: WatchedSlack
    soget: FakeSoget

    def forget(self) -> None:
        """Drop what the fakes recorded, so a long run does not grow the bench's memory."""
        self.slack.requests.clear()
        self.soget.requests.clear()
        self.soget.orders.clear()


@asynccontextmanager
async def running_fakes() -> AsyncIterator[Fakes]:
    slack = WatchedSlack()
    soget = FakeSoget(access_token=SOGET_TOKEN, api_key=SOGET_KEY)
    await slack.start()
    await soget.start()
    try:
        yield Fakes(slack, soget)
    finally:
        await soget.stop()
        await slack.stop()


@dataclass(frozen=True, slots=True)
class Posted:
    request_id: str
    message_ts: str


class FlowDriver:
    """Sends commands and clicks to the bot and follows each request through its database."""

    def __init__(self, bot_url: str, database: Path | str, fakes: Fakes) -> None:
        """`database`: the bot's SQLite file, or its postgresql:// URL."""
        self._url = bot_url + SLACK_EVENTS_PATH
        self._fakes = fakes
        self._database = database
        self._db: sqlite3.Connection | None = None
        self._pg: asyncpg.Pool | None = None
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._orders = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.close()
        if self._db is not None:
            self._db.close()
        if self._pg is not None:
            await self._pg.close()

    def new_order(self) -> str:
        order_id = f"CDE{next(self._orders):010d}"
        self._fakes.soget.add(order_id)
        return order_id

    async def post(self, body: str) -> None:
        headers = payloads.signed_headers(body, SIGNING_SECRET)
        async with self._http.post(self._url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"the bot answered {response.status}")

    async def request_posted(self, order_id: str) -> Posted:
        """Send `/cancel-order` and wait until the bot has posted and stored its request."""
        await self.post(
            payloads.slash_command(
                f"{order_id} bench", user=REQUESTER, response_url=self._fakes.slack.response_url
            )
        )
        return await self.poll_posted(order_id)

    async def poll_posted(self, order_id: str) -> Posted:
        """Wait until the request for `order_id` (its first order) is posted and stored."""
        row = await self._poll(
            "SELECT id, message_ts FROM requests WHERE order_id = ? AND message_ts IS NOT NULL",
            order_id,
        )
        return Posted(request_id=row[0], message_ts=row[1])

    def approve_body(self, posted: Posted) -> str:
        return payloads.block_action(
            ActionId.APPROVE,
            user=APPROVER,
            request_id=posted.request_id,
            message_ts=posted.message_ts,
            response_url=self._fakes.slack.response_url,
        )

    async def approve_until_reply(self, posted: Posted) -> float:
        """Click Approve; seconds from sending the click to the thread reply reaching Slack."""
        reply = self._fakes.slack.expect_reply(posted.message_ts)
        body = self.approve_body(posted)
        started = time.monotonic()
        await self.post(body)
        recorded = await asyncio.wait_for(reply, timeout=30)
        return recorded.at - started

    async def outcome_posted(self, posted: Posted) -> None:
        """Wait until the bot has finished with the request (outcome delivered and recorded)."""
        await self._poll(
            "SELECT id FROM requests WHERE id = ? AND outcome_posted_at IS NOT NULL",
            posted.request_id,
        )

    async def whole_flow(self) -> None:
        """Request → posted → Approve → DELETE → thread reply → recorded as posted."""
        posted = await self.request_posted(self.new_order())
        await self.approve_until_reply(posted)
        await self.outcome_posted(posted)

    async def _fetch(self, sql: str, key: str) -> tuple[Any, ...] | None:
        if isinstance(self._database, str):
            if self._pg is None:
                self._pg = await asyncpg.create_pool(self._database, min_size=1, max_size=4)
            record = await self._pg.fetchrow(sql.replace("?", "$1"), key)
            return tuple(record) if record is not None else None
        if self._db is None:
            self._db = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True)
        row: tuple[Any, ...] | None = self._db.execute(sql, (key,)).fetchone()
        return row

    async def _poll(self, sql: str, key: str, timeout: float = 30.0) -> tuple[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            row = await self._fetch(sql, key)
            if row is not None:
                return (str(row[0]), str(row[-1]))
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not get there for {key}")
            await asyncio.sleep(0.002)
