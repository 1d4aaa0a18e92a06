"""The floor: a bare Bolt `AsyncApp` whose one listener only acks, served like the bot.

Same configuration (Settings from the environment), same logging, same aiohttp server
(`bot.__main__.run_http`) and Bolt adapter as `python -m bot --http`, so the bot's ack
latency can be compared with the least any Bolt app on this stack can do.
Run as `python -m bench.floor_app`.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.__main__ import load_settings, run_http
from bot.app import SLACK_EVENTS_PATH
from bot.config import Settings
from bot.observability.logs import configure_logging
from bot.slack.ids import SLASH_COMMAND


def create_floor_app(settings: Settings) -> web.Application:
    secret = settings.slack_signing_secret
    bolt = AsyncApp(
        # The client only answers Bolt's one auth.test; it points at the same (fake) Slack.
        client=AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
        ),
        signing_secret=secret.get_secret_value() if secret else None,
        name="bolt-floor",
    )

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    bolt.command(SLASH_COMMAND)(only_ack)

    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "detail": "ok"})

    web_app = web.Application()
    web_app.add_routes([web.post(SLACK_EVENTS_PATH, slack_events), web.get("/healthz", healthz)])
    return web_app


def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    run_http(create_floor_app(settings), settings)


if __name__ == "__main__":
    main()
