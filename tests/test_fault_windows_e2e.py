"""The windows between an external effect and its record, opened wide by a hostile operator:
what another task or instance does meanwhile must not resend, double or lose anything."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.requests import CancelRequest
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, BotFactory, BotUnderTest
from tests.fakes.soget_api import Fault

ORDER = "CDE0000000071"
NO_ANSWER = Fault(status=500)  # the DELETE may have reached MouvONE: outcome unknown
UNAVAILABLE = (Fault(status=429),) * 3  # MouvONE surely did not act: approved, Retry offered


@pytest.mark.parametrize("faults", [(NO_ANSWER,), UNAVAILABLE], ids=["unknown", "unavailable"])
async def test_an_approval_run_that_comes_late_never_sends_again(
    bot_with: BotFactory, faults: tuple[Fault, ...]
) -> None:
    """A sweep (of this instance or another) reads the approved requests, then runs each: its
    run may start after the approval's own run already got MouvONE's answer. Found with a
    0.2 s delay before the approval's launch: the late run took the UNKNOWN request for a
    Retry, read the order and sent a second DELETE nobody asked for."""
    bot = await bot_with(settle_after_seconds=60)  # no read-back within the test
    bot.soget.add(ORDER)
    bot.soget.script(*faults)
    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    current = await _awaiting_retry(bot, request.id)
    reads, deletes = len(bot.soget.gets(ORDER)), len(bot.soget.deletes(ORDER))

    late = bot.runtime.deps.runner.launch(request.id)  # the run decided before the answer
    assert late is not None
    await late

    assert len(bot.soget.deletes(ORDER)) == deletes  # nothing sent again
    assert len(bot.soget.gets(ORDER)) == reads
    assert (await bot.request(request.id)).status is current.status
    # An approver's Retry still sends (after a read, for an unknown outcome).
    await bot.click(ActionId.RETRY, current, user=APPROVER)
    await bot.wait_status(request.id, "succeeded")
    assert len(bot.soget.deletes(ORDER)) == deletes + 1


async def _awaiting_retry(bot: BotUnderTest, request_id: str) -> CancelRequest:
    for _ in range(500):
        current = await bot.request(request_id)
        if current.awaits_retry:
            return current
        await asyncio.sleep(0.01)
    raise AssertionError("the request never came to wait for a Retry")
