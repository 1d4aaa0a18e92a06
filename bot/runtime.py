"""Start and stop: every long-lived object is built in `build_deps`, in one place, and closed
in the reverse order by `BotRuntime.stop`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import httpx
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from bot.config import Settings
from bot.deps import Deps
from bot.domain.approval import ApproverDirectory
from bot.i18n.language import UserLanguages
from bot.observability.health import DatabaseProbe
from bot.observability.metrics import Metrics
from bot.services.background import InFlight
from bot.services.decisions import RequestDecisions
from bot.services.execution import CancelExecution
from bot.services.ops import Ops, build_ops
from bot.services.outbox import Deliverer
from bot.services.preview import OrderPreviewer
from bot.services.request_flow import RequestFlow
from bot.services.runner import CancelRunner
from bot.services.search import OrderSearch, seal_key
from bot.slack.publisher import SlackPublisher
from bot.slack.sandbox import SandboxWebClient
from bot.soget.client import RetryPolicy, SogetClient
from bot.soget.sandbox import SANDBOX_ORDERS, SogetStandIn
from bot.soget.tokens import StaticToken, TokenObserver, TokenProvider, token_provider_from
from bot.storage.engine import DATABASE_ERRORS, redacted
from bot.storage.schema import DatabaseTooNewError
from bot.storage.store import Store, utc_now

logger = logging.getLogger(__name__)

SLACK_TIMEOUT_SECONDS = 15
# How long start waits for the approvers' user groups; a slower read finishes in the background.
APPROVER_WARM_UP_SECONDS = 3.0


class DatabaseUnusableError(Exception):
    """The database file cannot be opened, read or written: the bot must not start."""


class SlackTokenRejectedError(Exception):
    """Slack refused SLACK_BOT_TOKEN at start: every command would fail, so the bot stops."""


# auth.test errors that no wait can fix: the token is wrong, revoked, or its app gone.
_TOKEN_REJECTED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
AUTH_RETRY_MAX_SECONDS = 30.0


async def check_slack_token(client: AsyncWebClient) -> None:
    """`auth.test` before anything is served: a rejected token stops the start with one line;
    Slack unreachable is retried with jittered, capped backoff, one log line an attempt."""
    delay = 1.0
    while True:
        try:
            answer = await client.auth_test()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            if error in _TOKEN_REJECTED:
                raise SlackTokenRejectedError(
                    f"Slack rejected SLACK_BOT_TOKEN ({error}): check the bot token of the app"
                ) from None
            reason = error
        except (aiohttp.ClientConnectionError, OSError) as exc:
            reason = f"cannot connect to {urlsplit(client.base_url).netloc or 'Slack'}"
            if not isinstance(exc, aiohttp.ClientConnectorError):
                reason = type(exc).__name__
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__
        else:
            logger.info(
                "Slack accepted the bot token: workspace %s, bot user %s",
                answer.get("team"),
                answer.get("user_id"),
            )
            return
        wait = random.uniform(delay / 2, delay)  # noqa: S311 - jitter, not cryptography
        logger.warning("no connection to Slack at start (%s); trying again in %.1fs", reason, wait)
        await asyncio.sleep(wait)
        delay = min(delay * 2, AUTH_RETRY_MAX_SECONDS)


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


async def build_deps(
    settings: Settings,
    resources: contextlib.AsyncExitStack,
    *,
    metrics: Metrics,
    soget_transport: httpx.AsyncBaseTransport | None = None,
    soget_retry: RetryPolicy | None = None,
    clock: Callable[[], datetime] = utc_now,
    lease_owner: str | None = None,
) -> Deps:
    """Build every long-lived object from `settings`; what needs closing is pushed onto
    `resources`, so closing it undoes exactly what was built, in reverse."""
    store = await open_store(settings, clock)
    resources.push_async_callback(store.close)
    soget = await start_soget(
        settings,
        resources,
        metrics=metrics,
        transport=soget_transport,
        retry=soget_retry
        or RetryPolicy(
            max_attempts=settings.soget_max_attempts,
            total_budget_seconds=settings.soget_retry_budget_seconds,
        ),
    )
    # One pooled session for all Web API calls: approve → result makes two in a row.
    # slack_sdk applies its timeout only to sessions it creates, so it is set here.
    slack_session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT_SECONDS)
    )
    resources.push_async_callback(slack_session.close)
    client = create_slack_client(settings, slack_session)
    await check_slack_token(client)
    publisher = SlackPublisher(
        client,
        settings.cancel_approvers,
        post_client=create_slack_client(settings, slack_session, retries=False),
        approval_channel=settings.approval_channel,
        required_approvals=settings.required_approvals,
        channel_languages=settings.channel_languages,
        default_language=settings.default_language,
    )
    languages = UserLanguages(publisher.user_locale, default=settings.default_language)
    directory = ApproverDirectory(settings.cancel_approvers, publisher.group_members)
    await directory.start(wait_seconds=APPROVER_WARM_UP_SECONDS)
    resources.push_async_callback(directory.stop)
    decisions = RequestDecisions(
        store,
        directory,
        allow_self_approval=settings.allow_self_approval,
        request_ttl=settings.request_ttl,
        required_approvals=settings.required_approvals,
        remind_after=settings.remind_after,
        lost_click_after=timedelta(seconds=settings.lease_seconds),
    )
    # Names this process in the leases it takes and the outbox messages it claims.
    instance_id = lease_owner or instance_names(settings)[1]
    execution = CancelExecution(
        store,
        soget,
        instance_id=instance_id,
        lease_seconds=settings.lease_seconds,
        settle_after_seconds=settings.settle_after_seconds,
        bulk_concurrency=settings.bulk_concurrency,
    )
    # The outbox retries on its own terms (claims, per-channel Retry-After, backoff): its
    # client never sleeps or resends inside a call, which could post a reply twice.
    outbox_publisher = SlackPublisher(
        create_slack_client(settings, slack_session, retries=False),
        settings.cancel_approvers,
        approval_channel=settings.approval_channel,
        required_approvals=settings.required_approvals,
        channel_languages=settings.channel_languages,
        default_language=settings.default_language,
    )
    runner = CancelRunner(
        decisions,
        execution,
        Deliverer(
            store,
            outbox_publisher,
            instance_id=instance_id,
            languages=languages,
            base_delay_seconds=settings.slack_retry_base_seconds,
        ),
        sweep_seconds=settings.sweep_interval_seconds,
    )
    store.on_enqueue(runner.kick)
    ops = build_ops(
        settings,
        store=store,
        client=client,
        publisher=publisher,
        directory=directory,
        metrics=metrics,
        languages=languages,
    )
    resources.push_async_callback(ops.drain)
    previewer = OrderPreviewer(soget, timeout_seconds=settings.preview_timeout_seconds)
    return Deps(
        settings=settings,
        service=decisions,
        requests=RequestFlow(decisions, previewer, publisher),
        slack_client=client,
        publisher=publisher,
        runner=runner,
        order_id_pattern=settings.compiled_order_id_pattern(),
        approvers=settings.cancel_approvers,
        previewer=previewer,
        languages=languages,
        ops=ops,
        store=store,
        search=OrderSearch(
            soget,
            timeout_seconds=settings.search_timeout_seconds,
            key=seal_key(settings.slack_bot_token),
            orders_per_request=settings.max_orders_per_request,
        ),
    )


def instance_names(settings: Settings) -> tuple[str, str]:
    """(name, lease owner) of this process. The name labels /metrics, /healthz and the logs:
    INSTANCE_ID, else the host name and a random suffix. The lease owner, in the leases and
    outbox claims it takes, always ends with a random suffix: two processes given the same
    INSTANCE_ID (one .env for both replicas, a restart next to its predecessor) must never
    take each other's leases for their own."""
    suffix = uuid.uuid4().hex[:8]
    if settings.instance_id:
        return settings.instance_id, f"{settings.instance_id}-{suffix}"
    owner = f"{socket.gethostname().split('.')[0] or 'bot'}-{suffix}"
    return owner, owner


async def open_store(settings: Settings, clock: Callable[[], datetime]) -> Store:
    """The SQLite file of DATABASE_PATH, or PostgreSQL when DATABASE_URL is set, migrated."""
    location = settings.database_location()
    where = redacted(location) if isinstance(location, str) else str(location)
    try:
        return await Store.open(
            location,
            clock=clock,
            pool_min_size=settings.database_pool_min_size,
            pool_max_size=settings.database_pool_max_size,
        )
    except DatabaseTooNewError as exc:
        raise DatabaseUnusableError(f"the database {where} cannot be used: {exc}") from None
    except DATABASE_ERRORS as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(location, str):
            reason = reason.replace(location, where)  # never the password
        raise DatabaseUnusableError(f"the database {where} is unusable: {reason}") from None


def soget_tokens(settings: Settings, observer: TokenObserver | None = None) -> TokenProvider:
    """The access tokens SOGET_ACCESS_TOKEN or the client-credentials settings describe."""
    return token_provider_from(
        access_token=settings.soget_access_token,
        token_url=settings.soget_token_url,
        client_id=settings.soget_client_id,
        client_secret=settings.soget_client_secret,
        scope=settings.soget_scope,
        connect_timeout=settings.soget_connect_timeout_seconds,
        timeout=settings.soget_timeout_seconds,
        observer=observer,
    )


async def start_soget(
    settings: Settings,
    resources: contextlib.AsyncExitStack,
    *,
    metrics: Metrics,
    transport: httpx.AsyncBaseTransport | None,
    retry: RetryPolicy,
) -> SogetClient:
    """The SOGET API client; in sandbox mode, with the built-in stand-in started for it."""
    if settings.sandbox:
        # The built-in stand-in, with credentials of its own: nothing real is reachable.
        sandbox = SogetStandIn.seeded()
        await sandbox.start()
        resources.push_async_callback(sandbox.stop)
        logger.warning(
            "SANDBOX mode: SOGET stand-in at %s with example orders %s; no real order is touched",
            sandbox.api_url,
            ", ".join(order.order_id for order in SANDBOX_ORDERS),
        )
        base_url = sandbox.api_url
        tokens: TokenProvider = StaticToken(SecretStr(sandbox.access_token))
        api_key = SecretStr(sandbox.api_key)
    else:
        assert settings.soget_api_key is not None  # Settings requires it outside sandbox
        base_url = settings.soget_api_url
        tokens = soget_tokens(settings, observer=metrics)
        api_key = settings.soget_api_key
    soget = SogetClient.create(
        base_url,
        tokens=tokens,
        api_key=api_key,
        connect_timeout=settings.soget_connect_timeout_seconds,
        timeout=settings.soget_timeout_seconds,
        retry=retry,
        transport=transport,
        observer=metrics,
    )
    resources.push_async_callback(soget.aclose)
    return soget


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
        self.instance, self._lease_owner = instance_names(settings)
        self.metrics = Metrics(self.instance)
        # Slack requests being handled (HTTP handlers and Bolt listeners): the drain waits for
        # them. Draining: /healthz answers 503 and HTTP mode refuses new Slack requests.
        self.in_flight = InFlight()
        self._draining = False
        self._drained = False
        self._soget_transport = soget_transport
        self._soget_retry = soget_retry
        self._clock = clock
        self._resources = contextlib.AsyncExitStack()
        self._deps: Deps | None = None
        self._bolt_app: AsyncApp | None = None
        self._database: DatabaseProbe | None = None
        # Socket Mode: whether the WebSocket to Slack is up now (None in HTTP mode, where
        # Slack comes to the bot).
        self.slack_connected: Callable[[], bool] | None = None

    @property
    def bolt_app(self) -> AsyncApp:
        if self._bolt_app is None:
            raise RuntimeError("the runtime is not started")
        return self._bolt_app

    @property
    def deps(self) -> Deps:
        if self._deps is None:
            raise RuntimeError("the runtime is not started")
        return self._deps

    @property
    def ops(self) -> Ops:
        return self.deps.ops

    @property
    def store(self) -> Store:
        return self.deps.store

    async def start(self) -> None:
        try:
            deps = await build_deps(
                self.settings,
                self._resources,
                metrics=self.metrics,
                soget_transport=self._soget_transport,
                soget_retry=self._soget_retry,
                clock=self._clock,
                lease_owner=self._lease_owner,
            )
        except BaseException:
            # Close what was built (the database's thread would keep the process alive).
            await self._resources.aclose()
            raise
        self._deps = deps
        self._database = DatabaseProbe(
            deps.store, None if self.settings.database_url else self.settings.database_path
        )
        self._resources.push_async_callback(self._database.settle)
        self._bolt_app = create_app(self.settings, deps, in_flight=self.in_flight)
        await deps.runner.start()
        self._resources.push_async_callback(deps.runner.stop)
        logger.info("instance %s started", self.instance)

    @property
    def draining(self) -> bool:
        return self._draining

    def begin_drain(self) -> None:
        """Stop taking new work at once: /healthz turns 503, HTTP mode refuses new Slack
        requests, and the background runner claims no new cancel, read-back or sweep."""
        if self._draining:
            return
        self._draining = True
        if self._deps is not None:
            self._deps.runner.stop_claiming()

    async def drain(self) -> None:
        """SIGTERM: stop taking new work; let the work under way finish or hand it back, all
        within SHUTDOWN_GRACE_SECONDS (see CancelRunner.drain for what is handed back how)."""
        self.begin_drain()
        if self._drained or self._deps is None:
            return
        self._drained = True
        deps = self._deps
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        deadline = loop.time() + self.settings.shutdown_grace_seconds
        logger.info(
            "instance %s draining: no new work; what runs gets %.0fs to finish",
            self.instance,
            self.settings.shutdown_grace_seconds,
        )
        # The Slack requests under way first: an approval among them queues a cancel that
        # another instance then picks up.
        if not await self.in_flight.wait_idle(deadline - loop.time()):
            logger.warning("drain: %d Slack request(s) still in progress", self.in_flight.count)
        await deps.runner.drain(deadline)
        await deps.ops.tasks.drain(timeout=max(deadline - loop.time(), 0.0))
        logger.info("instance %s drained in %.1fs", self.instance, time.monotonic() - started)

    async def stop(self) -> None:
        try:
            await self.drain()
        finally:
            await self._resources.aclose()

    async def health(self) -> dict[str, object]:
        """Unauthenticated and free of secrets: what a load balancer or Docker needs."""
        probe = self._database if self._bolt_app is not None else None
        loaded = probe is not None
        database = await probe.state() if probe is not None else "unreachable"
        slack = None
        if self.slack_connected is not None:
            slack = "connected" if self.slack_connected() else "disconnected"
        ok = loaded and database == "ok" and slack in (None, "connected") and not self._draining
        if ok:
            detail = "ok"
        elif self._draining:
            detail = "draining"  # a load balancer stops routing here
        elif not loaded:
            detail = "starting"
        elif database != "ok":
            detail = f"database {database}"
        else:
            detail = f"slack {slack}"
        health: dict[str, object] = {
            "ok": ok,
            "detail": detail,
            "database": database,
            "configuration": "loaded" if loaded else "not loaded",
            "sandbox": self.settings.sandbox,
            "instance": self.instance,
        }
        if slack is not None:
            health["slack"] = slack
        return health
