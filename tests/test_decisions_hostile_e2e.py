"""Hostile decisions: clicks from the wrong place, a form for a channel it may not post in,
control characters in a reject reason. Each is refused privately and changes nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, BotFactory, BotUnderTest

ORDER = "CDE0000000041"
ELSEWHERE = "C0ELSEWHR1"
APPROVALS = "C0APPROVAL"


def _click(
    bot: BotUnderTest,
    action: ActionId,
    request: CancelRequest,
    *,
    user: str,
    channel: str = payloads.CHANNEL,
    message_ts: str | None = "request",
) -> str:
    """A click on `request`'s button, from `channel`; `message_ts=None` leaves the message out
    (Slack always names it; a forged or broken payload may not)."""
    assert request.message_ts is not None
    body = payloads.block_action(
        action,
        user=user,
        request_id=request.id,
        message_ts=request.message_ts if message_ts == "request" else (message_ts or "x"),
        response_url=bot.slack.response_url,
        channel=channel,
    )
    if message_ts is not None:
        return body
    payload = json.loads(dict(parse_qsl(body))["payload"])
    del payload["container"]["message_ts"]
    del payload["message"]
    return payloads._form(payload)


async def _refused_privately(bot: BotUnderTest, user: str, channel: str) -> str:
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(user)))
    [note] = bot.slack.ephemerals(user)
    assert note.body["channel"] == channel
    return str(note.body["text"])


async def _assert_unchanged(bot: BotUnderTest, request: CancelRequest) -> None:
    assert (await bot.request(request.id)).status is RequestStatus.PENDING
    assert bot.soget.deletes() == []
    assert bot.slack.calls("views.open") == []
    assert bot.slack.thread_replies() == []


# -- item 16: a click must come from the request's message ----------------------------------

WRONG_PLACES: dict[str, dict[str, Any]] = {
    "another channel": {"channel": ELSEWHERE},
    "no message ts": {"message_ts": None},
    "another channel and no message ts": {"channel": ELSEWHERE, "message_ts": None},
}
DECISIONS = {ActionId.APPROVE: APPROVER, ActionId.REJECT: APPROVER, ActionId.WITHDRAW: REQUESTER}


@pytest.mark.parametrize("action", DECISIONS, ids=[a.name for a in DECISIONS])
@pytest.mark.parametrize("place", WRONG_PLACES, ids=list(WRONG_PLACES))
async def test_a_click_not_from_the_request_message_is_refused_privately(
    bot: BotUnderTest, action: ActionId, place: str
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    user = DECISIONS[action]
    where = WRONG_PLACES[place]

    await bot.post_signed(_click(bot, action, request, user=user, **where))

    text = await _refused_privately(bot, user, where.get("channel", payloads.CHANNEL))
    assert "Nothing changed" in text
    await _assert_unchanged(bot, request)


async def test_with_an_approval_channel_clicks_count_only_there(bot_with: BotFactory) -> None:
    bot = await bot_with(approval_channel=APPROVALS)
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    # The requester's channel holds only a pointer to the request, never its buttons.
    await bot.post_signed(_click(bot, ActionId.APPROVE, request, user=APPROVER))
    await _refused_privately(bot, APPROVER, payloads.CHANNEL)
    await _assert_unchanged(bot, request)

    await bot.post_signed(_click(bot, ActionId.APPROVE, request, user=APPROVER, channel=APPROVALS))
    assert (await bot.wait_posted(request.id)).status is RequestStatus.SUCCEEDED


async def _send_anyway_offered(bot: BotUnderTest) -> CancelRequest:
    order = bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    order.status = "Submitted"  # now MouvONE would refuse the cancel (R0008)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert ActionId.SEND_ANYWAY.value in str(bot.slack.ephemerals(APPROVER)[0].body["blocks"])
    bot.slack.requests.clear()
    return request


async def test_send_anyway_from_another_channel_is_refused(bot: BotUnderTest) -> None:
    request = await _send_anyway_offered(bot)

    await bot.post_signed(
        _click(bot, ActionId.SEND_ANYWAY, request, user=APPROVER, channel=ELSEWHERE)
    )

    await _refused_privately(bot, APPROVER, ELSEWHERE)
    await _assert_unchanged(bot, request)


async def test_send_anyway_from_its_private_message_is_taken(bot: BotUnderTest) -> None:
    """The button's private message has a ts of its own: only the channel is checked."""
    request = await _send_anyway_offered(bot)

    await bot.post_signed(
        _click(bot, ActionId.SEND_ANYWAY, request, user=APPROVER, message_ts="1700000001.999999")
    )

    assert (await bot.wait_posted(request.id)).decided_by == APPROVER
    assert len(bot.soget.deletes(ORDER)) == 1


# -- item 14: the request form re-checks the channel it will post in ------------------------


def _form_submission(channel: str) -> str:
    values = {
        BlockId.REQUEST_ORDER.value: {
            InputActionId.REQUEST_ORDER.value: {"type": "plain_text_input", "value": ORDER}
        },
        BlockId.REQUEST_CATEGORY.value: {
            InputActionId.REQUEST_CATEGORY.value: {
                "type": "static_select",
                "selected_option": {"value": "customer_request"},
            }
        },
        BlockId.REQUEST_REASON.value: {
            InputActionId.REQUEST_REASON.value: {"type": "plain_text_input", "value": "asked"}
        },
    }
    return payloads._form(
        {
            "type": "view_submission",
            "team": {"id": "T0TEAM001", "domain": "portops"},
            "user": {"id": REQUESTER, "username": "requester", "team_id": "T0TEAM001"},
            "api_app_id": "A0APP0001",
            "token": "legacy-verification-token",
            "trigger_id": "trigger.form",
            "view": {
                "id": "V0000003",
                "type": "modal",
                "callback_id": CallbackId.REQUEST_MODAL.value,
                "private_metadata": channel,
                "state": {"values": values},
            },
        }
    )


async def _assert_form_refused(bot: BotUnderTest, channel: str) -> None:
    response = await bot.post_signed(_form_submission(channel))

    assert response.status_code == 200
    assert response.text, "the form was taken"
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "Nothing was sent" in answer["errors"][BlockId.REQUEST_ORDER.value]
    assert await bot.runtime.store.with_status(*RequestStatus) == []
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.slack.calls("chat.postEphemeral") == []
    assert bot.soget.requests == []


@pytest.mark.parametrize("channel", ["D0DIRECT01", ""], ids=["direct message", "no channel"])
async def test_a_form_for_a_direct_message_opens_nothing(bot: BotUnderTest, channel: str) -> None:
    bot.soget.add(ORDER)
    await _assert_form_refused(bot, channel)


async def test_a_form_for_a_channel_outside_allowed_channels_opens_nothing(
    bot_with: BotFactory,
) -> None:
    bot = await bot_with(allowed_channels=payloads.CHANNEL)
    bot.soget.add(ORDER)

    await _assert_form_refused(bot, ELSEWHERE)

    accepted = await bot.post_signed(_form_submission(payloads.CHANNEL))
    assert accepted.status_code == 200 and not accepted.text
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()))
    assert bot.slack.channel_posts()[0].body["channel"] == payloads.CHANNEL


# -- item 15: control characters in a reject reason -----------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["bell \x07 ring", "\x1b[31mred\x1b[0m text", "hidden\u200bspace", "flip \u202eeman"],
    ids=["BEL", "ANSI colour", "zero-width space", "bidi override"],
)
async def test_a_reject_reason_with_control_characters_is_refused_in_the_modal(
    bot: BotUnderTest, reason: str
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    response = await bot.submit_reject(request, user=APPROVER, reason=reason)

    assert response.status_code == 200
    assert response.text, "the reason was taken"
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "control characters" in answer["errors"][BlockId.REJECT_REASON.value]
    stored = await bot.request(request.id)
    assert stored.status is RequestStatus.PENDING and stored.decision_note is None
    assert bot.slack.thread_replies() == []


async def test_a_reject_reason_on_several_lines_is_taken(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    response = await bot.submit_reject(request, user=APPROVER, reason="wrong order\n\tsee ticket")

    assert response.status_code == 200 and not response.text
    rejected = await bot.wait_status(request.id, "rejected")
    assert rejected.decision_note == "wrong order\n\tsee ticket"
