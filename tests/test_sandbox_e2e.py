"""`--sandbox`: the whole flow against the built-in SOGET stand-in, every message marked."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.domain.requests import CancelRequest
from bot.slack.ids import ActionId
from bot.slack.messages.dm import SANDBOX_MARKER
from bot.soget.client import SogetClient
from bot.soget.errors import SogetApiError
from bot.soget.sandbox import SANDBOX_ORDERS, SogetStandIn
from bot.soget.tokens import StaticToken
from tests import payloads
from tests.conftest import (
    APPROVER,
    OUTSIDER,
    REQUESTER,
    SIGNING_SECRET,
    BotFactory,
    BotUnderTest,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget
from tests.ops_helpers import open_home, shown
from tests.ports import free_port
from tests.test_process_e2e import bot_env, running_bot

MARKED_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "views.open")


@pytest.fixture
async def sandbox_bot(bot_with: BotFactory) -> BotUnderTest:
    return await bot_with(
        sandbox=True,
        soget_api_url="https://unreachable.example.invalid/customer-orders/v1",
        soget_access_token=None,
        soget_api_key=None,
    )


async def test_the_whole_flow_runs_against_the_stand_in_and_says_so(
    sandbox_bot: BotUnderTest,
) -> None:
    bot = sandbox_bot
    bot.slack.not_in_channels.add("C0NOTMEMBR")

    cancelled = await bot.request_posted_for("CDE0000000001")
    refused = await bot.request_posted_for("CDE0000000003")
    await bot.click(ActionId.APPROVE, cancelled, user=APPROVER)
    await bot.click(ActionId.APPROVE, refused, user=APPROVER)
    await bot.click(ActionId.APPROVE, refused, user=OUTSIDER)  # a private refusal
    rejected = await bot.request_posted_for("CDE0000000002")
    await bot.click(ActionId.REJECT, rejected, user=APPROVER)  # opens the modal
    await bot.submit_reject(rejected, user=APPROVER, reason="only trying")
    help_reply = (await bot.command("help")).json()
    status_reply = (await bot.command("status CDE0000000001")).json()
    await bot.command("CDE0000000001 elsewhere", channel="C0NOTMEMBR")  # answered by respond()
    await open_home(bot, APPROVER)

    assert (await bot.wait_posted(cancelled.id)).status.value == "succeeded"
    done = await bot.wait_posted(refused.id)
    assert (done.status.value, done.outcome_code) == ("failed", "R0008")
    await bot.wait_status(rejected.id, "rejected")
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="respond()")
    await bot.slack.wait_until(lambda: bool(bot.slack.homes(APPROVER)), what="home")
    await bot.slack.wait_until(lambda: len(bot.slack.dms(REQUESTER)) >= 5, what="DMs")
    await bot.runtime.ops.drain()

    assert bot.soget.requests == []  # the test's fake SOGET was never called
    for method in MARKED_METHODS:
        calls = bot.slack.calls(method)
        assert calls, method
        for call in calls:
            assert SANDBOX_MARKER in shown(call.body), (method, call.body)
            assert str(call.body.get("text", "")).startswith(f"[{SANDBOX_MARKER}]") or (
                method == "views.open"
            )
    for home in bot.slack.homes():
        assert SANDBOX_MARKER in shown(home.body)
    for webhook in bot.slack.webhooks():
        assert SANDBOX_MARKER in shown(webhook.body)
    for reply in (help_reply, status_reply):
        assert SANDBOX_MARKER in shown(reply)
    health = (await bot.http.get(bot.url + "/healthz")).json()
    assert health["sandbox"] is True


async def test_the_stand_in_serves_the_documented_examples() -> None:
    stand_in = SogetStandIn.seeded()
    await stand_in.start()
    client = SogetClient.create(
        stand_in.api_url,
        tokens=StaticToken(SecretStr(stand_in.access_token)),
        api_key=SecretStr(stand_in.api_key),
        connect_timeout=2,
        timeout=2,
    )
    try:
        for example in SANDBOX_ORDERS:
            order = await client.get_order(example.order_id)
            assert order.customer_order_id == example.order_id
        with pytest.raises(SogetApiError) as raised:
            await client.cancel_order("CDE0000000099")
        assert raised.value.code == "CUSTOMER_ORDER_NOT_FOUND"
    finally:
        await client.aclose()
        await stand_in.stop()


async def test_the_console_script_runs_the_sandbox_without_soget_credentials(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(fake_slack, fake_soget, tmp_path, port)
    for name in ("SOGET_API_URL", "SOGET_ACCESS_TOKEN", "SOGET_API_KEY"):
        env.pop(name)
    async with running_bot(env, tmp_path, "--sandbox") as process:
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
            body = payloads.slash_command(
                "CDE0000000001 trying the bot", user=REQUESTER, response_url=fake_slack.response_url
            )
            response = await http.post(
                f"http://127.0.0.1:{port}/slack/events",
                content=body,
                headers=payloads.signed_headers(body, SIGNING_SECRET),
            )
        assert response.status_code == 200
        [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)

    assert health["sandbox"] is True and health["ok"] is True
    assert SANDBOX_MARKER in shown(post.body)
    assert process.returncode == 0
    log = output.decode()
    assert "SANDBOX mode" in log and "CDE0000000001" in log
    assert fake_soget.requests == []


async def test_a_bulk_request_runs_against_the_stand_in_as_the_readme_says(
    sandbox_bot: BotUnderTest,
) -> None:
    bot = sandbox_bot
    await bot.command("CDE0000000001 CDE0000000003 CDE0000000002 trying bulk")
    history: list[CancelRequest] = []
    for _ in range(500):
        history = await bot.runtime.store.history_of_order("CDE0000000001")
        if history and history[0].message_ts:
            break
        await asyncio.sleep(0.01)
    [request] = history
    assert request.is_bulk
    assert "R0008" in str(bot.slack.channel_posts()[0].body)  # the warning on CDE0000000003

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_status(request.id, "succeeded")
    await bot.wait_delivered(request.id)

    summary_ts = await bot.runtime.store.summary_ts(request.id)
    final = str(bot.slack.updates(summary_ts)[-1].body)
    assert "2 cancelled, 1 refused: R0008" in final and SANDBOX_MARKER in final
