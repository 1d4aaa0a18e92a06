"""The App Home tab over signed Events API requests: published on open, kept up to date."""

from __future__ import annotations

from bot.slack.ids import ActionId
from tests.conftest import APPROVER, GROUP_MEMBER, OUTSIDER, REQUESTER, BotUnderTest
from tests.ops_helpers import open_home, shown

ORDER = "CDE0000000031"


async def _home_of(bot: BotUnderTest, user: str, count: int = 1) -> str:
    await bot.slack.wait_until(lambda: len(bot.slack.homes(user)) >= count, what=f"home {count}")
    return shown(bot.slack.homes(user)[-1].body)


async def test_approver_sees_what_waits_for_them(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    await bot.request_posted_for(ORDER)

    response = await open_home(bot, APPROVER)

    assert response.status_code == 200
    home = await _home_of(bot, APPROVER)
    assert '"type": "home"' in home
    assert "Waiting for your approval (1)" in home
    assert ORDER in home and f"<@{REQUESTER}>" in home and "customer asked" in home


async def test_member_of_an_approver_group_is_an_approver_too(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    await bot.request_posted_for(ORDER)

    await open_home(bot, GROUP_MEMBER)

    assert "Waiting for your approval (1)" in await _home_of(bot, GROUP_MEMBER)


async def test_requester_sees_their_requests_and_no_approval_queue(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    bot.soget.add("CDE0000000032")
    await bot.request_posted_for(ORDER)

    await open_home(bot, OUTSIDER)
    outsider_home = await _home_of(bot, OUTSIDER)
    await bot.command("CDE0000000032 second", user=OUTSIDER)
    await bot.slack.wait_until(lambda: len(bot.slack.channel_posts()) == 2, what="second post")

    assert "Waiting for your approval" not in outsider_home
    assert "You have not asked to cancel any order yet" in outsider_home
    updated = await _home_of(bot, OUTSIDER, count=2)  # their own request changed their home
    assert "CDE0000000032" in updated and "waiting for approval" in updated
    assert ORDER not in updated  # someone else's request


async def test_homes_follow_the_request_until_its_outcome(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    await open_home(bot, APPROVER)
    await open_home(bot, REQUESTER)
    await _home_of(bot, APPROVER)
    await _home_of(bot, REQUESTER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.runtime.ops.drain()

    approver_home = shown(bot.slack.homes(APPROVER)[-1].body)
    requester_home = shown(bot.slack.homes(REQUESTER)[-1].body)
    assert "Waiting for your approval (0)" in approver_home
    assert "cancelled in MouvONE" in requester_home
    assert bot.slack.homes(OUTSIDER) == []  # never opened it: not worth publishing


async def test_the_messages_tab_publishes_nothing(bot: BotUnderTest) -> None:
    response = await open_home(bot, APPROVER, tab="messages")
    await open_home(bot, APPROVER)  # handled after the first: its publish comes after
    await _home_of(bot, APPROVER)
    await open_home(bot, OUTSIDER)
    await _home_of(bot, OUTSIDER)

    assert response.status_code == 200
    assert len(bot.slack.homes(APPROVER)) == 1
