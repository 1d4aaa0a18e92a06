"""A small base for the fake HTTP servers: an aiohttp app on 127.0.0.1, an ephemeral port,
every request recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str
    at: float = field(default_factory=time.monotonic)


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


async def record_request(requests: list[RecordedRequest], request: web.Request) -> RecordedRequest:
    body, raw = await read_body(request)
    recorded = RecordedRequest(
        method=request.method,
        path=request.path,
        headers=dict(request.headers),
        body=body,
        raw=raw,
    )
    requests.append(recorded)
    return recorded


async def wait_until(
    predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition"
) -> None:
    """Poll until `predicate()` holds; the work after an ack runs in the background."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def record(self, request: web.Request) -> RecordedRequest:
        return await record_request(self.requests, request)

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition"
    ) -> None:
        await wait_until(predicate, timeout=timeout, what=what)
