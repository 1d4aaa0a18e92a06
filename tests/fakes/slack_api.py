"""A fake Slack Web API (and response_url endpoint) that records what the bot says."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import FakeServer, RecordedRequest
from tests.fakes.socket_mode import FakeSocketMode

BOT_USER_ID = "UBOTUSER1"
TEAM_ID = "T0TEAM001"


@dataclass
class ScriptedFailure:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    only_threads: bool = False  # answer only calls that reply in a thread
    channel: str | None = None  # answer only calls to this channel (or user, for a DM)

    def applies_to(self, body: dict[str, Any]) -> bool:
        if self.channel is not None and body.get("channel") != self.channel:
            return False
        return not self.only_threads or bool(body.get("thread_ts"))


class FakeSlack(FakeServer):
    """Serves the Web API methods the bot uses under /api/, and /webhook for response_url."""

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
        self.webhook_status = 200  # e.g. 404: a response_url used up or expired
        self._ts = itertools.count(1)
        self._failures: dict[str, list[ScriptedFailure]] = {}
        self._lasting_failures: dict[str, ScriptedFailure] = {}
        self._delays: dict[str, float] = {}
        # Socket Mode: apps.connections.open hands out this server's URLs (app token only).
        self.socket_mode: FakeSocketMode | None = None

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def response_url(self) -> str:
        return self.url + "/webhook"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/webhook", self._webhook),
            web.route("*", "/api/{method}", self._api),
        ]

    def fail_next(self, method: str, *failures: ScriptedFailure) -> None:
        self._failures.setdefault(method, []).extend(failures)

    def fail_always(self, method: str, failure: ScriptedFailure | None) -> None:
        """Answer every call to `method` with `failure` (after any `fail_next`); None stops."""
        if failure is None:
            self._lasting_failures.pop(method, None)
        else:
            self._lasting_failures[method] = failure

    def delay(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (0 answers at once again)."""
        self._delays[method] = seconds

    def bot_only_in(self, *channels: str) -> None:
        """The bot is a member of these channels and no other."""
        self.member_channels = set(channels)

    def reach_error(self, channel: str) -> str | None:
        """Slack's error for posting in `channel` as the bot, or None if it may post there.

        Without chat:write.public a bot posts (and posts ephemeral messages) only where it is
        a member: `not_in_channel`; ids it cannot see at all: `channel_not_found`. A user id
        is a direct message, which the bot may always send.
        """
        if _is_user(channel):
            return None
        if channel in self.unknown_channels:
            return "channel_not_found"
        if channel in self.not_in_channels or (
            self.member_channels is not None and channel not in self.member_channels
        ):
            return "not_in_channel"
        return None

    # -- what tests look at ------------------------------------------------------------

    def calls(self, method: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == f"/api/{method}"]

    def webhooks(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == "/webhook"]

    def channel_posts(self) -> list[RecordedRequest]:
        return [
            r
            for r in self.calls("chat.postMessage")
            if not r.body.get("thread_ts") and not _is_user(r.body.get("channel"))
        ]

    def dms(self, user: str | None = None) -> list[RecordedRequest]:
        """Direct messages: chat.postMessage to a user id."""
        return [
            r
            for r in self.calls("chat.postMessage")
            if _is_user(r.body.get("channel")) and (user is None or r.body["channel"] == user)
        ]

    def homes(self, user: str | None = None) -> list[RecordedRequest]:
        return [
            r for r in self.calls("views.publish") if user is None or r.body.get("user_id") == user
        ]

    def thread_replies(self, thread_ts: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.calls("chat.postMessage")
            if r.body.get("thread_ts") and (thread_ts is None or r.body["thread_ts"] == thread_ts)
        ]

    def ephemerals(self, user: str | None = None) -> list[RecordedRequest]:
        return [
            r
            for r in self.calls("chat.postEphemeral")
            if user is None or r.body.get("user") == user
        ]

    def updates(self, ts: str | None = None) -> list[RecordedRequest]:
        return [r for r in self.calls("chat.update") if ts is None or r.body.get("ts") == ts]

    async def wait_for_calls(
        self, method: str, count: int = 1, *, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        await self.wait_until(
            lambda: len(self.calls(method)) >= count,
            timeout=timeout,
            what=f"{count} call(s) to {method}",
        )
        return self.calls(method)

    # -- handlers ------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self.webhook_status != 200:
            return web.Response(status=self.webhook_status, text="expired_url")
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        recorded = await self.record(request)
        method = request.match_info["method"]
        if method == "apps.connections.open":
            if self._delays.get(method):
                await asyncio.sleep(self._delays[method])
            return web.json_response(self._open_connection(recorded))
        if recorded.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        scripted = self._failures.get(method, [])
        failure = next((f for f in scripted if f.applies_to(recorded.body)), None)
        if failure is not None:
            scripted.remove(failure)
        elif (lasting := self._lasting_failures.get(method)) and lasting.applies_to(recorded.body):
            failure = lasting
        if self._delays.get(method):
            await asyncio.sleep(self._delays[method])
        if failure is not None:
            return web.json_response(
                failure.body or {"ok": False, "error": "fatal_error"},
                status=failure.status,
                headers=failure.headers,
            )
        await asyncio.sleep(0)
        return web.json_response(self._answer(method, recorded.body))

    def _open_connection(self, recorded: RecordedRequest) -> dict[str, Any]:
        # Only an app-level token (xapp-…) may open a Socket Mode connection.
        failure = self._failures.get("apps.connections.open") or []
        if failure:
            return failure.pop(0).body or {"ok": False, "error": "fatal_error"}
        if (lasting := self._lasting_failures.get("apps.connections.open")) is not None:
            return lasting.body or {"ok": False, "error": "fatal_error"}
        if not recorded.headers.get("Authorization", "").startswith("Bearer xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if self.socket_mode is None:
            return {"ok": False, "error": "socket_mode_not_enabled"}
        if recorded.headers.get("Authorization") != f"Bearer {self.socket_mode.app_token}":
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_mode.issue_url()}

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel", ""))
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": "https://example.invalid/",
                    "team": "Port Ops",
                    "user": "cancel-order",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": "BBOT00001",
                }
            case "chat.postMessage":
                if error := self.reach_error(channel):
                    return {"ok": False, "error": error}
                ts = f"1700000000.{next(self._ts):06d}"
                return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
            case "chat.update":
                return {"ok": True, "channel": channel, "ts": body.get("ts")}
            case "chat.postEphemeral":
                if error := self.reach_error(channel):
                    return {"ok": False, "error": error}
                return {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
            case "views.open":
                return {"ok": True, "view": {"id": "V0000001", "hash": "1700000000.hash1"}}
            case "views.update":
                return {"ok": True, "view": {"id": body.get("view_id"), "hash": "1700000000.h2"}}
            case "users.info":
                user_id = str(body.get("user", ""))
                user: dict[str, Any] = {"id": user_id, "name": user_id.lower()}
                if str(body.get("include_locale", "")).lower() in {"1", "true"}:
                    user["locale"] = self.locales.get(user_id, "en-US")
                return {"ok": True, "user": user}
            case "views.publish":
                return {"ok": True, "view": {"id": "VHOME0001", "type": "home"}}
            case "chat.getPermalink":
                ts = str(body.get("message_ts", "")).replace(".", "")
                return {
                    "ok": True,
                    "channel": channel,
                    "permalink": f"https://portops.example.invalid/archives/{channel}/p{ts}",
                }
            case "usergroups.users.list":
                group = str(body.get("usergroup", ""))
                if group not in self.user_groups:
                    return {"ok": False, "error": "no_such_subteam"}
                return {"ok": True, "users": self.user_groups[group]}
            case _:
                return {"ok": False, "error": "unknown_method"}


def _is_user(channel: object) -> bool:
    return isinstance(channel, str) and channel.startswith(("U", "W"))
