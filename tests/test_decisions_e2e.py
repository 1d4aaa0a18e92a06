"""Who may decide, over signed HTTP: outsiders, self-approval, user groups, rejection."""

from __future__ import annotations

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    GROUP_MEMBER,
    OUTSIDER,
    REQUESTER,
    BotUnderTest,
)

ORDER = "CDE0000000002"


async def test_outsider_click_changes_nothing(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    for action in (ActionId.APPROVE, ActionId.REJECT):
        response = await bot.click(action, request, user=OUTSIDER)
        assert response.status_code == 200

    await bot.slack.wait_until(lambda: len(bot.slack.ephemerals(OUTSIDER)) == 2)
    for told in bot.slack.ephemerals(OUTSIDER):
        assert "Only the approvers" in str(told.body["text"])
        assert told.body["channel"] == "C0CHANNEL1"
    assert (await bot.request(request.id)).status.value == "pending"
    assert bot.soget.deletes() == []
    assert bot.slack.calls("views.open") == []
    assert bot.slack.updates() == []


async def test_requester_cannot_approve_own_request(bot: BotUnderTest) -> None:
    # REQUESTER is also in CANCEL_APPROVERS: being an approver is not enough for one's own.
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=REQUESTER)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(REQUESTER)))
    assert "your own" in str(bot.slack.ephemerals(REQUESTER)[0].body["text"])
    assert (await bot.request(request.id)).status.value == "pending"
    assert bot.soget.deletes() == []


async def test_self_approval_when_the_workspace_allows_it(
    self_approving_bot: BotUnderTest,
) -> None:
    bot = self_approving_bot
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=REQUESTER)

    done = await bot.wait_status(request.id, "succeeded")
    assert done.decided_by == REQUESTER
    assert len(bot.soget.deletes(ORDER)) == 1


async def test_member_of_an_approver_user_group_can_approve(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=GROUP_MEMBER)

    done = await bot.wait_status(request.id, "succeeded")
    assert done.decided_by == GROUP_MEMBER
    [lookup] = bot.slack.calls("usergroups.users.list")
    assert lookup.body["usergroup"] == "S0APPROVER"


async def test_reject_with_reason(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.REJECT, request, user=APPROVER)
    [opened] = await bot.slack.wait_for_calls("views.open")
    assert request.id in str(opened.body["view"])

    response = await bot.submit_reject(
        request, user=APPROVER, reason="customer <!channel> changed mind"
    )
    assert response.status_code == 200
    assert response.text == ""  # modal closes

    rejected = await bot.wait_status(request.id, "rejected")
    assert rejected.decided_by == APPROVER
    assert rejected.decision_note == "customer <!channel> changed mind"
    # The reply and the redraw are separate deliveries (lanes), in no set order: wait for all.
    await bot.wait_delivered(request.id)
    [reply] = bot.slack.thread_replies(request.message_ts)
    text = str(reply.body["text"])
    assert f"<@{REQUESTER}>" in text and f"<@{APPROVER}>" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    [update] = bot.slack.updates(request.message_ts)
    assert "Rejected by" in str(update.body["blocks"])
    assert ActionId.APPROVE.value not in str(update.body["blocks"])
    assert bot.soget.deletes() == []

    # A late approval after the rejection changes nothing.
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    assert "already rejected" in str(bot.slack.ephemerals(APPROVER)[0].body["text"])
    assert bot.soget.deletes() == []


async def test_reject_submission_after_approval_shows_an_error_in_the_modal(
    bot: BotUnderTest,
) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "succeeded")

    response = await bot.submit_reject(request, user="U0APPROVE2", reason=None)

    assert response.status_code == 200
    assert response.json()["response_action"] == "errors"
    assert (await bot.request(request.id)).status.value == "succeeded"
