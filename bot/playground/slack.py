"""A stand-in of Slack's Web API: the methods the bot calls, answered as Slack documents them,
with the workspace they change kept in memory (channel messages, thread replies, direct
messages, ephemeral messages per user, modals, Home tabs).

The tests' fake Slack is this class plus recording and fault scripting, so the bot meets the
same Slack in the tests and in the playground.
"""

from __future__ import annotations

import base64
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
# The scope each reading method needs, by the kind of conversation (its id's first letter):
# public channels C…, private channels G… (or C…, not told apart here), direct messages D….
HISTORY_SCOPES = {"C": "channels:history", "G": "groups:history", "D": "im:history"}
# Slack's default page of conversations.replies / conversations.history, and its maximum.
DEFAULT_PAGE, MAX_PAGE = 100, 1000


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
    metadata: dict[str, Any] | None = None  # chat.postMessage's `metadata`, as posted

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
            "metadata": self.metadata,
        }

    def as_history(self, *, with_metadata: bool) -> dict[str, Any]:
        """The message as conversations.history / conversations.replies list it."""
        shown: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "ts": self.ts,
        }
        if self.user == BOT_USER_ID:
            shown["bot_id"] = "BBOT00001"
        if self.thread_ts:
            shown["thread_ts"] = self.thread_ts
        if with_metadata and self.metadata:
            shown["metadata"] = self.metadata
        return shown


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


def dm_channel(user: str) -> str:
    """The id of the bot's direct message channel with `user` (conversations.open's answer)."""
    return "D" + user


def _page(items: list[Any], body: dict[str, Any]) -> tuple[list[Any], str]:
    """One page of `items` by Slack's `limit` and opaque `cursor`; the next cursor or ""."""
    try:
        limit = min(max(int(body.get("limit") or DEFAULT_PAGE), 1), MAX_PAGE)
    except ValueError:
        limit = DEFAULT_PAGE
    cursor = str(body.get("cursor") or "")
    start = int(base64.b64decode(cursor).decode().split(":")[1]) if cursor else 0
    end = start + limit
    following = base64.b64encode(f"next:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], following


def _flag(value: object) -> bool:
    return str(value).lower() in {"1", "true"}


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
        # Scopes the workspace did not grant: the methods needing them answer missing_scope.
        self.missing_scopes: set[str] = set()
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
        metadata: object = None,
    ) -> Message:
        shown = _json_field(metadata)
        message = Message(
            channel=channel,
            ts=self.next_ts(ephemeral=ephemeral_for is not None),
            text=text,
            blocks=_blocks(blocks),
            user=user,
            thread_ts=thread_ts or None,
            ephemeral_for=ephemeral_for,
            metadata=shown if isinstance(shown, dict) else None,
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
            metadata=body.get("metadata") if ephemeral_for is None else None,
        )

    def _missing_scope(self, scope: str) -> dict[str, Any] | None:
        if scope not in self.missing_scopes:
            return None
        return {"ok": False, "error": "missing_scope", "needed": scope}

    def _conversation(self, channel: str) -> tuple[str, dict[str, Any] | None]:
        """The channel whose messages a reading method lists (a DM channel D… holds the
        messages posted to its user id), or Slack's refusal."""
        refused = self._missing_scope(HISTORY_SCOPES.get(channel[:1], "channels:history"))
        if refused is not None:
            return channel, refused
        if channel.startswith("D"):
            return channel[1:], None
        if channel in self.unknown_channels or not channel:
            return channel, {"ok": False, "error": "channel_not_found"}
        if self.reach_error(channel) is not None:
            return channel, {"ok": False, "error": "not_in_channel"}
        return channel, None

    def _listing(self, found: list[Message], body: dict[str, Any]) -> dict[str, Any]:
        page, following = _page(found, body)
        with_metadata = _flag(body.get("include_all_metadata"))
        return {
            "ok": True,
            "messages": [m.as_history(with_metadata=with_metadata) for m in page],
            "has_more": bool(following),
            "response_metadata": {"next_cursor": following},
        }

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: the thread's parent, then its replies, oldest first."""
        channel, refused = self._conversation(str(body.get("channel", "")))
        if refused is not None:
            return refused
        ts = str(body.get("ts", ""))
        visible = [m for m in self.messages if m.channel == channel and m.ephemeral_for is None]
        parent = next((m for m in visible if m.ts == ts), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        root = parent.thread_ts or parent.ts
        thread = [m for m in visible if m.ts == root or m.thread_ts == root]
        return self._listing(sorted(thread, key=lambda m: m.ts), body)

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.history: the conversation's messages (not the replies in threads),
        newest first."""
        channel, refused = self._conversation(str(body.get("channel", "")))
        if refused is not None:
            return refused
        shown = [
            m
            for m in self.messages
            if m.channel == channel
            and m.ephemeral_for is None
            and (m.thread_ts is None or m.thread_ts == m.ts)
        ]
        return self._listing(sorted(shown, key=lambda m: m.ts, reverse=True), body)

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
            case "conversations.open":
                refused = self._missing_scope("im:write")
                users = str(body.get("users", ""))
                if refused is not None:
                    return refused
                if not is_user(users) or "," in users:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "channel": {"id": dm_channel(users)}}
            case "conversations.replies":
                return self._replies(body)
            case "conversations.history":
                return self._history(body)
            case "conversations.members":
                if channel in self.unknown_channels:
                    return {"ok": False, "error": "channel_not_found"}
                members = [*self.profiles, BOT_USER_ID] if self.reach_error(channel) is None else []
                return {"ok": True, "members": members, "response_metadata": {"next_cursor": ""}}
            case _:
                return {"ok": False, "error": "unknown_method"}
