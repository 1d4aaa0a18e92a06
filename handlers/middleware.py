"""Global Bolt middleware: log context for every Slack request; the sandbox marker if enabled."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.deps import Deps
from bot.observability.logs import bind_request, new_trace
from bot.slack.sandbox import SandboxAck, SandboxRespond, SandboxWebClient

Next = Callable[[], Awaitable[BoltResponse]]

_REQUEST_ID = re.compile(r"[0-9a-f]{32}")

# Set once Bolt's signature check has passed: app.use middleware runs after Bolt's built-in
# verification. The error handler acts on a body (its response_url) only with this set.
VERIFIED = "cancel_order_request_verified"


def cancel_request_id(body: dict[str, Any]) -> str | None:
    """The cancel request a click or modal is about (button value / modal metadata)."""
    candidates = [action.get("value") for action in body.get("actions") or []]
    candidates.append((body.get("view") or {}).get("private_metadata"))
    for candidate in candidates:
        if isinstance(candidate, str) and _REQUEST_ID.fullmatch(candidate):
            return candidate
    return None


async def mark_verified(req: AsyncBoltRequest, resp: BoltResponse, next_: Next) -> BoltResponse:
    req.context[VERIFIED] = True
    return await next_()


async def bind_log_context(req: AsyncBoltRequest, resp: BoltResponse, next_: Next) -> BoltResponse:
    new_trace()
    bind_request(cancel_request_id(req.body))
    return await next_()


async def mark_sandbox(req: AsyncBoltRequest, resp: BoltResponse, next_: Next) -> BoltResponse:
    context = req.context
    context["client"] = SandboxWebClient.like(context.client)
    context["ack"] = SandboxAck()
    respond = context.respond
    if respond is not None:
        context["respond"] = SandboxRespond(
            response_url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl
        )
    return await next_()


def register(app: AsyncApp, deps: Deps) -> None:
    app.use(mark_verified)  # first: nothing of ours runs on an unverified body
    app.use(bind_log_context)
    if deps.settings.sandbox:
        app.use(mark_sandbox)
