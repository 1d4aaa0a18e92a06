"""`cancel-order-bot`: Socket Mode when SLACK_APP_TOKEN is set, else (or with --http) HTTP mode.

`cancel-order-bot check` checks the configuration and the connections instead; `--sandbox` runs
against a built-in stand-in of the SOGET API; `--playground` runs the whole bot without a Slack
workspace (bot/playground/).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError

from bot.app import SLACK_EVENTS_PATH, create_health_app, create_web_app
from bot.config import Settings, describe_settings_error
from bot.observability.check import run_check
from bot.observability.logs import configure_logging
from bot.playground.run import DEFAULT_PORT as PLAYGROUND_PORT
from bot.playground.run import serve as serve_playground
from bot.runtime import (
    BotRuntime,
    DatabaseUnusableError,
    SlackTokenRejectedError,
    create_slack_client,
)

logger = logging.getLogger("bot")

EXIT_CONFIG = 2
EXIT_DATABASE = 3
# Slack sends a busy channel's commands in bursts, each on its own connection. aiohttp's
# default listen backlog (128) drops the SYNs beyond it, and those clients retry only after
# a second (docs/benchmarks.md). The kernel caps this at net.core.somaxconn.
LISTEN_BACKLOG = 1024
SOCKET_CLOSE_SECONDS = 3.0
# After the drain, what the HTTP server still waits for (requests refused with 503 meanwhile).
SERVER_CLOSE_SECONDS = 3.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cancel-order-bot",
        description="Slack app: cancel MouvONE customer orders after a second person's approval.",
    )
    parser.add_argument(
        "command",
        nargs="?",
        choices=("run", "check"),
        default="run",
        help="run the bot (the default), or check the configuration, the database, Slack and "
        "the SOGET API, print what works and what does not, and exit (0 if all works)",
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="use a built-in stand-in of the SOGET API with example orders (no SOGET "
        "credentials needed; no real order is touched; every message says so)",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help=f"serve Slack's requests over HTTP at POST {SLACK_EVENTS_PATH} on PORT, "
        "even when SLACK_APP_TOKEN is set",
    )
    parser.add_argument(
        "--playground",
        action="store_true",
        help="try the bot without a Slack workspace: a local stand-in of Slack serves a web page "
        "(http://127.0.0.1:PLAYGROUND_PORT/) where example users type /cancel-order and click, "
        "against the SOGET sandbox; needs no configuration",
    )
    parser.add_argument(
        "--playground-port",
        type=int,
        default=PLAYGROUND_PORT,
        metavar="PORT",
        help=f"the playground page's port on 127.0.0.1 (default {PLAYGROUND_PORT})",
    )
    return parser.parse_args(argv)


def load_settings(*, sandbox: bool = False) -> Settings:
    try:
        # Values come from the environment; --sandbox wins over SANDBOX.
        return Settings(sandbox=True) if sandbox else Settings()
    except ValidationError as error:
        print(describe_settings_error(error), file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.playground:
        configure_logging("INFO", "text")
        asyncio.run(serve_playground(args.playground_port))
        return
    if args.command == "check":
        raise SystemExit(run_check(sandbox=args.sandbox))
    settings = load_settings(sandbox=args.sandbox)
    configure_logging(settings.log_level, settings.log_format)
    if (args.http or not settings.socket_mode) and settings.slack_signing_secret is None:
        print(
            "The bot cannot start: SLACK_SIGNING_SECRET is missing (HTTP mode needs it).",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_CONFIG)
    try:
        if args.http or not settings.socket_mode:
            logger.info("HTTP mode on %s:%d%s", settings.host, settings.port, SLACK_EVENTS_PATH)
            runtime = BotRuntime(settings)
            run_http(create_web_app(runtime), settings, drain=runtime.drain)
        else:
            asyncio.run(run_socket_mode(settings))
    except DatabaseUnusableError as error:
        # One line, no traceback: the operator's next step is in the reason.
        print(f"The bot cannot start: {error}", file=sys.stderr)
        raise SystemExit(EXIT_DATABASE) from None
    except (SlackTokenRejectedError, HealthPortUnusableError) as error:
        print(f"The bot cannot start: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


class HealthPortUnusableError(Exception):
    """Socket Mode cannot listen on HEALTH_PORT."""


def freeze_startup_objects() -> None:
    """Exempt what was built at start from garbage collection, for good.

    A full collection walks every tracked object: with the app's startup objects in reach it
    paused the event loop 40–110 ms in the middle of a burst of commands; frozen, ~4 ms.
    """
    gc.collect()
    gc.freeze()


async def _freeze_after_startup(_app: web.Application) -> None:
    freeze_startup_objects()


def run_http(
    web_app: web.Application,
    settings: Settings,
    *,
    drain: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (the benchmark's floor app is served by this too).

    With `drain`, the server keeps listening while it runs (the bot answers /healthz with 503
    and refuses new Slack requests meanwhile), then closes; a second signal cuts it short.
    """
    web_app.on_startup.append(_freeze_after_startup)  # after the runtime has started
    asyncio.run(_serve_http(web_app, settings, drain))


async def _serve_http(
    web_app: web.Application,
    settings: Settings,
    drain: Callable[[], Awaitable[None]] | None,
) -> None:
    signals = _Signals()
    runner = web.AppRunner(web_app, handle_signals=False, shutdown_timeout=SERVER_CLOSE_SECONDS)
    try:
        # Starting waits for Slack (auth.test, retried while unreachable): a signal ends it.
        if not await signals.unless_signalled(runner.setup()):
            logger.info("Stopping before the start was complete")
            return
        site = web.TCPSite(runner, settings.host, settings.port, backlog=LISTEN_BACKLOG)
        await site.start()
        await signals.first.wait()
        if drain is not None and not await signals.unless_signalled(drain(), again=True):
            logger.warning("A second signal: stopping without waiting for the drain")
    finally:
        await runner.cleanup()


class _Signals:
    """SIGINT and SIGTERM: the first asks to stop (after a drain), a second to stop now."""

    def __init__(self) -> None:
        self.first = asyncio.Event()
        self.second = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._received, signum)

    def _received(self, signum: int) -> None:
        if self.first.is_set():
            self.second.set()
        else:
            logger.info("%s received", signal.Signals(signum).name)
            self.first.set()

    async def unless_signalled(self, work: Awaitable[None], *, again: bool = False) -> bool:
        """Run `work` unless a signal (with `again`: a second one) comes first; True if it
        completed (its exception, if any, is raised), False if it was cut off."""
        task = asyncio.ensure_future(work)
        stop = asyncio.create_task((self.second if again else self.first).wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return False
        task.result()
        return True


async def run_socket_mode(settings: Settings) -> None:
    """Serve Slack's WebSocket until SIGINT/SIGTERM, whether connected, connecting or not;
    /healthz and /metrics on HEALTH_PORT meanwhile (503 "draining" during the drain)."""
    signals = _Signals()
    runtime = BotRuntime(settings)
    runtime.slack_connected = lambda: False  # until the WebSocket is up
    health = await serve_health(runtime, settings)
    try:
        await _run_socket_mode(settings, runtime, signals)
    finally:
        if health is not None:
            await health.cleanup()


async def serve_health(runtime: BotRuntime, settings: Settings) -> web.AppRunner | None:
    """/healthz and /metrics on HOST:HEALTH_PORT (from before the start: it says `starting`)."""
    port = settings.socket_health_port
    if port is None:
        return None
    runner = web.AppRunner(create_health_app(runtime), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.host, port).start()
    except OSError as error:
        await runner.cleanup()
        raise HealthPortUnusableError(
            f"cannot serve /healthz on {settings.host}:{port} ({error.strerror or error}): "
            "set HEALTH_PORT to a free port, or 0 to serve none"
        ) from None
    logger.info("Socket Mode: /healthz and /metrics on %s:%d", settings.host, port)
    return runner


async def _run_socket_mode(settings: Settings, runtime: BotRuntime, signals: _Signals) -> None:
    from bot.slack.socket_mode import SocketModeHandler

    assert settings.slack_app_token is not None
    stop = signals.first
    # Starting waits for Slack (auth.test, retried while unreachable): a signal ends it too.
    starting = asyncio.create_task(runtime.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        logger.info("Stopping before the start was complete")
        return
    stopping.cancel()
    starting.result()  # a start that failed (token rejected, database unusable) raises here
    freeze_startup_objects()
    handler = SocketModeHandler(
        runtime.bolt_app,
        settings.slack_app_token.get_secret_value(),
        # The connection loop retries by itself, one log line per attempt.
        web_client=create_slack_client(settings, retries=False),
    )
    runtime.slack_connected = handler.client.connected
    connecting = asyncio.create_task(handler.connect_async())  # type: ignore[no-untyped-call]
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connecting.done() and not connecting.cancelled() and connecting.exception() is None:
            logger.info("Socket Mode connected")
        await stop.wait()
        logger.info("Stopping")
    finally:
        connecting.cancel()
        stopping.cancel()
        # Drain: no new work; Slack sends new envelopes to the app's other connections (other
        # replicas) once this one is closed; then what runs finishes or is handed back.
        runtime.begin_drain()
        try:
            # A close handshake with a Slack that does not answer must not hold the exit.
            await asyncio.wait_for(handler.close_async(), timeout=SOCKET_CLOSE_SECONDS)  # type: ignore[no-untyped-call]
        except (TimeoutError, OSError):
            logger.warning("Socket Mode: the connection did not close cleanly")
        if not await signals.unless_signalled(runtime.drain(), again=True):
            logger.warning("A second signal: stopping without waiting for the drain")
        await runtime.stop()


if __name__ == "__main__":
    main()
