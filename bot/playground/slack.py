"""A stand-in of Slack's Web API: the methods the bot calls, answered as Slack documents them,
with the workspace they change kept in memory (channel messages, thread replies, direct
messages, ephemeral messages per user, modals, Home tabs).

The tests' fake Slack is this class plus recording and fault scripting, so the bot meets the
same Slack in the tests and in the playground.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.local_server import LocalServer, read_body

BOT_USER_ID = "UBOTUSER1"
TEAM_ID = "T0TEAM001"
TEAM_NAME = "Port Ops"
BOT_NAME = "cancel-order"


@dataclass
class Message:
    """A message as the workspace shows it. `ephemeral_for`: only that user sees it."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    user: str = BOT_USER_ID
    thread_ts: str | None = None
    ephemeral_for: str | None = None
    edited: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "ts": self.ts,
            "text": self.text,
            "blocks": self.blocks,
            "user": self.user,
            "thread_ts": self.thread_ts,
            "ephemeral": self.ephemeral_for is not None,
            "edited": self.edited,
        }


@dataclass
class View:
    """A modal open for a user, or a user's Home tab."""

    id: str
    user: str
    view: dict[str, Any]
    hash: str = field(default_factory=lambda: f"{time.time():.6f}")


def is_user(channel: object) -> bool:
    """A user id: where the bot posts it, the message is a direct message."""
    return isinstance(channel, str) and channel.startswith(("U", "W"))


def _json_field(value: object) -> Any:
    """Web API arguments sent as a form carry JSON (blocks, view) as text."""
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


def _blocks(value: object) -> list[dict[str, Any]]:
    """Blocks as Slack stores them: each with a block_id (Slack makes one up when missing)."""
    blocks = [dict(b) for b in (_json_field(value) or []) if isinstance(b, dict)]
    for block in blocks:
        block.setdefault("block_id", secrets.token_urlsafe(4))
    return blocks


def as_view(value: object) -> dict[str, Any]:
    view = dict(_json_field(value) or {})
    view["blocks"] = _blocks(view.get("blocks"))
    return view


class SlackStandIn(LocalServer):
    """The Web API under /api/ with the bot token `token`; the workspace in attributes."""

    permalink_base = "https://portops.example.invalid"

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self.token = token
        self.user_groups: dict[str, list[str]] = {}
        self.not_in_channels: set[str] = set()
        # Channel membership: by default the bot is in every channel. `member_channels` set
        # makes it a member of those only; `unknown_channels` are ids Slack does not show it
        # (private channels and DMs it is not part of).
        self.member_channels: set[str] | None = None
        self.unknown_channels: set[str] = set()
        self.locales: dict[str, str] = {}  # user id → Slack locale, served by users.info
        self.profiles: dict[str, dict[str, Any]] = {}  # user id → users.info's user
        self.channel_names: dict[str, str] = {}
        self.messages: list[Message] = []
        self.modals: dict[str, list[View]] = {}  # user id → stack of open modals
        self.home_views: dict[str, View] = {}
        self.triggers: dict[str, str] = {}  # trigger_id → the user whose action issued it
        self.version = 0  # grows with every change of the workspace
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/api/{method}", self.handle_api)]

    def next_ts(self, *, ephemeral: bool = False) -> str:
        """A message timestamp: increasing, unique (Slack's are seconds.micro-sequence)."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def reach_error(self, channel: str) -> str | None:
        """Slack's error for posting in `channel` as the bot, or None if it may post there.

        Without chat:write.public a bot posts (and posts ephemeral messages) only where it is
        a member: `not_in_channel`; ids it cannot see at all: `channel_not_found`. A user id
        is a direct message, which the bot may always send.
        """
        if is_user(channel):
            return None
        if channel in self.unknown_channels:
            return "channel_not_found"
        if channel in self.not_in_channels or (
            self.member_channels is not None and channel not in self.member_channels
        ):
            return "not_in_channel"
        return None

    def changed(self) -> None:
        self.version += 1

    def find(self, channel: str, ts: str) -> Message | None:
        return next(
            (m for m in self.messages if m.channel == channel and m.ts == ts),
            None,
        )

    def post(
        self,
        channel: str,
        text: str,
        blocks: object,
        *,
        user: str = BOT_USER_ID,
        thread_ts: str | None = None,
        ephemeral_for: str | None = None,
    ) -> Message:
        message = Message(
            channel=channel,
            ts=self.next_ts(ephemeral=ephemeral_for is not None),
            text=text,
            blocks=_blocks(blocks),
            user=user,
            thread_ts=thread_ts or None,
            ephemeral_for=ephemeral_for,
        )
        self.messages.append(message)
        self.changed()
        return message

    def open_view(self, user: str, view: object, *, push: bool = False) -> View:
        opened = View(id=f"V{next(self._view_ids):07d}", user=user, view=as_view(view))
        stack = self.modals.setdefault(user, [])
        if not push:
            stack.clear()
        stack.append(opened)
        self.changed()
        return opened

    def view_by_id(self, view_id: str) -> View | None:
        for stack in self.modals.values():
            for view in stack:
                if view.id == view_id:
                    return view
        return next((v for v in self.home_views.values() if v.id == view_id), None)

    def close_views(self, user: str, view_id: str | None = None) -> None:
        """Close the modal `view_id` (and any pushed above it), or all of the user's."""
        stack = self.modals.get(user, [])
        ids = [v.id for v in stack]
        if view_id in ids:
            del stack[ids.index(view_id) :]
        else:
            stack.clear()
        self.changed()

    async def handle_api(self, request: web.Request) -> web.Response:
        body, _raw = await read_body(request)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(self.answer(request.match_info["method"], body))

    def _post_as_bot(
        self, body: dict[str, Any], *, ephemeral_for: str | None = None
    ) -> Message | str:
        """chat.postMessage / chat.postEphemeral: the message posted, or Slack's error."""
        channel = str(body.get("channel", ""))
        if error := self.reach_error(channel):
            return error
        return self.post(
            channel,
            str(body.get("text") or ""),
            body.get("blocks"),
            thread_ts=body.get("thread_ts"),
            ephemeral_for=ephemeral_for,
        )

    def answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """Slack's answer to a Web API call, the workspace changed as it says."""
        channel = str(body.get("channel", ""))
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": self.permalink_base + "/",
                    "team": TEAM_NAME,
                    "user": BOT_NAME,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": "BBOT00001",
                }
            case "chat.postMessage":
                posted = self._post_as_bot(body)
                if isinstance(posted, str):
                    return {"ok": False, "error": posted}
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": posted.ts,
                    "message": {"ts": posted.ts},
                }
            case "chat.update":
                found = self.find(channel, str(body.get("ts", "")))
                if found is not None:
                    found.text = str(body.get("text") or found.text)
                    if "blocks" in body:
                        found.blocks = _blocks(body["blocks"])
                    found.edited = True
                    self.changed()
                return {"ok": True, "channel": channel, "ts": body.get("ts")}
            case "chat.postEphemeral":
                posted = self._post_as_bot(body, ephemeral_for=str(body.get("user", "")))
                if isinstance(posted, str):
                    return {"ok": False, "error": posted}
                return {"ok": True, "message_ts": posted.ts}
            case "views.open" | "views.push":
                opener = self.triggers.get(str(body.get("trigger_id", "")), "")
                opened = self.open_view(opener, body.get("view"), push=method == "views.push")
                return {"ok": True, "view": {"id": opened.id, **opened.view}}
            case "views.update":
                target = self.view_by_id(str(body.get("view_id", "")))
                if target is None:
                    return {"ok": False, "error": "not_found"}
                target.view = as_view(body.get("view"))
                self.changed()
                return {"ok": True, "view": {"id": target.id, **target.view}}
            case "views.publish":
                user = str(body.get("user_id", ""))
                home = self.home_views.get(user)
                view = as_view(body.get("view"))
                if home is None:
                    self.home_views[user] = View(
                        id=f"VHOME{len(self.home_views) + 1:04d}", user=user, view=view
                    )
                else:
                    home.view = view
                self.changed()
                return {"ok": True, "view": {"id": self.home_views[user].id, "type": "home"}}
            case "users.info":
                user_id = str(body.get("user", ""))
                info: dict[str, Any] = {
                    "id": user_id,
                    "name": user_id.lower(),
                    **self.profiles.get(user_id, {}),
                }
                if str(body.get("include_locale", "")).lower() in {"1", "true"}:
                    info["locale"] = self.locales.get(user_id, "en-US")
                return {"ok": True, "user": info}
            case "chat.getPermalink":
                ts = str(body.get("message_ts", "")).replace(".", "")
                return {
                    "ok": True,
                    "channel": channel,
                    "permalink": f"{self.permalink_base}/archives/{channel}/p{ts}",
                }
            case "usergroups.users.list":
                group = str(body.get("usergroup", ""))
                if group not in self.user_groups:
                    return {"ok": False, "error": "no_such_subteam"}
                return {"ok": True, "users": self.user_groups[group]}
            case "conversations.info":
                if channel in self.unknown_channels:
                    return {"ok": False, "error": "channel_not_found"}
                name = self.channel_names.get(channel, channel.lower())
                member = self.reach_error(channel) is None
                return {"ok": True, "channel": {"id": channel, "name": name, "is_member": member}}
            case "conversations.members":
                if channel in self.unknown_channels:
                    return {"ok": False, "error": "channel_not_found"}
                members = [*self.profiles, BOT_USER_ID] if self.reach_error(channel) is None else []
                return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
            case _:
                return {"ok": False, "error": "unknown_method"}
