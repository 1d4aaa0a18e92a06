"""What SOGET says reaches Slack escaped: in the blocks and in every message's `text` fallback,
which Slack renders too (notifications, screen readers, clients without blocks)."""

from __future__ import annotations

import json

import pytest

from bot.slack.ids import ActionId
from tests.conftest import APPROVER, REQUESTER, BotUnderTest
from tests.fakes.server import RecordedRequest
from tests.fakes.soget_api import Fault

ORDER = "CDE0000000031"
HOSTILE_CODE = "<!channel>R0099<@U0OUTSIDE1>"
HOSTILE_MESSAGE = "<!here> ask <@U0OUTSIDE1> & see <https://evil.example|MouvONE>"
RAW_MARKUP = ("<!channel>", "<!here>", "<@U0OUTSIDE1>", "<https://evil.example")


def _raw_markup_in(call: RecordedRequest) -> list[str]:
    found = []
    for part in ("text", "blocks"):
        shown = call.body.get(part)
        shown = shown if isinstance(shown, str) else json.dumps(shown)
        found += [f"{part}: {raw}" for raw in RAW_MARKUP if raw in shown]
    return found


@pytest.mark.parametrize("status", [400, 409])
async def test_a_hostile_error_code_and_message_are_escaped_everywhere(
    bot: BotUnderTest, status: int
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    body = json.dumps(
        {"timestamp": "2026-11-25T10:00:00Z", "code": HOSTILE_CODE, "message": HOSTILE_MESSAGE}
    )
    bot.soget.script(Fault(status=status, body=body))

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) >= 2, what="the DMs")

    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "&lt;!channel&gt;R0099&lt;@U0OUTSIDE1&gt;" in str(reply.body["text"])
    assert "&lt;!here&gt;" in json.dumps(reply.body["blocks"])
    sent = [
        *bot.slack.calls("chat.postMessage"),
        *bot.slack.calls("chat.update"),
        *bot.slack.calls("chat.postEphemeral"),
    ]
    assert len(sent) >= 4
    assert [f"{call.path} {fault}" for call in sent for fault in _raw_markup_in(call)] == []
