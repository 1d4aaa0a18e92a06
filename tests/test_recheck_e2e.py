"""The order is read again at the approval that would send the cancel."""

from __future__ import annotations

from bot.slack.ids import ActionId
from tests import payloads
from tests.conftest import APPROVER, APPROVER_2, BotUnderTest
from tests.fakes.soget_api import Fault

ORDER = "CDE0000000097"


async def test_an_order_that_changed_asks_the_approver_to_send_anyway(bot: BotUnderTest) -> None:
    order = bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    order.status = "Submitted"  # someone submitted it since the request was posted

    await bot.click(ActionId.APPROVE, request, user=APPROVER)

    await bot.slack.wait_until(lambda: bool(bot.slack.ephemerals(APPROVER)))
    warning = bot.slack.ephemerals(APPROVER)[0].body
    assert "Submitted" in str(warning["text"]) and "R0008" in str(warning["text"])
    assert ActionId.SEND_ANYWAY.value in str(warning["blocks"])
    assert (await bot.request(request.id)).status.value == "pending"
    assert bot.soget.deletes() == []

    body = payloads.block_action(
        ActionId.SEND_ANYWAY,
        user=APPROVER,
        request_id=request.id,
        message_ts="1700000001.999999",  # the private message's own ts
        response_url=bot.slack.response_url,
    )
    await bot.post_signed(body)

    done = await bot.wait_posted(request.id)
    assert done.status.value == "failed" and done.outcome_code == "R0008"
    assert done.decided_by == APPROVER
    assert len(bot.soget.deletes(ORDER)) == 1


async def test_a_failed_re_read_approves_as_before(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)
    bot.soget.script(Fault(status=503, method="GET"))

    await bot.click(ActionId.APPROVE, request, user=APPROVER_2)

    done = await bot.wait_posted(request.id)
    assert done.status.value == "succeeded"
    assert len(bot.soget.gets(ORDER)) == 2  # the preview and the re-read
    assert bot.slack.ephemerals(APPROVER_2) == []
