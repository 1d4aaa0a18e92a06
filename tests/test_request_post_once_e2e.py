"""The approval request is posted once, even when Slack takes the post and its answer is lost
(a 5xx, a dropped connection): the bot looks for the request's metadata in the channel before
it posts again. Two messages for one request would leave an orphan with live buttons."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.domain.requests import RequestStatus
from bot.slack.ids import ActionId
from bot.slack.publisher import REQUEST_EVENT
from tests.conftest import APPROVER, BotUnderTest
from tests.fakes.slack_api import ScriptedFailure

ORDER = "CDE0000000091"
TOOK_IT_BUT = {
    "500": ScriptedFailure(500, {"ok": False, "error": "fatal_error"}, after_applying=True),
    "dropped": ScriptedFailure(0, reset=True, after_applying=True),
}


async def _posted(bot: BotUnderTest) -> str:
    assert (await bot.command(f"{ORDER} customer asked")).status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()), what="the request")
    for _ in range(1000):  # 10 s: the post's look-up and retry run after the ack
        found = await bot.runtime.store.history_of_order(ORDER)
        if found and (found[0].message_ts or found[0].status is not RequestStatus.PENDING):
            return found[0].id
        await asyncio.sleep(0.01)
    raise AssertionError("the request was never posted nor withdrawn")


@pytest.mark.parametrize("failure", TOOK_IT_BUT, ids=list(TOOK_IT_BUT))
async def test_a_request_slack_took_without_answering_is_posted_once_and_works(
    bot: BotUnderTest, failure: str
) -> None:
    bot.soget.add(ORDER)
    bot.slack.fail_next("chat.postMessage", TOOK_IT_BUT[failure])

    request_id = await _posted(bot)
    request = await bot.wait_request_posted(request_id)

    [post] = [m for m in bot.slack.messages if m.thread_ts is None]
    assert request.message_ts == post.ts and request.status is RequestStatus.PENDING
    assert bot.slack.calls("conversations.history")  # looked for before posting again
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request_id)
    assert len(bot.soget.deletes(ORDER)) == 1
    assert len(bot.slack.thread_replies(post.ts)) == 1
    assert len(bot.slack.channel_posts()) == 1  # the call Slack took; no second one


async def test_a_post_slack_did_not_take_is_posted_after_the_look_up(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    bot.slack.fail_next("chat.postMessage", ScriptedFailure(500, {"ok": False, "error": "x"}))

    request = await bot.wait_request_posted(await _posted(bot))

    [post] = [m for m in bot.slack.messages if m.thread_ts is None]
    assert request.message_ts == post.ts
    assert post.metadata is not None and post.metadata["event_type"] == REQUEST_EVENT


async def test_a_first_post_makes_no_look_up(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)

    await bot.wait_request_posted(await _posted(bot))

    assert bot.slack.calls("conversations.history") == []


async def test_without_channels_history_a_post_slack_took_may_show_twice(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    """The documented fallback: the look-up is refused, so the request is posted again (two
    messages; the first one's clicks are refused) and the log says why."""
    caplog.set_level(logging.WARNING)
    bot.soget.add(ORDER)
    bot.slack.without_scopes("channels:history")
    bot.slack.fail_next("chat.postMessage", TOOK_IT_BUT["500"])

    request = await bot.wait_request_posted(await _posted(bot))

    posts = [m for m in bot.slack.messages if m.thread_ts is None]
    assert len(posts) == 2 and request.message_ts == posts[-1].ts
    assert any("missing_scope" in r.getMessage() for r in caplog.records)
