"""Sandbox mode, Slack side: every message and view the bot posts carries the SANDBOX marker.

Marking happens where messages leave the bot (the Web API client, `ack`, `respond`), so no
builder or listener needs to know about the sandbox and none can forget it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook import WebhookResponse

from bot.slack.messages.dm import SANDBOX_MARKER, sandbox_marker
from bot.slack.messages.mrkdwn import md

_MESSAGE_METHODS = frozenset(
    {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage"}
)
_VIEW_METHODS = frozenset({"views.publish", "views.open", "views.update", "views.push"})
_PREFIX = f"[{SANDBOX_MARKER}] "


def _as_dicts(blocks: object) -> list[dict[str, Any]]:
    if blocks is None:
        return []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not isinstance(blocks, Sequence):
        return []
    return [b.to_dict() if isinstance(b, Block) else dict(b) for b in blocks]


def _has_marker(blocks: list[dict[str, Any]]) -> bool:
    marker_id = sandbox_marker().block_id
    return any(block.get("block_id") == marker_id for block in blocks)


def mark_message(text: str | None, blocks: object) -> tuple[str | None, list[dict[str, Any]]]:
    """Text prefixed, and the marker block appended (text-only messages get blocks)."""
    marked = _as_dicts(blocks)
    if not marked and text:
        marked = [SectionBlock(text=md(text)).to_dict()]
    if not _has_marker(marked):
        marked.append(sandbox_marker().to_dict())
    if text and not text.startswith(_PREFIX):
        text = _PREFIX + text
    return text, marked


def mark_view(view: object) -> object:
    """The marker as the first block of a modal or the Home tab."""
    parsed = json.loads(view) if isinstance(view, str) else view
    if not isinstance(parsed, dict):
        return view
    blocks = _as_dicts(parsed.get("blocks"))
    if not _has_marker(blocks):
        blocks.insert(0, sandbox_marker().to_dict())
    return {**parsed, "blocks": blocks}


def mark_api_payload(api_method: str, payload: dict[str, Any]) -> dict[str, Any]:
    if api_method in _MESSAGE_METHODS:
        text, blocks = mark_message(payload.get("text"), payload.get("blocks"))
        return {**payload, "text": text, "blocks": blocks}
    if api_method in _VIEW_METHODS and "view" in payload:
        return {**payload, "view": mark_view(payload["view"])}
    return payload


class SandboxWebClient(AsyncWebClient):
    """An AsyncWebClient that marks every message and view it sends."""

    @classmethod
    def like(cls, client: AsyncWebClient) -> SandboxWebClient:
        """The same client (token, base URL, session, retries) with marking."""
        return cls(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            ssl=client.ssl,
            proxy=client.proxy,
            session=client.session,
            trust_env_in_session=client.trust_env_in_session,
            headers=client.headers,
            team_id=client.default_params.get("team_id"),
            logger=client.logger,
            retry_handlers=client.retry_handlers,
        )

    async def api_call(
        self, api_method: str, *, json: dict[str, Any] | None = None, **kwargs: Any
    ) -> AsyncSlackResponse:
        if json is not None:
            json = mark_api_payload(api_method, json)
        return await super().api_call(api_method, json=json, **kwargs)


class SandboxAck(AsyncAck):
    """`ack()` whose text replies (usage, help, audit answers) carry the marker."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    async def __call__(  # type: ignore[override]
        self, text: str | dict[str, Any] = "", blocks: Any = None, **kwargs: Any
    ) -> BoltResponse:
        if isinstance(text, str) and (text or blocks) and not kwargs.get("response_action"):
            marked_text, blocks = mark_message(text, blocks)
            text = marked_text or ""
        return await super().__call__(text, blocks, **kwargs)


class SandboxRespond(AsyncRespond):
    """`respond()` (the response_url) with the marker."""

    async def __call__(  # type: ignore[override]
        self, text: str | dict[str, Any] = "", blocks: Any = None, **kwargs: Any
    ) -> WebhookResponse:
        if isinstance(text, str):
            marked_text, blocks = mark_message(text, blocks)
            text = marked_text or ""
        return await super().__call__(text, blocks, **kwargs)
