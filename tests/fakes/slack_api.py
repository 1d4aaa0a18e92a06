"""The fake Slack of the tests: the playground's Slack stand-in (bot/playground/slack.py: the
Web API methods the bot calls, as Slack answers them) plus a response_url endpoint, a record of
every call, and scripted failures and delays."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.playground.slack import BOT_USER_ID, TEAM_ID, Message, SlackStandIn
from bot.playground.slack import is_user as _is_user
from tests.fakes.server import FakeServer, RecordedRequest
from tests.fakes.socket_mode import FakeSocketMode

__all__ = ["BOT_USER_ID", "TEAM_ID", "FakeSlack", "ScriptedFailure"]


@dataclass
class ScriptedFailure:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    only_threads: bool = False  # answer only calls that reply in a thread
    channel: str | None = None  # answer only calls to this channel (or user, for a DM)
    reset: bool = False  # drop the connection instead of answering (after any delay)
    # Slack did what was asked (the message is posted) before the failure: a 5xx or a lost
    # answer after the request went out.
    after_applying: bool = False

    def applies_to(self, body: dict[str, Any]) -> bool:
        if self.channel is not None and body.get("channel") != self.channel:
            return False
        return not self.only_threads or bool(body.get("thread_ts"))


class FakeSlack(SlackStandIn, FakeServer):
    """Serves the Web API methods the bot uses under /api/, and /webhook for response_url."""

    def __init__(self, *, token: str) -> None:
        super().__init__(token=token)
        self.webhook_status = 200  # e.g. 404: a response_url used up or expired
        self._ts_counter = 0
        self._failures: dict[str, list[ScriptedFailure]] = {}
        self._lasting_failures: dict[str, ScriptedFailure] = {}
        self._delays: dict[str, float] = {}
        self._holds: dict[str, list[tuple[ScriptedFailure, asyncio.Event]]] = {}
        # Socket Mode: apps.connections.open hands out this server's URLs (app token only).
        self.socket_mode: FakeSocketMode | None = None

    @property
    def response_url(self) -> str:
        return self.url + "/webhook"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/webhook", self._webhook),
            web.route("*", "/api/{method}", self.handle_api),
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

    def hold_answer(self, method: str, until: asyncio.Event, where: ScriptedFailure) -> None:
        """The next call to `method` that `where` applies to (its `only_threads` / `channel`)
        is carried out (the message posted), and its answer held back until `until` is set:
        the caller sees Slack take it, and no answer."""
        self._holds.setdefault(method, []).append((where, until))

    def without_scopes(self, *scopes: str) -> None:
        """The workspace did not grant these scopes: the methods needing them answer
        missing_scope."""
        self.missing_scopes |= set(scopes)

    def bot_only_in(self, *channels: str) -> None:
        """The bot is a member of these channels and no other."""
        self.member_channels = set(channels)

    def next_ts(self, *, ephemeral: bool = False) -> str:
        # Fixed seconds, so that tests can name the first message's ts.
        self._ts_counter += 1
        return f"{1700000001 if ephemeral else 1700000000}.{self._ts_counter:06d}"

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

    def posted_in_thread(self, thread_ts: str) -> list[Message]:
        """The replies the thread shows (what Slack kept, not the calls made)."""
        return [m for m in self.messages if m.thread_ts == thread_ts and m.ephemeral_for is None]

    def posted_dms(self, user: str) -> list[Message]:
        """The direct messages the bot's DM channel with `user` shows."""
        return [m for m in self.messages if m.channel == user and m.ephemeral_for is None]

    def lookups(self) -> list[RecordedRequest]:
        """The reads of conversations the outbox makes to find a message posted already."""
        reads = ("conversations.replies", "conversations.history", "conversations.open")
        return [r for r in self.requests if r.path.removeprefix("/api/") in reads]

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

    async def handle_api(self, request: web.Request) -> web.Response:
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
        if failure is not None and failure.reset:
            if failure.after_applying:
                self.answer(method, recorded.body)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        holds = self._holds.get(method, [])
        hold = next((h for h in holds if h[0].applies_to(recorded.body)), None)
        if hold is not None:
            holds.remove(hold)
            answer = self.answer(method, recorded.body)
            await hold[1].wait()
            return web.json_response(answer)
        if failure is not None:
            if failure.after_applying:
                self.answer(method, recorded.body)
            return web.json_response(
                failure.body or {"ok": False, "error": "fatal_error"},
                status=failure.status,
                headers=failure.headers,
            )
        await asyncio.sleep(0)
        return web.json_response(self.answer(method, recorded.body))

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
