"""Private replies reach the user where the bot is not a member of the channel.

chat.postEphemeral needs the bot in the channel (Slack answers `not_in_channel`, or
`channel_not_found` for a private channel or DM it cannot see). The bot then answers through
the interaction's response_url when there is one, else in a direct message.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from bot.slack.messages.dm import SANDBOX_MARKER
from tests import payloads
from tests.conftest import OUTSIDER, REQUESTER, BotFactory, BotUnderTest
from tests.fakes.server import RecordedRequest
from tests.ops_helpers import shown

ORDER = "CDE0000000071"
NOT_JOINED = "C0NOTJOIND"
APPROVALS = "C0APPROVAL"
NOT_APPROVER_TEXT = "Only the approvers named for this bot"


def request_form_submission(*, user: str, channel: str, order_id: str) -> str:
    """The request form (opened by `/cancel-order` alone in `channel`) submitted."""
    view = {
        "id": "V0000003",
        "type": "modal",
        "callback_id": CallbackId.REQUEST_MODAL.value,
        "private_metadata": channel,
        "state": {
            "values": {
                BlockId.REQUEST_ORDER.value: {
                    InputActionId.REQUEST_ORDER.value: {
                        "type": "plain_text_input",
                        "value": order_id,
                    }
                },
                BlockId.REQUEST_CATEGORY.value: {
                    InputActionId.REQUEST_CATEGORY.value: {
                        "type": "static_select",
                        "selected_option": {"value": "duplicate_order"},
                    }
                },
                BlockId.REQUEST_REASON.value: {
                    InputActionId.REQUEST_REASON.value: {
                        "type": "plain_text_input",
                        "value": "ordered twice",
                    }
                },
            }
        },
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEAM001", "domain": "portops"},
        "user": {"id": user, "username": user.lower(), "team_id": "T0TEAM001"},
        "api_app_id": "A0APP0001",
        "token": "legacy-verification-token",
        "trigger_id": "trigger.form",
        "view": view,
    }
    return urlencode({"payload": json.dumps(payload)})


def shut_out(bot: BotUnderTest, channel: str, how: str) -> None:
    if how == "not_in_channel":
        bot.slack.not_in_channels.add(channel)
    else:
        bot.slack.unknown_channels.add(channel)


async def dm_containing(bot: BotUnderTest, user: str, text: str) -> RecordedRequest:
    def found() -> list[RecordedRequest]:
        return [dm for dm in bot.slack.dms(user) if text in str(dm.body.get("text"))]

    await bot.slack.wait_until(lambda: bool(found()), what=f"a direct message with {text!r}")
    return found()[0]


@pytest.mark.parametrize("how", ["not_in_channel", "channel_not_found"])
async def test_request_form_in_a_channel_without_the_bot_is_answered_by_direct_message(
    bot: BotUnderTest, how: str
) -> None:
    bot.soget.add(ORDER)
    shut_out(bot, NOT_JOINED, how)

    response = await bot.post_signed(
        request_form_submission(user=REQUESTER, channel=NOT_JOINED, order_id=ORDER)
    )

    assert response.status_code == 200
    answer = await dm_containing(bot, REQUESTER, "Invite me")
    assert how in str(answer.body["text"])
    [attempt] = bot.slack.ephemerals(REQUESTER)  # tried in the channel first
    assert attempt.body["channel"] == NOT_JOINED
    [stored] = await bot.runtime.store.history_of_order(ORDER)
    assert stored.status.value == "withdrawn"


async def test_approval_channel_pointer_reaches_a_requester_where_the_bot_is_not(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(approval_channel=APPROVALS)
    bot.slack.bot_only_in(APPROVALS)
    bot.soget.add(ORDER)

    request = await bot.request_posted_for(ORDER)  # asked in payloads.CHANNEL

    assert request.channel_id == payloads.CHANNEL
    [posted] = bot.slack.channel_posts()
    assert posted.body["channel"] == APPROVALS
    pointer = await dm_containing(bot, REQUESTER, "waits for approval")
    assert f"<#{APPROVALS}>" in str(pointer.body["text"])
    assert "/archives/C0APPROVAL/" in str(pointer.body["text"])  # the link to the request


@pytest.mark.parametrize("how", ["not_in_channel", "channel_not_found"])
async def test_refusal_after_a_click_where_the_bot_is_not_goes_through_response_url(
    bot: BotUnderTest, how: str
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    shut_out(bot, payloads.CHANNEL, how)  # the bot was removed after posting the request

    response = await bot.click(ActionId.APPROVE, request, user=OUTSIDER)

    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="a response_url answer")
    [answer] = bot.slack.webhooks()
    assert answer.body["response_type"] == "ephemeral"
    assert answer.body["replace_original"] is False  # the request message stays as it is
    assert NOT_APPROVER_TEXT in str(answer.body["text"])
    assert bot.slack.dms(OUTSIDER) == []
    assert (await bot.request(request.id)).status.value == "pending"


async def test_refusal_falls_back_to_a_direct_message_when_response_url_is_spent(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.not_in_channels.add(payloads.CHANNEL)
    bot.slack.webhook_status = 404

    response = await bot.click(ActionId.APPROVE, request, user=OUTSIDER)

    assert response.status_code == 200
    await dm_containing(bot, OUTSIDER, NOT_APPROVER_TEXT)
    assert len(bot.slack.webhooks()) == 1


async def test_answers_through_response_url_carry_the_sandbox_marker(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(
        sandbox=True,
        soget_api_url="https://unreachable.example.invalid/customer-orders/v1",
        soget_access_token=None,
        soget_api_key=None,
    )
    request = await bot.request_posted_for("CDE0000000001")  # a stand-in example order
    bot.slack.not_in_channels.add(payloads.CHANNEL)

    await bot.click(ActionId.APPROVE, request, user=OUTSIDER)

    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="a response_url answer")
    [answer] = bot.slack.webhooks()
    assert str(answer.body["text"]).startswith(f"[{SANDBOX_MARKER}]")
    assert SANDBOX_MARKER in shown(answer.body)
