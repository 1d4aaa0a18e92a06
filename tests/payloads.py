"""Slack request bodies and signatures, built the way Slack builds them."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from bot.slack.ids import SLASH_COMMAND, ActionId, BlockId, CallbackId, InputActionId
from tests.fakes.slack_api import TEAM_ID

CHANNEL = "C0CHANNEL1"
_trigger = itertools.count(1)


def signed_headers(
    body: str,
    secret: str,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
    }


def slash_command(text: str, *, user: str, response_url: str, channel: str = CHANNEL) -> str:
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "team_domain": "portops",
            "channel_id": channel,
            "channel_name": "ops-cancels",
            "user_id": user,
            "user_name": user.lower(),
            "command": SLASH_COMMAND,
            "text": text,
            "api_app_id": "A0APP0001",
            "response_url": response_url,
            "trigger_id": f"trigger.{next(_trigger)}",
        }
    )


def _form(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def block_action(
    action_id: ActionId,
    *,
    user: str,
    request_id: str,
    message_ts: str,
    response_url: str,
    channel: str = CHANNEL,
) -> str:
    return _form(
        {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "portops"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0APP0001",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": f"trigger.{next(_trigger)}",
            "channel": {"id": channel, "name": "ops-cancels"},
            "message": {"type": "message", "ts": message_ts, "text": "Cancel request"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id.value,
                    "block_id": BlockId.DECISION.value,
                    "value": request_id,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
    )


def _actor(user: str) -> dict[str, Any]:
    """Who a payload comes from, as Slack says it in interactions."""
    return {
        "type": "",  # filled by the caller
        "team": {"id": TEAM_ID, "domain": "portops"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP0001",
        "token": "legacy-verification-token",
        "trigger_id": f"trigger.{next(_trigger)}",
    }


def ephemeral_button(
    action_id: ActionId, *, user: str, value: str, response_url: str, channel: str = CHANNEL
) -> str:
    """A click on a button of a private (ephemeral) message: Slack sends no `message`."""
    return _form(
        {
            **_actor(user),
            "type": "block_actions",
            "container": {
                "type": "message",
                "message_ts": "1700000001.000001",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "channel": {"id": channel, "name": "ops-cancels"},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id.value,
                    "block_id": "private",
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
    )


def view_submission(view: dict[str, Any], *, user: str) -> str:
    return _form({**_actor(user), "type": "view_submission", "view": view})


def reject_submission(*, user: str, request_id: str, reason: str | None) -> str:
    return _form(
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID, "domain": "portops"},
            "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
            "api_app_id": "A0APP0001",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger.{next(_trigger)}",
            "view": {
                "id": "V0000001",
                "type": "modal",
                "callback_id": CallbackId.REJECT_MODAL.value,
                "private_metadata": request_id,
                "state": {
                    "values": {
                        BlockId.REJECT_REASON.value: {
                            InputActionId.REJECT_REASON.value: {
                                "type": "plain_text_input",
                                "value": reason,
                            }
                        }
                    }
                },
            },
        }
    )


def app_home_opened(*, user: str, tab: str = "home") -> str:
    """An Events API `event_callback` body (JSON, signed like the others)."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": "A0APP0001",
            "type": "event_callback",
            "event_id": f"Ev{next(_trigger):08d}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_home_opened",
                "user": user,
                "channel": "D0APPHOME1",
                "tab": tab,
                "event_ts": f"{time.time():.6f}",
            },
        }
    )
