"""The Bolt app from already-built parts (`create_app`), the HTTP server around a runtime
(`create_web_app`), and Socket Mode's health server (`create_health_app`)."""

from __future__ import annotations

import logging
from typing import Protocol

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.listener.async_listener_completion_handler import (
    AsyncListenerCompletionHandler,
)
from slack_bolt.listener.async_listener_start_handler import AsyncListenerStartHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.deps import Deps
from bot.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.observability.metrics import Metrics
from bot.services.background import InFlight
from bot.slack.inbound import Refusal, bolt_request, check_request
from handlers import register_all

logger = logging.getLogger(__name__)

SLACK_EVENTS_PATH = "/slack/events"


class ServedRuntime(Protocol):
    """What the HTTP server needs of the running bot (bot.runtime.BotRuntime)."""

    settings: Settings
    metrics: Metrics
    in_flight: InFlight

    @property
    def bolt_app(self) -> AsyncApp: ...

    @property
    def draining(self) -> bool: ...

    async def health(self) -> dict[str, object]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(settings: Settings, deps: Deps, *, in_flight: InFlight | None = None) -> AsyncApp:
    """The Bolt app: every listener registered on the parts in `deps`; with `in_flight`, each
    listener counts there from its start to its end (after the ack), for the drain."""
    signing_secret = settings.slack_signing_secret
    app = AsyncApp(
        client=deps.slack_client,
        signing_secret=signing_secret.get_secret_value() if signing_secret else None,
        name="cancel-order-bot",
    )
    register_all(app, deps)
    if in_flight is not None:
        runner = app.listener_runner
        runner.listener_start_handler = _ListenerStarted(in_flight)
        runner.listener_completion_handler = _ListenerDone(in_flight)
    return app


class _ListenerStarted(AsyncListenerStartHandler):
    def __init__(self, in_flight: InFlight) -> None:
        self._in_flight = in_flight

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        self._in_flight.enter()


class _ListenerDone(AsyncListenerCompletionHandler):
    def __init__(self, in_flight: InFlight) -> None:
        self._in_flight = in_flight

    async def handle(self, request: AsyncBoltRequest, response: BoltResponse | None) -> None:
        self._in_flight.leave()


def health_routes(runtime: ServedRuntime) -> list[web.RouteDef]:
    """GET /healthz and GET /metrics, the same in both modes: with the Slack endpoint in HTTP
    mode, alone on HEALTH_PORT in Socket Mode (`create_health_app`)."""

    async def healthz(_request: web.Request) -> web.Response:
        health = await runtime.health()
        return web.json_response(health, status=200 if health["ok"] else 503)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(
            body=runtime.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    return [web.get("/healthz", healthz), web.get("/metrics", metrics)]


def create_health_app(runtime: ServedRuntime) -> web.Application:
    """Socket Mode's only HTTP server: /healthz and /metrics (the runtime is started apart)."""
    health_app = web.Application()
    health_app.add_routes(health_routes(runtime))
    return health_app


def create_web_app(runtime: ServedRuntime) -> web.Application:
    """The HTTP mode's server: Slack's requests at /slack/events, plus /healthz.

    A request reaches Bolt only signed by Slack and shaped like what Slack sends: anything else
    is answered here (401 / 400) and does nothing, whatever response_url its body names.
    """
    secret = runtime.settings.slack_signing_secret
    verifier = SignatureVerifier(secret.get_secret_value()) if secret else None

    async def slack_events(request: web.Request) -> web.Response:
        if runtime.draining:
            return draining_refusal()
        runtime.in_flight.enter()
        try:
            return await handle_slack_request(request)
        finally:
            runtime.in_flight.leave()

    async def handle_slack_request(request: web.Request) -> web.Response:
        checked = check_request(await request.read(), request.headers, verifier)
        if isinstance(checked, Refusal):
            return refuse(checked)
        built = bolt_request(body=checked.text, query=request.query_string, headers=request.headers)
        if isinstance(built, str):
            return refuse(Refusal(400, f"malformed: {built}"))
        bolt_response = await runtime.bolt_app.async_dispatch(built)
        return await to_aiohttp_response(bolt_response)

    def draining_refusal() -> web.Response:
        # Nothing read, stored or sent: the load balancer may pass the request to another
        # replica (nginx: proxy_next_upstream http_503 non_idempotent). Slack itself does not
        # retry commands or clicks, and retries events later (README "Running several
        # replicas").
        response = web.json_response(
            {"error": "draining"}, status=503, headers={"Retry-After": "1"}
        )
        response.force_close()
        return response

    def refuse(refusal: Refusal) -> web.Response:
        # No body content in the log: it is unverified, or not understood.
        logger.warning("Slack request refused (%d): %s", refusal.status, refusal.reason)
        return web.json_response({"error": refusal.reason}, status=refusal.status)

    async def on_startup(_app: web.Application) -> None:
        await runtime.start()

    async def on_cleanup(_app: web.Application) -> None:
        await runtime.stop()

    web_app = web.Application()
    web_app.add_routes(
        [
            web.post(SLACK_EVENTS_PATH, slack_events),
            *health_routes(runtime),
        ]
    )
    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
