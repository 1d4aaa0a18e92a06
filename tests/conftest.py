"""Fixtures: the fake Slack and SOGET servers, and the bot served over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.app import SLACK_EVENTS_PATH, create_web_app
from bot.config import Settings
from bot.domain.requests import CancelRequest
from bot.runtime import BotRuntime
from bot.slack.ids import ActionId
from bot.soget.client import RetryPolicy
from tests import payloads
from tests.databases import db_location, engine, postgres_server, postgres_url
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget

BOT_TOKEN = "xoxb-test-bot-token-0123456789"
SIGNING_SECRET = "test-signing-secret-abcdef0123456789"
SOGET_TOKEN = "soget-access-token-0123456789"
SOGET_KEY = "soget-subscription-key-0123456789"

REQUESTER = "U0REQUEST1"
APPROVER = "U0APPROVE1"
APPROVER_2 = "U0APPROVE2"
GROUP_MEMBER = "U0GROUPME1"
OUTSIDER = "U0OUTSIDE1"
APPROVER_GROUP = "S0APPROVER"
# The engine fixtures (tests/databases.py), usable from every test module.
__all__ = ["db_location", "engine", "postgres_server", "postgres_url"]


_BOT_VARIABLE_PREFIXES = (
    *("SLACK_", "SOGET_", "CANCEL_", "ALLOW_", "DATABASE_", "ORDER_ID"),
    *("APPROVAL_", "LOG_", "SANDBOX", "PREVIEW_", "DEFAULT_LANGUAGE", "ALLOWED_", "REQUEST_TTL"),
    *("REQUIRED_APPROVALS", "SETTLE_", "REMIND_", "SHUTDOWN_", "INSTANCE_ID", "SEARCH_"),
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come only from the test: no variable or .env file of the machine leaks in."""
    for name in list(os.environ):
        if name.startswith(_BOT_VARIABLE_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(token=BOT_TOKEN)
    server.user_groups[APPROVER_GROUP] = [GROUP_MEMBER]
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def fake_soget() -> AsyncIterator[FakeSoget]:
    server = FakeSoget(access_token=SOGET_TOKEN, api_key=SOGET_KEY)
    await server.start()
    yield server
    await server.stop()


def make_settings(
    fake_slack: FakeSlack, fake_soget: FakeSoget, database: Path | str, **overrides: Any
) -> Settings:
    """`database`: a SQLite file, or a postgresql:// URL (then DATABASE_URL)."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake_slack.api_url,
        "soget_api_url": fake_soget.api_url,
        "soget_access_token": SOGET_TOKEN,
        "soget_api_key": SOGET_KEY,
        "soget_timeout_seconds": 2.0,
        "cancel_approvers": f"{APPROVER},{APPROVER_2},{REQUESTER},{APPROVER_GROUP}",
        **(
            {"database_url": database}
            if isinstance(database, str) and database.startswith("postgresql://")
            else {"database_path": database}
        ),
        "sweep_interval_seconds": 0.2,
        "slack_retry_base_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class MutableClock:
    """A clock the test moves by hand, for expiry and timestamps."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class BotUnderTest:
    """The bot's HTTP server on 127.0.0.1 and a client that talks to it as Slack does."""

    url: str
    runtime: BotRuntime
    slack: FakeSlack
    soget: FakeSoget
    http: httpx.AsyncClient

    async def post_signed(
        self,
        body: str,
        *,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> httpx.Response:
        return await self.http.post(
            self.url + SLACK_EVENTS_PATH,
            content=body,
            headers=payloads.signed_headers(body, secret, timestamp, content_type),
        )

    async def command(self, text: str, *, user: str = REQUESTER, **kw: Any) -> httpx.Response:
        body = payloads.slash_command(text, user=user, response_url=self.slack.response_url, **kw)
        return await self.post_signed(body)

    async def click(self, action: ActionId, request: CancelRequest, *, user: str) -> httpx.Response:
        assert request.message_ts is not None
        body = payloads.block_action(
            action,
            user=user,
            request_id=request.id,
            message_ts=request.message_ts,
            response_url=self.slack.response_url,
        )
        return await self.post_signed(body)

    async def submit_reject(
        self, request: CancelRequest, *, user: str, reason: str | None
    ) -> httpx.Response:
        body = payloads.reject_submission(user=user, request_id=request.id, reason=reason)
        return await self.post_signed(body)

    async def request_posted_for(self, order_id: str) -> CancelRequest:
        """Send `/cancel-order` and wait until the request it opened is posted and stored.

        Slack gets the ack before the bot opens the request: an earlier request of the order,
        already posted, is not the one this command opened, so it is never taken for it.
        """
        earlier = {r.id for r in await self.runtime.store.history_of_order(order_id)}
        response = await self.command(f"{order_id} customer asked")
        assert response.status_code == 200
        history: list[CancelRequest] = []

        def posted() -> bool:
            return bool(history and history[0].message_ts and history[0].id not in earlier)

        async def refresh() -> None:
            found = await self.runtime.store.history_of_order(order_id)
            history[:] = [r for r in found if r.id not in earlier]

        for _ in range(500):
            await refresh()
            if posted():
                return history[0]
            await _tick()
        raise AssertionError(f"no approval request was posted for {order_id}")

    async def request(self, request_id: str) -> CancelRequest:
        found = await self.runtime.store.get(request_id)
        assert found is not None
        return found

    async def request_when(
        self,
        request_id: str,
        holds: Callable[[CancelRequest], bool],
        what: str,
        timeout: float = 5.0,
    ) -> CancelRequest:
        """Poll the stored request until `holds` is true of it; the work after an ack runs in
        the background."""
        current = await self.request(request_id)
        for _ in range(int(timeout / 0.01)):
            if holds(current):
                return current
            await _tick()
            current = await self.request(request_id)
        raise AssertionError(f"{what}: request {current.id} is {current.status}")

    async def wait_status(
        self, request_id: str, *statuses: str, timeout: float = 5.0
    ) -> CancelRequest:
        return await self.request_when(
            request_id, lambda r: r.status.value in statuses, f"expected one of {statuses}", timeout
        )

    async def wait_request_posted(self, request_id: str, timeout: float = 5.0) -> CancelRequest:
        """Wait until the approval request is in the channel and its ts stored, so it is clickable.

        Slack sees the post before the bot stores what chat.postMessage answered.
        """
        return await self.request_when(
            request_id, lambda r: r.message_ts is not None, "never stored as posted", timeout
        )

    async def wait_posted(self, request_id: str, timeout: float = 5.0) -> CancelRequest:
        """Wait until the outcome of the request has been delivered to Slack."""
        return await self.request_when(
            request_id, lambda r: r.outcome_posted_at is not None, "outcome never posted", timeout
        )

    async def wait_delivered(self, request_id: str, timeout: float = 5.0) -> None:
        """Wait until every Slack effect queued for the request has been delivered."""
        for _ in range(int(timeout / 0.01)):
            if await self.runtime.store.undelivered_count(request_id) == 0:
                return
            await _tick()
        raise AssertionError("some Slack effects of the request were never delivered")

    async def wait_until_replies(
        self, request: CancelRequest, count: int, timeout: float = 10.0
    ) -> None:
        await self.slack.wait_until(
            lambda: len(self.slack.thread_replies(request.message_ts)) >= count,
            timeout=timeout,
            what=f"{count} thread replies",
        )


async def _tick() -> None:
    import asyncio

    await asyncio.sleep(0.01)


async def serve_bot(
    settings: Settings, fake_slack: FakeSlack, fake_soget: FakeSoget, **runtime_kw: Any
) -> tuple[web.AppRunner, BotUnderTest]:
    runtime = BotRuntime(
        settings,
        soget_retry=runtime_kw.pop(
            "soget_retry",
            RetryPolicy(max_attempts=3, base_delay_seconds=0.01, max_delay_seconds=0.05),
        ),
        **runtime_kw,
    )
    runner = web.AppRunner(
        create_web_app(runtime), access_log=None, handle_signals=False, shutdown_timeout=5.0
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    http = httpx.AsyncClient(timeout=10)
    return runner, BotUnderTest(
        url=f"http://127.0.0.1:{port}",
        runtime=runtime,
        slack=fake_slack,
        soget=fake_soget,
        http=http,
    )


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path) -> Settings:
    return make_settings(fake_slack, fake_soget, tmp_path / "bot.sqlite3")


@pytest.fixture
async def bot(
    bot_settings: Settings, fake_slack: FakeSlack, fake_soget: FakeSoget
) -> AsyncIterator[BotUnderTest]:
    runner, under_test = await serve_bot(bot_settings, fake_slack, fake_soget)
    yield under_test
    await stop_bot(runner, under_test)


BotFactory = Callable[..., Awaitable[BotUnderTest]]


@pytest.fixture
async def bot_with(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> AsyncIterator[BotFactory]:
    """Start bots with overridden settings (`await bot_with(allow_self_approval=True)`).

    A `clock=` or `soget_transport=` goes to the runtime; every bot started is stopped after
    the test.
    """
    started: list[tuple[web.AppRunner, BotUnderTest]] = []

    async def start(
        *,
        clock: MutableClock | None = None,
        soget_transport: httpx.AsyncBaseTransport | None = None,
        **overrides: Any,
    ) -> BotUnderTest:
        database = tmp_path / f"bot-{len(started)}.sqlite3"
        settings = make_settings(fake_slack, fake_soget, database, **overrides)
        runtime_kw: dict[str, Any] = {"clock": clock} if clock is not None else {}
        if soget_transport is not None:
            runtime_kw["soget_transport"] = soget_transport
        runner, under_test = await serve_bot(settings, fake_slack, fake_soget, **runtime_kw)
        started.append((runner, under_test))
        return under_test

    yield start
    for runner, under_test in reversed(started):
        await stop_bot(runner, under_test)


@pytest.fixture
async def self_approving_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(allow_self_approval=True)


async def stop_bot(runner: web.AppRunner, under_test: BotUnderTest) -> None:
    """Stop the bot; if that hangs, show where every task waits instead of hanging CI."""
    await under_test.http.aclose()
    try:
        await asyncio.wait_for(runner.cleanup(), timeout=30)
    except TimeoutError:
        for task in asyncio.all_tasks():
            task.print_stack(limit=8)
        raise
