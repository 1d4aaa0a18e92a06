"""A small aiohttp server on 127.0.0.1 (an ephemeral port unless one is given), and the reading
of request bodies the way the Slack Web API accepts them."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


async def read_body(request: web.Request) -> tuple[dict[str, Any], str]:
    """Merge query, form and JSON bodies the way the Slack Web API accepts them."""
    raw = await request.text()
    data: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("Content-Type", "")
    if raw and "json" in content_type:
        parsed = json.loads(raw)
        if isinstance(parsed, dict):
            data.update(parsed)
    elif raw:
        data.update(dict(parse_qsl(raw, keep_blank_values=True)))
    return data, raw


class LocalServer:
    """`routes()` served on 127.0.0.1: `await start()`, then use `url`; `await stop()`.

    The stand-ins of the sandbox (SOGET) and of the playground (Slack) are such servers, as are
    the tests' fakes."""

    # How long `stop()` waits for requests still being answered.
    shutdown_timeout = 1.0

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
