"""Unit tests of the hostile-input rules that need no server: where a click may come from, and
the door's signature and shape checks."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from slack_sdk.signature import SignatureVerifier

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.inbound import Accepted, Refusal, check_request
from handlers.actions import Click, wrong_message

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
CHANNEL = "C0CHANNEL1"
TS = "1700000000.000001"
REQUEST = CancelRequest(
    id="0123456789abcdef0123456789abcdef",
    order_id="CDE0000000001",
    channel_id=CHANNEL,
    requester_id="U0REQUEST1",
    reason="customer asked",
    status=RequestStatus.PENDING,
    created_at=NOW,
    updated_at=NOW,
    message_ts=TS,
)
UNPOSTED = replace(REQUEST, message_ts=None)  # posted, but its ts not stored (yet)


def _click(channel: str = CHANNEL, ts: str | None = TS) -> Click:
    return Click(REQUEST.id, "U0APPROVE1", channel, ts)


@pytest.mark.parametrize(
    ("click", "cancel_request", "private", "wrong"),
    [
        (_click(), REQUEST, False, False),
        (_click(ts="1700000000.000002"), REQUEST, False, True),
        (_click(channel="C0ELSEWHR1"), REQUEST, False, True),
        (_click(ts=None), REQUEST, False, True),
        (_click(), UNPOSTED, False, False),  # the click raced the store write
        (_click(ts=None), UNPOSTED, False, True),  # no message named: never taken
        (_click(channel="C0ELSEWHR1"), UNPOSTED, False, True),
        (_click(ts="1700000001.999999"), REQUEST, True, False),  # Send anyway's private message
        (_click(channel="C0ELSEWHR1"), REQUEST, True, True),
        (_click(channel=""), REQUEST, True, True),
    ],
)
def test_where_a_click_may_come_from(
    click: Click, cancel_request: CancelRequest, private: bool, wrong: bool
) -> None:
    assert wrong_message(click, cancel_request, CHANNEL, private=private) is wrong


SECRET = "unit-signing-secret"
VERIFIER = SignatureVerifier(SECRET)


def _headers(body: str, timestamp: str) -> dict[str, str]:
    signature = VERIFIER.generate_signature(timestamp=timestamp, body=body) or ""
    return {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


@pytest.mark.parametrize(
    "timestamp", ["", "abc", "1.5", "-1", "+1", "1_0", " 1", "9" * 13, "9" * 5000, "١٧٠٠"]
)
def test_a_timestamp_that_is_not_plain_seconds_is_unverified(timestamp: str) -> None:
    body = "command=%2Fcancel-order&user_id=U1&channel_id=C1"
    checked = check_request(body.encode(), _headers(body, timestamp), VERIFIER)
    assert isinstance(checked, Refusal) and checked.status == 401


def test_no_signing_secret_refuses_everything() -> None:
    body = "command=%2Fcancel-order&user_id=U1&channel_id=C1"
    checked = check_request(body.encode(), _headers(body, str(int(time.time()))), None)
    assert checked == Refusal(401, "unverified: no signing secret is configured")


def test_a_signed_command_passes_the_door() -> None:
    body = (
        "command=%2Fcancel-order&user_id=U1&channel_id=C1&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F1%2Fsecret"
    )
    checked = check_request(body.encode(), _headers(body, str(int(time.time()))), VERIFIER)
    assert isinstance(checked, Accepted) and checked.body["user_id"] == "U1"


def test_json_nested_too_deep_is_malformed_not_a_crash() -> None:
    body = "[" * 100_000 + "]" * 100_000
    headers = {**_headers(body, str(int(time.time()))), "Content-Type": "application/json"}
    checked = check_request(body.encode(), headers, VERIFIER)
    assert isinstance(checked, Refusal) and checked.status == 400


def test_the_door_itself_refuses_a_wrong_signature() -> None:
    """Bolt checks signatures too, which would hide a door that stopped checking them; but the
    door is what keeps an unverified body from reaching Bolt's error handler (and its
    response_url), so it must refuse on its own."""
    body = "command=%2Fcancel-order&user_id=U1&channel_id=C1&text="
    headers = _headers(body, str(int(time.time())))
    tampered = body.replace("U1", "U2").encode()

    checked = check_request(tampered, headers, VERIFIER)

    assert checked == Refusal(401, "unverified: wrong or stale signature")
