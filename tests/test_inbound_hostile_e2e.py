"""Hostile requests at the door: unsigned or badly signed ones, and signed ones that are malformed.

An unverified request gets 401 and makes the bot do nothing at all: no response_url POST (the
response_url points at the fake Slack, which records it), no Web API or SOGET call, nothing
stored. A signed but malformed one gets a 400, never a 500 with a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier

from bot.app import SLACK_EVENTS_PATH
from bot.domain.requests import RequestStatus
from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from tests import payloads
from tests.conftest import APPROVER, OUTSIDER, REQUESTER, SIGNING_SECRET, BotUnderTest

ORDER = "CDE0000000031"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def _with_response_url(body: str, response_url: str) -> str:
    """A hostile sender can put a response_url of its choosing in any payload."""
    if body.startswith("{"):
        return json.dumps({**json.loads(body), "response_url": response_url})
    fields = dict(parse_qsl(body))
    if "payload" in fields:
        payload = {**json.loads(fields["payload"]), "response_url": response_url}
        return urlencode({"payload": json.dumps(payload)})
    return urlencode({**fields, "response_url": response_url})


def _bodies(bot: BotUnderTest) -> dict[str, tuple[str, str]]:
    """One request of each kind Slack sends, each with a response_url at the fake Slack."""
    url = bot.slack.response_url
    return {
        "slash command": (
            payloads.slash_command(f"{ORDER} customer asked", user=REQUESTER, response_url=url),
            FORM,
        ),
        "block action": (
            payloads.block_action(
                ActionId.APPROVE,
                user=APPROVER,
                request_id="f" * 32,
                message_ts="1700000000.000001",
                response_url=url,
            ),
            FORM,
        ),
        "view submission": (
            _with_response_url(
                payloads.reject_submission(user=APPROVER, request_id="f" * 32, reason="no"), url
            ),
            FORM,
        ),
        "event": (_with_response_url(payloads.app_home_opened(user=APPROVER), url), JSON),
    }


def _signature(body: str, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    return SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body) or ""


ZEROS = "v0=" + "0" * 64


def _now() -> str:
    return str(int(time.time()))


# Each builds the Slack headers of a forged request from its body.
Forgery = Callable[[str], dict[str, str | bytes]]

FORGERIES: dict[str, Forgery] = {
    "no headers": lambda body: {},
    "no timestamp": lambda body: {"X-Slack-Signature": _signature(body, _now())},
    "no signature": lambda body: {"X-Slack-Request-Timestamp": _now()},
    "empty signature": lambda body: {"X-Slack-Request-Timestamp": _now(), "X-Slack-Signature": ""},
    "non-numeric timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "abc",
        "X-Slack-Signature": ZEROS,
    },
    "non-numeric timestamp, signed over it": lambda body: {
        "X-Slack-Request-Timestamp": "abc",
        "X-Slack-Signature": _signature(body, "abc"),
    },
    "empty timestamp": lambda body: {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ZEROS},
    "float timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "1.5",
        "X-Slack-Signature": ZEROS,
    },
    "float now, signed over it": lambda body: {
        "X-Slack-Request-Timestamp": _now() + ".5",
        "X-Slack-Signature": _signature(body, _now() + ".5"),
    },
    "huge timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "9" * 5000,
        "X-Slack-Signature": ZEROS,
    },
    "20-digit timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "9" * 20,
        "X-Slack-Signature": ZEROS,
    },
    "negative timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "-1",
        "X-Slack-Signature": ZEROS,
    },
    "negated now, signed over it": lambda body: {
        "X-Slack-Request-Timestamp": "-" + _now(),
        "X-Slack-Signature": _signature(body, "-" + _now()),
    },
    "plus-signed now, signed over it": lambda body: {
        "X-Slack-Request-Timestamp": "+" + _now(),
        "X-Slack-Signature": _signature(body, "+" + _now()),
    },
    "now with underscores, signed over it": lambda body: {
        "X-Slack-Request-Timestamp": _now()[:4] + "_" + _now()[4:],
        "X-Slack-Signature": _signature(body, _now()[:4] + "_" + _now()[4:]),
    },
    "non-ASCII digits": lambda body: {
        "X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠".encode(),
        "X-Slack-Signature": ZEROS,
    },
    "stale timestamp, signed": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time()) - 301),
        "X-Slack-Signature": _signature(body, str(int(time.time()) - 301)),
    },
    # 305, not 301: a future timestamp comes closer while the request is on its way (on a
    # loaded machine, seconds), and 300 s ahead is still inside Slack's window.
    "future timestamp, signed": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time()) + 305),
        "X-Slack-Signature": _signature(body, str(int(time.time()) + 305)),
    },
    "wrong signature": lambda body: {
        "X-Slack-Request-Timestamp": _now(),
        "X-Slack-Signature": ZEROS,
    },
    "signature of another body": lambda body: {
        "X-Slack-Request-Timestamp": _now(),
        "X-Slack-Signature": _signature(body + "&x=1", _now()),
    },
    "signature with another secret": lambda body: {
        "X-Slack-Request-Timestamp": _now(),
        "X-Slack-Signature": _signature(body, _now(), secret="not-the-signing-secret"),
    },
    "signature of another timestamp": lambda body: {
        "X-Slack-Request-Timestamp": _now(),
        "X-Slack-Signature": _signature(body, str(int(time.time()) - 1)),
    },
    "signature in another scheme": lambda body: {
        "X-Slack-Request-Timestamp": _now(),
        "X-Slack-Signature": _signature(body, _now()).replace("v0=", "v1="),
    },
}


async def _post(
    bot: BotUnderTest, body: str | bytes, headers: Mapping[str, str | bytes], content_type: str
) -> httpx.Response:
    # As bytes: a forged header may hold what httpx would not encode from text.
    sent = {"Content-Type": content_type, **headers}
    return await bot.http.post(
        bot.url + SLACK_EVENTS_PATH,
        content=body,
        headers=[(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in sent.items()],
    )


async def _barrier(bot: BotUnderTest) -> None:
    """A genuine click whose private answer, once seen, shows that the requests sent before it
    were handled too (their listeners would have been started first)."""
    body = payloads.block_action(
        ActionId.APPROVE,
        user=OUTSIDER,
        request_id="e" * 32,
        message_ts="1700000000.000009",
        response_url=bot.slack.response_url,
    )
    assert (await bot.post_signed(body)).status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(OUTSIDER)))


async def _assert_nothing_done(bot: BotUnderTest) -> None:
    await _barrier(bot)
    assert bot.slack.webhooks() == []
    done = [
        r.path
        for r in bot.slack.requests
        # The approver groups are read at start, whatever the requests.
        if r.path not in ("/api/auth.test", "/api/users.info", "/api/usergroups.users.list")
        and not (r.path == "/api/chat.postEphemeral" and r.body.get("user") == OUTSIDER)
    ]
    assert done == []
    assert bot.soget.requests == []
    assert await bot.runtime.store.with_status(*RequestStatus) == []


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
async def test_an_unverified_request_gets_401_and_makes_the_bot_do_nothing(
    bot: BotUnderTest, forgery: str, caplog: pytest.LogCaptureFixture
) -> None:
    bot.soget.add(ORDER)
    caplog.set_level(logging.INFO)

    for kind, (body, content_type) in _bodies(bot).items():
        response = await _post(bot, body, FORGERIES[forgery](body), content_type)
        assert response.status_code == 401, kind

    await _assert_nothing_done(bot)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_the_error_handler_never_answers_an_unverified_body(
    bot: BotUnderTest,
) -> None:
    """Even a request handed to Bolt without the web server's check (a future adapter, a test
    harness) and crashing Bolt's own verification makes no POST to its response_url."""
    from slack_bolt.request.async_request import AsyncBoltRequest

    await _barrier(bot)  # starts the runtime's Bolt app through the web server
    body, _ = _bodies(bot)["block action"]
    request = AsyncBoltRequest(
        body=body,
        headers={
            "content-type": FORM,
            "x-slack-request-timestamp": "abc",
            "x-slack-signature": ZEROS,
        },
    )

    response = await bot.runtime.bolt_app.async_dispatch(request)

    assert response.status in (401, 500)
    await _assert_nothing_done(bot)


# -- item 11: signed, but malformed ---------------------------------------------------------


def _payload(**payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _action(**changes: Any) -> str:
    base = json.loads(
        dict(
            parse_qsl(
                payloads.block_action(
                    ActionId.APPROVE,
                    user=APPROVER,
                    request_id="f" * 32,
                    message_ts="1700000000.000001",
                    response_url="http://127.0.0.1:9/hook",
                )
            )
        )["payload"]
    )
    base.update(changes)
    return _payload(**{k: v for k, v in base.items() if v is not None})


def _submission(callback_id: CallbackId, **changes: Any) -> str:
    base = json.loads(
        dict(parse_qsl(payloads.reject_submission(user=APPROVER, request_id="f" * 32, reason="x")))[
            "payload"
        ]
    )
    view = {**base["view"], "callback_id": callback_id.value, **changes.pop("view", {})}
    base.update(view={k: v for k, v in view.items() if v is not None}, **changes)
    return _payload(**{k: v for k, v in base.items() if v is not None})


def _command_without(field: str) -> str:
    command = payloads.slash_command(
        f"{ORDER} why", user=REQUESTER, response_url="http://127.0.0.1:9/hook"
    )
    return urlencode([(k, v) for k, v in parse_qsl(command) if k != field])


_REQUEST_FIELDS = {
    BlockId.REQUEST_ORDER.value: {InputActionId.REQUEST_ORDER.value: {"value": ORDER}},
    BlockId.REQUEST_CATEGORY.value: {
        InputActionId.REQUEST_CATEGORY.value: {"selected_option": {"value": "other"}}
    },
}

MALFORMED: dict[str, tuple[str, str]] = {
    "click without user": (_action(user=None), FORM),
    "click with a user that is a string": (_action(user=APPROVER), FORM),
    "click with a user without id": (_action(user={"name": "x"}), FORM),
    "click with empty actions": (_action(actions=[]), FORM),
    "click without actions": (_action(actions=None), FORM),
    "click with actions that are not a list": (_action(actions={"action_id": "x"}), FORM),
    "click with an action that is not an object": (_action(actions=["approve"]), FORM),
    "click with a channel that is a string": (_action(channel="C0CHANNEL1"), FORM),
    "click with a container that is a list": (_action(container=[1]), FORM),
    "reject modal without state": (
        _submission(CallbackId.REJECT_MODAL, view={"state": None}),
        FORM,
    ),
    "reject modal with values that are not objects": (
        _submission(
            CallbackId.REJECT_MODAL,
            view={"state": {"values": {BlockId.REJECT_REASON.value: ["x"]}}},
        ),
        FORM,
    ),
    "request modal without state": (
        _submission(CallbackId.REQUEST_MODAL, view={"state": None, "private_metadata": "C1"}),
        FORM,
    ),
    "request modal with a field that is a string": (
        _submission(
            CallbackId.REQUEST_MODAL,
            view={
                "private_metadata": payloads.CHANNEL,
                "state": {
                    "values": {**_REQUEST_FIELDS, BlockId.REQUEST_REASON.value: "details"},
                },
            },
        ),
        FORM,
    ),
    "submission of a view without a type": (
        _submission(CallbackId.REJECT_MODAL, view={"type": None}),
        FORM,
    ),
    "closed view without a type": (
        _submission(CallbackId.REJECT_MODAL, type="view_closed", view={"type": None}),
        FORM,
    ),
    "submission without user": (_submission(CallbackId.REJECT_MODAL, user=None), FORM),
    "submission with a view that is a string": (
        _payload(type="view_submission", user={"id": APPROVER}, view="modal"),
        FORM,
    ),
    "payload that is not JSON": ("payload=%7Bnot%20json", FORM),
    "payload that is a list": (urlencode({"payload": "[1, 2]"}), FORM),
    "payload that is a string": (urlencode({"payload": '"block_actions"'}), FORM),
    "payload that is null": (urlencode({"payload": "null"}), FORM),
    "JSON body that is not JSON": ("{not json", JSON),
    "JSON body that is a list": ('[{"type": "block_actions"}]', JSON),
    "JSON body that is a number": ("42", JSON),
    "JSON click without user": (
        json.dumps({"type": "block_actions", "actions": [{"action_id": ActionId.APPROVE.value}]}),
        JSON,
    ),
    "event without event": (json.dumps({"type": "event_callback", "team_id": "T1"}), JSON),
    "event that is a string": (
        json.dumps({"type": "event_callback", "team_id": "T1", "event": "app_home_opened"}),
        JSON,
    ),
    "command without user": (_command_without("user_id"), FORM),
    "command without channel": (_command_without("channel_id"), FORM),
}


def _signed_bytes(body: bytes) -> dict[str, str]:
    """Slack's signature over raw bytes (slack_sdk's helper only takes text)."""
    timestamp = _now()
    digest = hmac.new(
        SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + digest}


def _assert_no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    loud = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert [f"{r.name}: {r.getMessage()}" for r in loud] == []


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
async def test_a_signed_malformed_request_gets_400_and_no_traceback(
    bot: BotUnderTest, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body, content_type = MALFORMED[case]

    signed = payloads.signed_headers(body, SIGNING_SECRET, content_type=content_type)
    response = await _post(bot, body, signed, content_type)

    assert response.status_code == 400
    assert "malformed" in response.text
    _assert_no_error_logged(caplog)
    assert any(r.levelno == logging.WARNING for r in caplog.records)
    await _assert_nothing_done(bot)


async def test_a_signed_body_that_is_not_utf8_gets_400_and_no_traceback(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = b"payload=%7B%22type%22%3A%22block_actions%22%7D\xff\xfe"

    response = await _post(bot, body, _signed_bytes(body), FORM)

    assert response.status_code == 400
    _assert_no_error_logged(caplog)
    await _assert_nothing_done(bot)


async def test_the_bot_still_answers_genuine_requests(bot: BotUnderTest) -> None:
    """The door lets Slack's own requests in: a command, an event, a URL check."""
    bot.soget.add(ORDER)
    assert (await bot.command("help")).status_code == 200
    event = payloads.app_home_opened(user=APPROVER)
    response = await _post(bot, event, payloads.signed_headers(event, SIGNING_SECRET), JSON)
    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.homes(APPROVER)))
    challenge = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "t"})
    response = await _post(bot, challenge, payloads.signed_headers(challenge, SIGNING_SECRET), JSON)
    assert response.status_code == 200 and "abc123" in response.text
