"""A small base for the fake HTTP servers: the package's local server (an aiohttp app on
127.0.0.1, an ephemeral port), every request recorded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.local_server import LocalServer, read_body


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: str
    at: float = field(default_factory=time.monotonic)


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


class FakeServer(LocalServer):
    """The package's local server, with every request recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[RecordedRequest] = []

    async def record(self, request: web.Request) -> RecordedRequest:
        return await record_request(self.requests, request)

    async def wait_until(
        self, predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "condition"
    ) -> None:
        await wait_until(predicate, timeout=timeout, what=what)
