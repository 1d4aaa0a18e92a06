"""Start the playground: the Slack stand-in and its page, and the bot (sandbox SOGET, a fresh
database) served over HTTP on 127.0.0.1, with a bot token and signing secret made for the
session. Nothing is read from `.env` or the environment: it needs no configuration."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app import create_web_app
from bot.config import Settings
from bot.playground.page import Playground, approver_ids
from bot.runtime import BotRuntime
from bot.slack.messages.dm import SANDBOX_MARKER

logger = logging.getLogger("bot.playground")

DEFAULT_PORT = 8025


class PlaygroundSettings(Settings):
    """The bot's settings, from the arguments only (never `.env` or the environment)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def playground_settings(slack: Playground, signing_secret: str, folder: Path) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": slack.token,
        "slack_signing_secret": signing_secret,
        "slack_api_url": slack.api_url,
        "sandbox": True,
        "cancel_approvers": ",".join(approver_ids(slack.users)),
        "database_path": folder / "playground.sqlite3",
        "host": "127.0.0.1",
        "sweep_interval_seconds": 2.0,
        "settle_after_seconds": 5.0,
        "slack_retry_base_seconds": 0.5,
    }
    return PlaygroundSettings(**values)


@contextlib.asynccontextmanager
async def running_playground(port: int = 0) -> AsyncIterator[Playground]:
    """The stand-in and its page on 127.0.0.1:`port` (0: any free port), the bot behind it."""
    signing_secret = secrets.token_hex(16)
    slack = Playground(
        token=f"xoxb-playground-{secrets.token_hex(12)}",
        signing_secret=signing_secret,
        sandbox_note=SANDBOX_MARKER,
    )
    with tempfile.TemporaryDirectory(prefix="cancel-order-playground-") as folder:
        await slack.start(port)
        try:
            runtime = BotRuntime(playground_settings(slack, signing_secret, Path(folder)))
            runner = web.AppRunner(create_web_app(runtime), access_log=None, handle_signals=False)
            await runner.setup()
            try:
                site = web.TCPSite(runner, "127.0.0.1", 0)
                await site.start()
                slack.bot_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
                yield slack
            finally:
                await runner.cleanup()
        finally:
            await slack.stop()


async def serve(port: int = DEFAULT_PORT) -> None:
    """Run until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_playground(port) as slack:
        print(  # the one line a person needs
            f"Playground: open {slack.url}/ in a browser (Ctrl-C stops). "
            "Slack and SOGET are stand-ins: no real order is touched.",
            flush=True,
        )
        await stop.wait()
        logger.info("Stopping the playground")
