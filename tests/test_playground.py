"""The playground without a browser: the page's calls become the signed requests Slack sends,
the bot's answers land where Slack shows them (modals, ephemeral replies per user, direct
messages, the Home tab), and `--playground` needs no configuration at all."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.playground.page import (
    APPROVER,
    APPROVER_2,
    CHANNEL_ID,
    OUTSIDER,
    REQUESTER,
    Playground,
    PlayUser,
)
from bot.playground.run import running_playground
from bot.slack.ids import ActionId, BlockId, CallbackId, InputActionId
from tests.fakes.server import wait_until
from tests.ports import free_port
from tests.test_process_e2e import _clean_env


@pytest.fixture
async def playground() -> AsyncIterator[tuple[Playground, httpx.AsyncClient]]:
    async with running_playground() as slack, httpx.AsyncClient(base_url=slack.url) as http:
        yield slack, http


async def state(http: httpx.AsyncClient, user: PlayUser) -> dict[str, Any]:
    answer: dict[str, Any] = (await http.get("/play/state", params={"user": user.id})).json()
    return answer


async def command(http: httpx.AsyncClient, user: PlayUser, text: str) -> dict[str, Any]:
    response = await http.post("/play/command", json={"user": user.id, "text": text})
    answer: dict[str, Any] = response.json()
    return answer


async def click(
    http: httpx.AsyncClient, user: PlayUser, ts: str, action: ActionId
) -> dict[str, Any]:
    body = {
        "user": user.id,
        "channel": CHANNEL_ID,
        "ts": ts,
        "action": {"block_id": BlockId.DECISION.value, "action_id": action.value},
    }
    answer: dict[str, Any] = (await http.post("/play/action", json=body)).json()
    return answer


async def posted_request(slack: Playground, http: httpx.AsyncClient, order: str) -> str:
    assert (await command(http, REQUESTER, f"/cancel-order {order} customer asked"))["ok"]
    await wait_until(lambda: _request_ts(slack) is not None, what="the approval request")
    ts = _request_ts(slack)
    assert ts is not None
    return ts


def _request_ts(slack: Playground) -> str | None:
    for message in slack.messages:
        if message.channel == CHANNEL_ID and not message.thread_ts and not message.ephemeral_for:
            return message.ts
    return None


async def test_ephemeral_replies_and_direct_messages_reach_only_their_user(
    playground: tuple[Playground, httpx.AsyncClient],
) -> None:
    slack, http = playground
    ts = await posted_request(slack, http, "CDE0000000002")
    assert (await click(http, OUTSIDER, ts, ActionId.APPROVE))["ok"]
    await wait_until(lambda: any(m.ephemeral_for for m in slack.messages), what="the refusal")
    assert (await click(http, APPROVER, ts, ActionId.APPROVE))["ok"]
    await wait_until(lambda: any(m.channel == REQUESTER.id for m in slack.messages), what="the DM")

    outsider, requester, approver_2 = [
        await state(http, u) for u in (OUTSIDER, REQUESTER, APPROVER_2)
    ]
    assert [m["text"] for m in outsider["messages"] if m["ephemeral"]] != []
    assert not [m for m in requester["messages"] if m["ephemeral"]]
    assert not [m for m in approver_2["messages"] if m["ephemeral"]]
    # The requester's direct message (approved, then cancelled) is theirs alone.
    assert [m for m in requester["messages"] if m["channel"] == REQUESTER.id]
    assert not [m for m in outsider["messages"] if m["channel"] == REQUESTER.id]


async def test_the_reject_modal_and_its_errors(
    playground: tuple[Playground, httpx.AsyncClient],
) -> None:
    slack, http = playground
    ts = await posted_request(slack, http, "CDE0000000003")
    assert (await click(http, APPROVER_2, ts, ActionId.REJECT))["ok"]
    await wait_until(lambda: bool(slack.modals.get(APPROVER_2.id)), what="the reject modal")
    modal = (await state(http, APPROVER_2))["modal"]
    assert modal["callback_id"] == CallbackId.REJECT_MODAL.value
    assert (await state(http, APPROVER))["modal"] is None  # only the clicker sees it

    values = {
        BlockId.REJECT_REASON.value: {
            InputActionId.REJECT_REASON.value: {"type": "plain_text_input", "value": "no\u200bpe"}
        }
    }
    submit = {"user": APPROVER_2.id, "view_id": modal["id"], "values": values}
    refused = (await http.post("/play/submit", json=submit)).json()
    assert BlockId.REJECT_REASON.value in refused["errors"]  # hidden characters: the bot's check
    assert (await state(http, APPROVER_2))["modal"] is not None  # still open, as in Slack

    values[BlockId.REJECT_REASON.value][InputActionId.REJECT_REASON.value]["value"] = "duplicate"
    assert (await http.post("/play/submit", json=submit)).json() == {"ok": True}
    assert (await state(http, APPROVER_2))["modal"] is None
    await wait_until(
        lambda: any(m.thread_ts == ts and "duplicate" in str(m.blocks) for m in slack.messages),
        what="the rejection in the thread",
    )


async def test_the_request_form_opens_for_its_user_and_posts_the_request(
    playground: tuple[Playground, httpx.AsyncClient],
) -> None:
    slack, http = playground
    assert (await command(http, REQUESTER, "/cancel-order"))["ok"]
    modal = (await state(http, REQUESTER))["modal"]
    assert modal["callback_id"] == CallbackId.REQUEST_MODAL.value
    kinds = {block["element"]["type"] for block in modal["blocks"] if block["type"] == "input"}
    assert "static_select" in kinds and "plain_text_input" in kinds
    category = next(
        b["element"] for b in modal["blocks"] if b["block_id"] == BlockId.REQUEST_CATEGORY.value
    )
    values = {
        BlockId.REQUEST_ORDER.value: {
            InputActionId.REQUEST_ORDER.value: {
                "type": "plain_text_input",
                "value": "CDE0000000004",
            }
        },
        BlockId.REQUEST_CATEGORY.value: {
            InputActionId.REQUEST_CATEGORY.value: {
                "type": "static_select",
                "selected_option": category["options"][0],
            }
        },
        BlockId.REQUEST_REASON.value: {
            InputActionId.REQUEST_REASON.value: {"type": "plain_text_input", "value": None}
        },
    }
    submit = {"user": REQUESTER.id, "view_id": modal["id"], "values": values}
    assert (await http.post("/play/submit", json=submit)).json() == {"ok": True}
    await wait_until(lambda: _request_ts(slack) is not None, what="the request from the form")


async def test_the_home_tab_is_published_when_opened(
    playground: tuple[Playground, httpx.AsyncClient],
) -> None:
    slack, http = playground
    await posted_request(slack, http, "CDE0000000001")
    assert (await http.post("/play/home", json={"user": APPROVER.id})).json() == {"ok": True}
    await wait_until(lambda: APPROVER.id in slack.home_views, what="the Home tab")
    home = (await state(http, APPROVER))["home"]
    assert "CDE0000000001" in str(home["blocks"])
    assert (await state(http, OUTSIDER))["home"] is None


async def test_requests_signed_with_another_secret_are_refused_and_change_nothing() -> None:
    async with running_playground() as slack, httpx.AsyncClient(base_url=slack.url) as http:
        good = slack.signer
        slack.signer = type(good)("not-the-bots-signing-secret")
        answer = await command(http, REQUESTER, "/cancel-order CDE0000000001 customer asked")
        slack.signer = good
        assert answer["ok"] is False and "dispatch_failed" in answer["error"]
        assert "HTTP 401" in answer["error"]
        await asyncio.sleep(0.3)  # room for a wrong post to show up
        assert slack.messages == []
        assert slack.bot_url is not None  # the bot was there, and refused it


async def test_playground_starts_without_any_configuration_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    # A .env full of .env.example placeholders (which the bot refuses) is not read.
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-...\nCANCEL_APPROVERS=U0123ABCD\n")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--playground", "--playground-port", str(port),
        cwd=tmp_path, env=_clean_env(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for _ in range(300):
                try:
                    page = await http.get("/")
                    break
                except httpx.TransportError:
                    assert process.returncode is None, "the playground exited at start"
                    await asyncio.sleep(0.05)
            assert page.status_code == 200 and "playground.js" in page.text
            script = await http.get("/playground.js")
            assert script.status_code == 200 and "renderBlocks" in script.text
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = output.decode()
    assert process.returncode == 0, log
    assert f"Playground: open http://127.0.0.1:{port}/" in log
    assert "Traceback" not in log
    assert not (tmp_path / "data").exists()  # its database is a temporary one
