"""The playground's Slack: the Web API stand-in, plus the web page that shows its workspace the
way Slack's client does, and the requests Slack would send the bot when people use it.

Every command, click, form submission and Home tab opening from the page becomes the request
Slack sends for it (a slash command's form, a `block_actions` or `view_submission` payload, an
`app_home_opened` event), signed with the bot's signing secret and posted to the bot's
`/slack/events`. What the bot answers (the ack's reply, a modal's errors) is applied as Slack
applies it; what it does later arrives through the Web API and `response_url`, as from Slack.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bot.app import SLACK_EVENTS_PATH
from bot.local_server import read_body
from bot.playground.slack import (
    BOT_USER_ID,
    TEAM_ID,
    TEAM_NAME,
    Message,
    SlackStandIn,
    View,
    as_view,
)
from bot.slack.ids import SLASH_COMMAND

APP_ID = "A0PLAYAPP1"
BOT_DISPLAY_NAME = "Cancel Order"
CHANNEL_ID = "C0PLAYOPS1"
CHANNEL_NAME = "ops-cancels"
BOT_TIMEOUT_SECONDS = 10
_STATIC = {
    "": ("index.html", "text/html"),
    "playground.js": ("playground.js", "application/javascript"),
    "playground.css": ("playground.css", "text/css"),
}


@dataclass(frozen=True, slots=True)
class PlayUser:
    id: str
    name: str
    role: str  # what the page says about them
    approver: bool


REQUESTER = PlayUser("U0PLAYREQ1", "Rosa Martin", "requester", approver=False)
APPROVER = PlayUser("U0PLAYAPR1", "Amir Haddad", "approver", approver=True)
APPROVER_2 = PlayUser("U0PLAYAPR2", "Bea Laurent", "approver", approver=True)
OUTSIDER = PlayUser("U0PLAYOUT1", "Otto Berg", "not an approver", approver=False)
PLAY_USERS: tuple[PlayUser, ...] = (REQUESTER, APPROVER, APPROVER_2, OUTSIDER)


def approver_ids(users: tuple[PlayUser, ...] = PLAY_USERS) -> tuple[str, ...]:
    """CANCEL_APPROVERS of the playground's bot."""
    return tuple(user.id for user in users if user.approver)


def find_element(blocks: list[dict[str, Any]], block_id: str, action_id: str) -> dict[str, Any]:
    """The interactive element `action_id` of block `block_id` (a section's accessory, an
    actions block's element, an input's element), or {} when there is none."""
    for block in blocks:
        if block.get("block_id") != block_id:
            continue
        candidates = [
            *block.get("elements", []),
            block.get("accessory") or {},
            block.get("element") or {},
        ]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return {}


def _action(element: dict[str, Any], block_id: str, sent: dict[str, Any]) -> dict[str, Any]:
    """What Slack puts in `actions` for a click on `element` (a select: the chosen option)."""
    kind = str(element.get("type") or sent.get("type") or "button")
    action: dict[str, Any] = {
        "type": kind,
        "action_id": element.get("action_id", sent.get("action_id")),
        "block_id": block_id,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        action["text"] = element.get("text", {})
        action["value"] = element.get("value", "")
        if "style" in element:
            action["style"] = element["style"]
    elif "selected_option" in sent:
        action["selected_option"] = sent["selected_option"]
    return action


class Playground(SlackStandIn):
    """The Slack stand-in with the page at `/` and the page's calls under `/play/`."""

    def __init__(
        self,
        *,
        token: str,
        signing_secret: str,
        users: tuple[PlayUser, ...] = PLAY_USERS,
        sandbox_note: str = "",
    ) -> None:
        super().__init__(token=token)
        self.users = users
        self.signer = SignatureVerifier(signing_secret)
        self.bot_url: str | None = None  # where the bot listens, once it does
        self.sandbox_note = sandbox_note
        self.channel_names[CHANNEL_ID] = CHANNEL_NAME
        for user in users:
            self.profiles[user.id] = {
                "real_name": user.name,
                "profile": {"real_name": user.name, "display_name": user.name.split()[0]},
            }
        self._responders: dict[str, tuple[str, str]] = {}  # response_url key → (channel, user)
        self._triggers = itertools.count(1)
        self._http: aiohttp.ClientSession | None = None

    async def start(self, port: int = 0) -> None:
        await super().start(port)
        # Links the bot shows (a request's thread) open in the page.
        self.permalink_base = f"{self.url}/#"
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=BOT_TIMEOUT_SECONDS))

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        await super().stop()

    def routes(self) -> list[web.RouteDef]:
        return [
            *super().routes(),
            web.post("/respond/{key}", self._respond),
            web.get("/play/state", self._state),
            web.post("/play/command", self._command),
            web.post("/play/action", self._action),
            web.post("/play/submit", self._submit),
            web.post("/play/close", self._close),
            web.post("/play/home", self._home),
            web.get("/", self._static),
            web.get("/{name:playground\\.(js|css)}", self._static),
        ]

    # -- as Slack towards the bot ------------------------------------------------------------

    def _user(self, user_id: object) -> PlayUser:
        user = next((u for u in self.users if u.id == user_id), None)
        if user is None:
            raise web.HTTPBadRequest(text="unknown user")
        return user

    def _trigger(self, user: PlayUser) -> str:
        trigger = f"{next(self._triggers)}.{secrets.token_hex(6)}"
        self.triggers[trigger] = user.id
        return trigger

    def _response_url(self, channel: str, user: PlayUser) -> str:
        key = secrets.token_urlsafe(12)
        self._responders[key] = (channel, user.id)
        return f"{self.url}/respond/{key}"

    def _user_field(self, user: PlayUser) -> dict[str, Any]:
        return {
            "id": user.id,
            "username": user.name.split()[0].lower(),
            "name": user.name.split()[0].lower(),
            "team_id": TEAM_ID,
        }

    async def send_to_bot(self, body: str, content_type: str) -> tuple[int, str]:
        """POST `body` to the bot's /slack/events, signed as Slack signs it."""
        if self.bot_url is None or self._http is None:
            return 503, "the bot is not running"
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": self.signer.generate_signature(timestamp=timestamp, body=body)
            or "",
        }
        try:
            async with self._http.post(
                self.bot_url + SLACK_EVENTS_PATH, data=body.encode(), headers=headers
            ) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as error:
            return 502, type(error).__name__

    async def _send_payload(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        form = urlencode({"payload": json.dumps(payload)})
        status, text = await self.send_to_bot(form, "application/x-www-form-urlencoded")
        return status, _json_object(text)

    def _show_reply(self, channel: str, user: PlayUser, reply: dict[str, Any]) -> None:
        """A command's ack or a response_url post: ephemeral unless `in_channel`."""
        if not (reply.get("text") or reply.get("blocks")):
            return
        if reply.get("delete_original"):
            return
        in_channel = reply.get("response_type") == "in_channel"
        self.post(
            channel,
            str(reply.get("text") or ""),
            reply.get("blocks"),
            ephemeral_for=None if in_channel else user.id,
        )

    # -- the page's calls --------------------------------------------------------------------

    async def _command(self, request: web.Request) -> web.Response:
        asked = await request.json()
        user = self._user(asked.get("user"))
        channel = str(asked.get("channel") or CHANNEL_ID)
        command, _, text = str(asked.get("text", "")).strip().partition(" ")
        if command != SLASH_COMMAND:
            return web.json_response(
                {"ok": False, "error": f"{command} is not a valid command. Try {SLASH_COMMAND}."}
            )
        form = urlencode(
            {
                "token": "playground",
                "team_id": TEAM_ID,
                "team_domain": "portops",
                "channel_id": channel,
                "channel_name": self.channel_names.get(channel, "directmessage"),
                "user_id": user.id,
                "user_name": user.name.split()[0].lower(),
                "command": command,
                "text": text.strip(),
                "api_app_id": APP_ID,
                "is_enterprise_install": "false",
                "response_url": self._response_url(channel, user),
                "trigger_id": self._trigger(user),
            }
        )
        status, answer = await self.send_to_bot(form, "application/x-www-form-urlencoded")
        if status != 200:
            return _failed(command, status)
        self._show_reply(channel, user, _json_object(answer))
        return web.json_response({"ok": True})

    async def _action(self, request: web.Request) -> web.Response:
        asked = await request.json()
        user = self._user(asked.get("user"))
        sent = dict(asked.get("action") or {})
        block_id, action_id = str(sent.get("block_id", "")), str(sent.get("action_id", ""))
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "portops"},
            "user": self._user_field(user),
            "api_app_id": APP_ID,
            "token": "playground",
            "trigger_id": self._trigger(user),
            "is_enterprise_install": False,
        }
        view_id = asked.get("view_id")
        if view_id:
            view = self.view_by_id(str(view_id))
            if view is None:
                raise web.HTTPNotFound(text="no such view")
            element = find_element(view.view.get("blocks", []), block_id, action_id)
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = self._view_payload(view, asked.get("values") or {})
        else:
            channel, ts = str(asked.get("channel", "")), str(asked.get("ts", ""))
            message = self.find(channel, ts)
            if message is None or message.ephemeral_for not in (None, user.id):
                raise web.HTTPNotFound(text="no such message")
            element = find_element(message.blocks, block_id, action_id)
            ephemeral = message.ephemeral_for is not None
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            payload["channel"] = {"id": channel, "name": self.channel_names.get(channel, "")}
            if message.thread_ts:
                payload["container"]["thread_ts"] = message.thread_ts
            if not ephemeral:  # Slack sends the message for channel messages only
                payload["message"] = _message_payload(message)
            payload["response_url"] = self._response_url(channel, user)
        if not element:
            raise web.HTTPNotFound(text="no such button")
        payload["actions"] = [_action(element, block_id, sent)]
        status, _answer = await self._send_payload(payload)
        if status != 200:
            return _failed(SLASH_COMMAND, status)
        return web.json_response({"ok": True})

    def _view_payload(self, view: View, values: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": view.id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": "BBOT00001",
            "hash": view.hash,
            **view.view,
            "state": {"values": values},
        }

    async def _submit(self, request: web.Request) -> web.Response:
        asked = await request.json()
        user = self._user(asked.get("user"))
        view = self.view_by_id(str(asked.get("view_id", "")))
        if view is None or view.user != user.id:
            raise web.HTTPNotFound(text="no such view")
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "portops"},
            "user": self._user_field(user),
            "api_app_id": APP_ID,
            "token": "playground",
            "trigger_id": self._trigger(user),
            "view": self._view_payload(view, asked.get("values") or {}),
            "response_urls": [],
            "is_enterprise_install": False,
        }
        status, answer = await self._send_payload(payload)
        if status != 200:
            return _failed("the form", status)
        match answer.get("response_action"):
            case "errors":
                return web.json_response({"ok": False, "errors": answer.get("errors", {})})
            case "update":
                view.view = as_view(answer.get("view"))
                self.changed()
            case "push":
                self.open_view(user.id, answer.get("view") or {}, push=True)
            case "clear":
                self.close_views(user.id)
            case _:
                self.close_views(user.id, view.id)
        return web.json_response({"ok": True})

    async def _close(self, request: web.Request) -> web.Response:
        asked = await request.json()
        user = self._user(asked.get("user"))
        self.close_views(user.id, str(asked.get("view_id", "")) or None)
        return web.json_response({"ok": True})

    async def _home(self, request: web.Request) -> web.Response:
        asked = await request.json()
        user = self._user(asked.get("user"))
        body = json.dumps(
            {
                "token": "playground",
                "team_id": TEAM_ID,
                "api_app_id": APP_ID,
                "type": "event_callback",
                "event_id": f"Ev{secrets.token_hex(5).upper()}",
                "event_time": int(time.time()),
                "event": {
                    "type": "app_home_opened",
                    "user": user.id,
                    "channel": "D0PLAYHOME",
                    "tab": str(asked.get("tab") or "home"),
                    "event_ts": f"{time.time():.6f}",
                },
            }
        )
        status, _text = await self.send_to_bot(body, "application/json")
        return web.json_response({"ok": status == 200})

    async def _respond(self, request: web.Request) -> web.Response:
        target = self._responders.get(request.match_info["key"])
        if target is None:
            return web.Response(status=404, text="expired_url")
        body, _raw = await read_body(request)
        channel, user_id = target
        self._show_reply(channel, self._user(user_id), body)
        return web.Response(text="ok")

    async def _state(self, request: web.Request) -> web.Response:
        user = self._user(request.query.get("user"))
        if request.query.get("since") == str(self.version):
            return web.json_response({"version": self.version, "unchanged": True})
        home = self.home_views.get(user.id)
        modals = self.modals.get(user.id) or []
        return web.json_response(
            {
                "version": self.version,
                "me": user.id,
                "team": TEAM_NAME,
                "sandbox_note": self.sandbox_note,
                "bot": {"id": BOT_USER_ID, "name": BOT_DISPLAY_NAME},
                "channel": {"id": CHANNEL_ID, "name": CHANNEL_NAME},
                "users": [
                    {"id": u.id, "name": u.name, "role": u.role, "approver": u.approver}
                    for u in self.users
                ],
                "messages": [m.as_json() for m in self.messages if _visible(m, user.id)],
                "home": {"id": home.id, **home.view} if home is not None else None,
                "modal": {"id": modals[-1].id, **modals[-1].view} if modals else None,
            }
        )

    async def _static(self, request: web.Request) -> web.Response:
        name, content_type = _STATIC[request.match_info.get("name", "")]
        text = resources.files("bot.playground").joinpath("static", name).read_text("utf-8")
        return web.Response(text=text, content_type=content_type)


def _visible(message: Message, user_id: str) -> bool:
    """What `user_id` sees: the channel, their own ephemeral messages and direct messages."""
    if message.ephemeral_for is not None and message.ephemeral_for != user_id:
        return False
    return not (message.channel.startswith(("U", "W")) and message.channel != user_id)


def _message_payload(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "user": message.user,
        "bot_id": "BBOT00001" if message.user == BOT_USER_ID else None,
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
        "team": TEAM_ID,
    }


def _json_object(text: str) -> dict[str, Any]:
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _failed(what: str, status: int) -> web.Response:
    # Slack's own words when an app does not answer its request properly.
    return web.json_response(
        {"ok": False, "error": f'{what} failed with the error "dispatch_failed" (HTTP {status})'}
    )
