"""Slack's 3-second deadline holds while Slack rate-limits user-group reads: approver membership
comes from a cache read in the background, never between a request and its ack or views.open.

Slack answers `usergroups.users.list` with 429 and a Retry-After of 4 seconds here; a bot that
asks it on the way to `ack()` answers Slack after its deadline (Bolt gives up at 3 s with 404)
and opens the Reject modal with a trigger id that lived 3 s.
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain.requests import CancelRequest
from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER_GROUP, GROUP_MEMBER, OUTSIDER, BotFactory, BotUnderTest
from tests.fakes.slack_api import FakeSlack, ScriptedFailure

ORDER = "CDE0000000061"
SLACK_DEADLINE_SECONDS = 3.0  # Slack drops an answer later than this
TRIGGER_LIFETIME_SECONDS = 3.0  # a trigger id opens a modal only this long after the click
RATE_LIMITED = ScriptedFailure(
    429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "4"}
)
GROUP_DENIED_TEXT = "could not check the approvers' user group"


async def rate_limited_groups_bot(bot_with: BotFactory) -> tuple[BotUnderTest, CancelRequest]:
    """A bot started while Slack answered, with a request posted; from now on every user-group
    read is rate-limited."""
    bot = await bot_with()
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.slack.fail_always("usergroups.users.list", RATE_LIMITED)
    return bot, request


async def timed_post(bot: BotUnderTest, body: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await bot.post_signed(body)
    return response, time.monotonic() - started


async def test_status_is_answered_in_time_while_user_groups_are_rate_limited(
    bot_with: BotFactory,
) -> None:
    bot, _request = await rate_limited_groups_bot(bot_with)
    body = payloads.slash_command(
        f"status {ORDER}", user=OUTSIDER, response_url=bot.slack.response_url
    )

    response, took = await timed_post(bot, body)

    assert response.status_code == 200, response.text
    assert took < SLACK_DEADLINE_SECONDS
    assert response.json()["response_type"] == "ephemeral"
    assert ORDER in response.json()["text"]


async def test_reject_click_opens_the_modal_in_time_while_user_groups_are_rate_limited(
    bot_with: BotFactory,
) -> None:
    bot, request = await rate_limited_groups_bot(bot_with)
    assert request.message_ts is not None
    body = payloads.block_action(
        ActionId.REJECT,
        user=GROUP_MEMBER,
        request_id=request.id,
        message_ts=request.message_ts,
        response_url=bot.slack.response_url,
    )
    trigger_id = json.loads(parse_qs(body)["payload"][0])["trigger_id"]

    clicked_at = time.monotonic()
    response, took = await timed_post(bot, body)

    assert response.status_code == 200, response.text
    assert took < SLACK_DEADLINE_SECONDS
    [opened] = await bot.slack.wait_for_calls("views.open")
    assert opened.body["trigger_id"] == trigger_id
    assert opened.at - clicked_at < TRIGGER_LIFETIME_SECONDS
    assert bot.slack.ephemerals(GROUP_MEMBER) == []


async def test_reject_submission_is_acked_in_time_while_user_groups_are_rate_limited(
    bot_with: BotFactory,
) -> None:
    bot, request = await rate_limited_groups_bot(bot_with)
    body = payloads.reject_submission(user=GROUP_MEMBER, request_id=request.id, reason="dup")

    response, took = await timed_post(bot, body)

    assert response.status_code == 200, response.text
    assert took < SLACK_DEADLINE_SECONDS
    assert response.text == ""  # the modal closes: no errors shown
    rejected = await bot.wait_status(request.id, "rejected")
    assert rejected.decided_by == GROUP_MEMBER


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(None, id="no_such_subteam"),
        pytest.param(ScriptedFailure(200, {"ok": False, "error": "fatal_error"}), id="ok-false"),
        pytest.param(ScriptedFailure(500), id="http-500"),
        pytest.param(RATE_LIMITED, id="rate-limited"),
    ],
)
async def test_group_never_readable_refuses_a_group_member_privately(
    fake_slack: FakeSlack, bot_with: BotFactory, failure: ScriptedFailure | None
) -> None:
    """Fail closed, and at once: a group Slack never let the bot read approves nobody."""
    if failure is None:
        fake_slack.user_groups.pop(APPROVER_GROUP)
    else:
        fake_slack.fail_always("usergroups.users.list", failure)
    bot = await bot_with()
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    response = await bot.click(ActionId.APPROVE, request, user=GROUP_MEMBER)

    assert response.status_code == 200
    await bot.slack.wait_until(
        lambda: bool(bot.slack.ephemerals(GROUP_MEMBER)), what="a private refusal"
    )
    [refusal] = bot.slack.ephemerals(GROUP_MEMBER)
    assert GROUP_DENIED_TEXT in str(refusal.body["text"])
    assert refusal.body["channel"] == request.channel_id
    current = await bot.request(request.id)
    assert current.status.value == "pending" and current.approver_ids == ()
    assert bot.soget.deletes() == []
