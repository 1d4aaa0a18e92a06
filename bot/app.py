"""Wiring: build the long-lived objects from Settings, the Bolt app, and the HTTP server."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime

import aiohttp
import httpx
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.deps import Deps
from bot.domain.approval import ApproverDirectory
from bot.i18n.language import UserLanguages
from bot.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.observability.metrics import Metrics
from bot.services.cancel import CancelService
from bot.services.ops import Ops, build_ops
from bot.services.outbox import Deliverer
from bot.services.preview import OrderPreviewer
from bot.services.runner import CancelRunner
from bot.slack.inbound import Refusal, check_request
from bot.slack.publisher import SlackPublisher
from bot.slack.sandbox import SandboxWebClient
from bot.soget.client import RetryPolicy, SogetClient
from bot.soget.sandbox import SANDBOX_ORDERS, SogetStandIn
from bot.soget.tokens import StaticToken, TokenProvider, token_provider_from
from bot.storage.store import Store, utc_now
from handlers import register_all

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"
SLACK_TIMEOUT_SECONDS = 15
# How long start waits for the approvers' user groups; a slower read finishes in the background.
APPROVER_WARM_UP_SECONDS = 3.0

# /healthz writes to the database; a success is reused this long (a flood of checks must not
# become a flood of fsyncs), a failure never.
HEALTH_PROBE_MAX_AGE_SECONDS = 5.0
HEALTH_PROBE_TIMEOUT_SECONDS = 2.0


class DatabaseUnusableError(Exception):
    """The database file cannot be opened, read or written: the bot must not start."""


def _file_identity(path: os.PathLike[str] | str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def create_slack_client(
    settings: Settings, session: aiohttp.ClientSession | None = None, *, retries: bool = True
) -> AsyncWebClient:
    """The Web API client, with slack_sdk's own retries for rate limits and server errors
    (`retries=False`: none, for the outbox, which retries by itself).

    Without a `session`, slack_sdk opens a new connection (and TLS handshake) for every call.
    In sandbox mode it marks every message it sends as a sandbox one.
    """
    client_class = SandboxWebClient if settings.sandbox else AsyncWebClient
    return client_class(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        session=session,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ]
        if retries
        else [],
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
        self.metrics = Metrics()
        self._ops: Ops | None = None
        self._sandbox: SogetStandIn | None = None
        self._directory: ApproverDirectory | None = None
        self._database_identity: tuple[int, int] | None = None
        self._database_probe: asyncio.Task[str] | None = None
        self._database_ok_at: float | None = None

    @property
    def bolt_app(self) -> AsyncApp:
        if self._bolt_app is None:
            raise RuntimeError("the runtime is not started")
        return self._bolt_app

    @property
    def ops(self) -> Ops:
        if self._ops is None:
            raise RuntimeError("the runtime is not started")
        return self._ops

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the runtime is not started")
        return self._store

    async def start(self) -> None:
        settings = self.settings
        self._store = await self._open_store()
        self._soget = await self._start_soget()
        # One pooled session for all Web API calls: approve → result makes two in a row.
        # slack_sdk applies its timeout only to sessions it creates, so it is set here.
        self._slack_session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS)
        )
        client = create_slack_client(settings, self._slack_session)
        publisher = SlackPublisher(
            client,
            settings.cancel_approvers,
            approval_channel=settings.approval_channel,
            required_approvals=settings.required_approvals,
            channel_languages=settings.channel_languages,
            default_language=settings.default_language,
        )
        languages = UserLanguages(publisher.user_locale, default=settings.default_language)
        directory = ApproverDirectory(settings.cancel_approvers, publisher.group_members)
        self._directory = directory
        await directory.start(wait_seconds=APPROVER_WARM_UP_SECONDS)
        service = CancelService(
            self._store,
            self._soget,
            directory,
            allow_self_approval=settings.allow_self_approval,
            request_ttl=settings.request_ttl,
            required_approvals=settings.required_approvals,
            remind_after=settings.remind_after,
            lease_seconds=settings.lease_seconds,
            settle_after_seconds=settings.settle_after_seconds,
        )
        # The outbox retries on its own terms (claims, per-channel Retry-After, backoff): its
        # client never sleeps or resends inside a call, which could post a reply twice.
        outbox_publisher = SlackPublisher(
            create_slack_client(settings, self._slack_session, retries=False),
            settings.cancel_approvers,
            approval_channel=settings.approval_channel,
            required_approvals=settings.required_approvals,
            channel_languages=settings.channel_languages,
            default_language=settings.default_language,
        )
        self._runner = CancelRunner(
            service,
            Deliverer(
                self._store,
                outbox_publisher,
                instance_id=service.instance_id,
                languages=languages,
                base_delay_seconds=settings.slack_retry_base_seconds,
            ),
            sweep_seconds=settings.sweep_interval_seconds,
        )
        self._store.on_enqueue(self._runner.kick)
        self._ops = build_ops(
            settings,
            store=self._store,
            client=client,
            publisher=publisher,
            directory=directory,
            metrics=self.metrics,
            languages=languages,
        )
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
                ops=self._ops,
            ),
        )
        self._bolt_app = app
        await self._runner.start()

    async def _open_store(self) -> Store:
        path = self.settings.database_path
        try:
            store = await Store.open(path, clock=self._clock)
        except (OSError, sqlite3.Error) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            raise DatabaseUnusableError(f"the database {path} is unusable: {reason}") from None
        self._database_identity = _file_identity(path)
        return store

    async def _start_soget(self) -> SogetClient:
        settings = self.settings
        if settings.sandbox:
            # The built-in stand-in, with credentials of its own: nothing real is reachable.
            self._sandbox = SogetStandIn.seeded()
            await self._sandbox.start()
            logger.warning(
                "SANDBOX mode: SOGET stand-in at %s with example orders %s; no real order "
                "is touched",
                self._sandbox.api_url,
                ", ".join(order.order_id for order in SANDBOX_ORDERS),
            )
            base_url = self._sandbox.api_url
            tokens: TokenProvider = StaticToken(SecretStr(self._sandbox.access_token))
            api_key = SecretStr(self._sandbox.api_key)
        else:
            assert settings.soget_api_key is not None  # Settings requires it outside sandbox
            base_url = settings.soget_api_url
            tokens = token_provider_from(
                access_token=settings.soget_access_token,
                token_url=settings.soget_token_url,
                client_id=settings.soget_client_id,
                client_secret=settings.soget_client_secret,
                scope=settings.soget_scope,
                connect_timeout=settings.soget_connect_timeout_seconds,
                timeout=settings.soget_timeout_seconds,
                observer=self.metrics,
            )
            api_key = settings.soget_api_key
        return SogetClient.create(
            base_url,
            tokens=tokens,
            api_key=api_key,
            connect_timeout=settings.soget_connect_timeout_seconds,
            timeout=settings.soget_timeout_seconds,
            retry=self._soget_retry,
            transport=self._soget_transport,
            observer=self.metrics,
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.stop()
        if self._ops is not None:
            await self._ops.drain()
        if self._directory is not None:
            await self._directory.stop()
        probe = self._database_probe
        if probe is not None and not probe.done():
            await asyncio.wait({probe}, timeout=HEALTH_PROBE_TIMEOUT_SECONDS)
        if self._soget is not None:
            await self._soget.aclose()
        if self._sandbox is not None:
            await self._sandbox.stop()
        if self._slack_session is not None:
            await self._slack_session.close()
        if self._store is not None:
            await self._store.close()

    async def health(self) -> dict[str, object]:
        """Unauthenticated and free of secrets: what a load balancer or Docker needs."""
        loaded = self._bolt_app is not None
        database = await self._database_state() if loaded else "unreachable"
        ok = loaded and database == "ok"
        if ok:
            detail = "ok"
        elif loaded:
            detail = f"database {database}"
        else:
            detail = "starting"
        return {
            "ok": ok,
            "detail": detail,
            "database": database,
            "configuration": "loaded" if loaded else "not loaded",
            "sandbox": self.settings.sandbox,
        }

    async def _database_state(self) -> str:
        """ "ok", "unreachable", "not writable", "not answering" or "replaced"."""
        now = time.monotonic()
        if self._database_ok_at is not None and now - self._database_ok_at < (
            HEALTH_PROBE_MAX_AGE_SECONDS
        ):
            return "ok"
        # One probe at a time, shielded: a write cut off halfway would leave its transaction
        # open on the shared connection.
        if self._database_probe is None or self._database_probe.done():
            self._database_probe = asyncio.create_task(self._probe_database())
        try:
            state = await asyncio.wait_for(
                asyncio.shield(self._database_probe), timeout=HEALTH_PROBE_TIMEOUT_SECONDS
            )
        except TimeoutError:
            return "not answering"
        self._database_ok_at = time.monotonic() if state == "ok" else None
        return state

    async def _probe_database(self) -> str:
        store = self.store
        try:
            await store.ping()
        except Exception:
            return "unreachable"
        path = self.settings.database_path
        if self._database_identity is not None and _file_identity(path) != (
            self._database_identity
        ):
            # Deleted or replaced under the running bot: its writes go to a file nobody sees.
            return "replaced"
        try:
            await store.write_heartbeat()
        except Exception as exc:
            logger.error("the database %s cannot take a write: %s", path, exc)
            return "not writable"
        return "ok"


def create_web_app(runtime: BotRuntime) -> web.Application:
    """The HTTP mode's server: Slack's requests at /slack/events, plus /healthz.

    A request reaches Bolt only signed by Slack and shaped like what Slack sends: anything else
    is answered here (401 / 400) and does nothing, whatever response_url its body names.
    """
    secret = runtime.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    async def slack_events(request: web.Request) -> web.Response:
        checked = check_request(await request.read(), request.headers, verifier)
        if isinstance(checked, Refusal):
            return refuse(checked)
        try:
            bolt_request = AsyncBoltRequest(
                body=checked.text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except Exception as error:  # a shape Bolt's own parsing chokes on
            return refuse(Refusal(400, f"malformed: {type(error).__name__} while parsing"))
        bolt_response = await runtime.bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    def refuse(refusal: Refusal) -> web.Response:
        # No body content in the log: it is unverified, or not understood.
        logger.warning("Slack request refused (%d): %s", refusal.status, refusal.reason)
        return web.json_response({"error": refusal.reason}, status=refusal.status)

    async def healthz(_request: web.Request) -> web.Response:
        health = await runtime.health()
        return web.json_response(health, status=200 if health["ok"] else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(
            body=runtime.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    async def on_startup(_app: web.Application) -> None:
        await runtime.start()

    async def on_cleanup(_app: web.Application) -> None:
        await runtime.stop()

    web_app = web.Application()
    web_app.add_routes(
        [
            web.post(SLACK_EVENTS_PATH, slack_events),
            web.get("/healthz", healthz),
            web.get("/metrics", metrics),
        ]
    )
    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
