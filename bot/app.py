"""Wiring: build the long-lived objects from Settings, the Bolt app, and the HTTP server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import aiohttp
import httpx
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.approval import ApproverDirectory
from bot.config import Settings
from bot.delivery import Deliverer
from bot.deps import Deps
from bot.language import UserLanguages
from bot.preview import OrderPreviewer
from bot.publisher import SlackPublisher
from bot.runner import CancelRunner
from bot.service import CancelService
from bot.soget import RetryPolicy, SogetClient
from bot.storage import Store, utc_now
from handlers import register_all

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
SLACK_TIMEOUT_SECONDS = 15


def create_slack_client(
    settings: Settings, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Web API client, with slack_sdk's own retries for rate limits and server errors.

    Without a `session`, slack_sdk opens a new connection (and TLS handshake) for every call.
    """
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class BotRuntime:
    """Everything the running bot owns. `start()` once, `stop()` once."""

    def __init__(
        self,
        settings: Settings,
        *,
        soget_transport: httpx.AsyncBaseTransport | None = None,
        soget_retry: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self._soget_transport = soget_transport
        self._soget_retry = soget_retry or RetryPolicy(
            max_attempts=settings.soget_max_attempts,
            total_budget_seconds=settings.soget_retry_budget_seconds,
        )
        self._clock = clock
        self._store: Store | None = None
        self._soget: SogetClient | None = None
        self._runner: CancelRunner | None = None
        self._bolt_app: AsyncApp | None = None
        self._slack_session: aiohttp.ClientSession | None = None

    @property
    def bolt_app(self) -> AsyncApp:
        if self._bolt_app is None:
            raise RuntimeError("the runtime is not started")
        return self._bolt_app

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the runtime is not started")
        return self._store

    async def start(self) -> None:
        settings = self.settings
        self._store = await Store.open(settings.database_path, clock=self._clock)
        self._soget = SogetClient.create(
            settings.soget_api_url,
            access_token=settings.soget_access_token,
            api_key=settings.soget_api_key,
            connect_timeout=settings.soget_connect_timeout_seconds,
            timeout=settings.soget_timeout_seconds,
            retry=self._soget_retry,
            transport=self._soget_transport,
        )
        # One pooled session for all Web API calls: approve → result makes two in a row.
        # slack_sdk applies its timeout only to sessions it creates, so it is set here.
        self._slack_session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS)
        )
        client = create_slack_client(settings, self._slack_session)
        publisher = SlackPublisher(client, settings.cancel_approvers)
        languages = UserLanguages(publisher.user_locale, default=settings.default_language)
        directory = ApproverDirectory(settings.cancel_approvers, publisher.group_members)
        service = CancelService(
            self._store,
            self._soget,
            directory,
            allow_self_approval=settings.allow_self_approval,
            request_ttl=settings.request_ttl,
        )
        self._runner = CancelRunner(
            service,
            Deliverer(
                self._store,
                publisher,
                languages=languages,
                base_delay_seconds=settings.slack_retry_base_seconds,
            ),
            sweep_seconds=settings.sweep_interval_seconds,
        )
        self._store.on_enqueue(self._runner.kick)
        signing_secret = settings.slack_signing_secret
        app = AsyncApp(
            client=client,
            signing_secret=signing_secret.get_secret_value() if signing_secret else None,
            name="cancel-order-bot",
        )
        register_all(
            app,
            Deps(
                settings=settings,
                service=service,
                publisher=publisher,
                runner=self._runner,
                order_id_pattern=settings.compiled_order_id_pattern(),
                approvers=settings.cancel_approvers,
                previewer=OrderPreviewer(
                    self._soget, timeout_seconds=settings.preview_timeout_seconds
                ),
                languages=languages,
            ),
        )
        self._bolt_app = app
        await self._runner.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.stop()
        if self._soget is not None:
            await self._soget.aclose()
        if self._slack_session is not None:
            await self._slack_session.close()
        if self._store is not None:
            await self._store.close()

    async def health(self) -> tuple[bool, str]:
        try:
            ok = await asyncio.wait_for(self.store.ping(), timeout=2)
        except Exception:
            ok = False
        return ok, "ok" if ok else "database unreachable"


def create_web_app(runtime: BotRuntime) -> web.Application:
    """The HTTP mode's server: Slack's requests at /slack/events, plus /healthz."""

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await runtime.bolt_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        ok, detail = await runtime.health()
        return web.json_response({"ok": ok, "detail": detail}, status=200 if ok else 503)

    async def on_startup(_app: web.Application) -> None:
        await runtime.start()

    async def on_cleanup(_app: web.Application) -> None:
        await runtime.stop()

    web_app = web.Application()
    web_app.add_routes([web.post(SLACK_EVENTS_PATH, slack_events), web.get("/healthz", healthz)])
    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
