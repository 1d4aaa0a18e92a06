"""A bulk request's cancels survive a SIGKILL mid-way: each order settled once after restart."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest

from bot.domain.requests import OrderState, RequestStatus
from bot.slack.ids import ActionId
from bot.storage.store import Store
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ports import free_port
from tests.test_process_e2e import _approve_value, bot_env, running_bot

ORDERS = ("CDE0000000021", "CDE0000000022", "CDE0000000023")


async def _post(http: httpx.AsyncClient, port: str, body: str) -> None:
    response = await http.post(
        f"http://127.0.0.1:{port}/slack/events",
        content=body,
        headers=payloads.signed_headers(body, SIGNING_SECRET),
    )
    assert response.status_code == 200


async def _wait_all_delivered(database: Path, request_id: str) -> None:
    store = await Store.open(database)
    try:
        for _ in range(1000):
            if await store.undelivered_count(request_id) == 0:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the summary reply was never marked sent")
    finally:
        await store.close()


@pytest.mark.parametrize("applied_before_crash", [True, False])
async def test_sigkill_in_the_middle_of_a_bulk_settles_each_order_once(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, applied_before_crash: bool
) -> None:
    for order in ORDERS:
        fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port()) | {"BULK_CONCURRENCY": "1"}
    async with running_bot(env, tmp_path) as process:
        async with httpx.AsyncClient() as http:
            command = payloads.slash_command(
                " ".join(ORDERS) + " vessel cancelled",
                user=REQUESTER,
                response_url=fake_slack.response_url,
            )
            await _post(http, env["PORT"], command)
            [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
            request_id, _ = _approve_value(post.body)
            # The first order is answered; the second DELETE reaches MouvONE (which may apply
            # it) and its answer never comes back; the third is never sent before the kill.
            fake_soget.script(
                Fault(then_apply=True), Fault(delay=30, then_apply=applied_before_crash)
            )
            click = payloads.block_action(
                ActionId.APPROVE,
                user=APPROVER,
                request_id=request_id,
                message_ts="1700000000.000001",
                response_url=fake_slack.response_url,
            )
            await _post(http, env["PORT"], click)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes()) == 2, what="2 DELETEs")
        # The summary reply shows the first answer before the kill, and the bot has marked it
        # sent: a kill between Slack's answer and that mark is the at-least-once point (the
        # lane then waits for the claim to run out), not what this test is about.
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=10)
        await _wait_all_delivered(tmp_path / "data" / "bot.sqlite3", request_id)
        process.kill()  # SIGKILL: no cleanup, no goodbye
        await process.wait()
    assert len(fake_soget.deletes(ORDERS[2])) == 0

    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as restarted:
        store = await Store.open(tmp_path / "data" / "bot.sqlite3")
        try:
            for _ in range(1500):
                request = await store.get(request_id)
                assert request is not None
                if request.outcome_posted_at is not None and request.status in (
                    RequestStatus.SUCCEEDED,
                    RequestStatus.UNKNOWN,
                ):
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the bulk request's outcome was never posted")
            for _ in range(300):
                if await store.undelivered_count(request_id) == 0:
                    break
                await asyncio.sleep(0.01)
            summary_ts = await store.summary_ts(request_id)
        finally:
            await store.close()
        await asyncio.sleep(0.5)  # room for a wrong second DELETE or reply to show up
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.wait(), timeout=20)

    # Each order: one DELETE. The interrupted one was read back after its DELETE, not resent;
    # the one never sent was sent after the restart.
    for order in ORDERS:
        assert len(fake_soget.deletes(order)) == 1, order
    assert fake_soget.gets(ORDERS[1])[-1].at > fake_soget.deletes(ORDERS[1])[0].at
    states = [o.state for o in request.orders]
    second = OrderState.SUCCEEDED if applied_before_crash else OrderState.UNKNOWN
    assert states == [OrderState.SUCCEEDED, second, OrderState.SUCCEEDED]
    # One summary reply, edited in place to the complete result.
    assert len(fake_slack.thread_replies()) == 1
    final = json.dumps(fake_slack.updates(summary_ts)[-1].body)
    assert "Done:" in final
    if applied_before_crash:
        assert request.status is RequestStatus.SUCCEEDED
        assert "3 cancelled" in final
    else:
        assert request.status is RequestStatus.UNKNOWN  # Retry is offered to an approver
        assert "2 cancelled, 1 unknown" in final
        assert fake_soget.orders[ORDERS[1]].status == "Valid"
