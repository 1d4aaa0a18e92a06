"""The door for Slack's HTTP requests: is it signed by Slack, and is it shaped like what Slack
sends. Pure functions; the web server answers 401 or 400 from them before Bolt sees anything.

Verification is slack_sdk's; only the timestamp is checked first, since slack_sdk's `int()`
raises on `abc`, `` or `1.5` (and accepts `+1`, `1_0`, ` 1`, non-ASCII digits).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
# Unix seconds: 10 digits until the year 2286. More is not a timestamp Slack sends.
_MAX_TIMESTAMP_DIGITS = 12
_MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request is answered without being handled: 401 unverified, 400 malformed."""

    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class Accepted:
    text: str
    body: dict[str, Any]


def _timestamp_problem(timestamp: str | None) -> str | None:
    if timestamp is None:
        return "no timestamp"
    if not (
        timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= _MAX_TIMESTAMP_DIGITS
    ):
        return "a timestamp that is not a number of seconds"
    return None


def check_request(
    raw: bytes, headers: Mapping[str, str], verifier: SignatureVerifier | None
) -> Accepted | Refusal:
    """Slack's signature first (nothing of the body is read before), then the body's shape."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    problem = _timestamp_problem(timestamp)
    if problem is None and not signature:
        problem = "no signature"
    if problem is None and verifier is None:
        problem = "no signing secret is configured"
    if problem is not None:
        return Refusal(401, f"unverified: {problem}")
    assert verifier is not None and timestamp is not None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Slack sends UTF-8 only; slack_sdk cannot check the signature of other bytes.
        return Refusal(400, "malformed: the body is not UTF-8")
    if not verifier.is_valid(text, timestamp, signature):
        return Refusal(401, "unverified: wrong or stale signature")
    try:
        body = parse_body(text, headers.get("Content-Type"))
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return Refusal(400, "malformed: the body or its payload is not JSON")
    problem = payload_problem(body)
    if problem is not None:
        return Refusal(400, f"malformed: {problem}")
    return Accepted(text, body)


def bolt_request(**fields: Any) -> AsyncBoltRequest | str:
    """Bolt's request made of `fields`, or why Bolt's own parsing choked on them (a shape the
    checks above let through: a team that is a number, say). Both doors, HTTP and Socket
    Mode, build their requests here."""
    try:
        return AsyncBoltRequest(**fields)
    except Exception as error:
        return f"{type(error).__name__} while parsing"


def payload_problem(body: object) -> str | None:
    """What makes a verified body unlike anything Slack sends, or None.

    Checked: every field the bot's listeners (and Bolt before them) read without a default.
    """
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if "command" in body:
        return _command_problem(body)
    match body.get("type"):
        case "block_actions":
            return _user_problem(body) or _block_actions_problem(body)
        case "view_submission":
            return _user_problem(body) or _view_problem(body.get("view"), submitted=True)
        case "view_closed":
            return _user_problem(body) or _view_problem(body.get("view"), submitted=False)
        case "event_callback":
            event = body.get("event")
            if not isinstance(event, dict) or not isinstance(event.get("type"), str):
                return "an event callback without an event"
        case "url_verification":
            if not isinstance(body.get("challenge"), str):
                return "a URL verification without a challenge"
    return None


def _command_problem(body: dict[str, Any]) -> str | None:
    for name in ("command", "user_id", "channel_id"):
        value = body.get(name)
        if not isinstance(value, str) or not value:
            return f"a command without {name}"
    if not isinstance(body.get("text", ""), str):
        return "a command whose text is not text"
    if not _is_web_url(body.get("response_url")):
        # Every answer to a command goes there (Bolt's respond): Slack always sends one.
        return "a command without a response_url"
    return None


def _is_web_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > _MAX_URL_LENGTH:
        return False
    try:
        url = urlsplit(value)
    except ValueError:
        return False
    return url.scheme in ("https", "http") and bool(url.hostname)


def _user_problem(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return "no user id"
    return None


def _block_actions_problem(body: dict[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "no actions"
    if not all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions):
        return "an action without action_id"
    for name in ("channel", "container", "message", "view"):
        if name in body and body[name] is not None and not isinstance(body[name], dict):
            return f"a {name} that is not an object"
    channel = body.get("channel")
    if isinstance(channel, dict) and not isinstance(channel.get("id"), str):
        return "a channel without id"
    if not isinstance(body.get("trigger_id"), str):
        return "no trigger_id"
    return None


def _view_problem(view: object, *, submitted: bool) -> str | None:
    if not isinstance(view, dict) or not isinstance(view.get("callback_id"), str):
        return "no view with a callback_id"
    if not isinstance(view.get("type"), str):
        # Bolt reads view["type"] before any listener runs (a KeyError, a 500 to Slack).
        return "a view without a type"
    if not isinstance(view.get("private_metadata", ""), str):
        return "private_metadata that is not text"
    if not submitted:
        return None
    state = view.get("state")
    if not isinstance(state, dict) or not isinstance(state.get("values"), dict):
        return "a view without state values"
    for block in state["values"].values():
        if not isinstance(block, dict) or not all(isinstance(f, dict) for f in block.values()):
            return "a view state value that is not an object"
    return None
