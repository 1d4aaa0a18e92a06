"""The real console entry point in its own process: configuration errors, HTTP mode, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bot.domain.requests import MessageKind, RequestStatus
from bot.slack.ids import ActionId
from bot.storage.store import Store
from tests import payloads
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    REQUESTER,
    SIGNING_SECRET,
    SOGET_KEY,
    SOGET_TOKEN,
)
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ports import free_port


def _clean_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep}


async def test_missing_configuration_exits_2_naming_each_variable(tmp_path: Path) -> None:
    env = _clean_env() | {"SOGET_API_KEY": "super-secret-key-value", "PORT": "not-a-port"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http",
        cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2
    text = err.decode()
    for name in ("SLACK_BOT_TOKEN", "SOGET_ACCESS_TOKEN", "CANCEL_APPROVERS", "PORT"):
        assert name in text
    assert "super-secret-key-value" not in text
    assert "Traceback" not in text
    assert len(text.splitlines()) < 25  # one screen


def bot_env(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, port: int
) -> dict[str, str]:
    return _clean_env() | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "SOGET_API_URL": fake_soget.api_url,
        "SOGET_ACCESS_TOKEN": SOGET_TOKEN,
        "SOGET_API_KEY": SOGET_KEY,
        "CANCEL_APPROVERS": APPROVER,
        "SOGET_TIMEOUT_SECONDS": "60",
        "LEASE_SECONDS": "2",
        "SETTLE_AFTER_SECONDS": "1",
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        "PORT": str(port),
        "HOST": "127.0.0.1",
    }


@asynccontextmanager
async def running_bot(
    env: Mapping[str, str], cwd: Path, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http", *args, cwd=cwd, env=dict(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                try:
                    if (await http.get(f"http://127.0.0.1:{env['PORT']}/healthz")).is_success:
                        break
                except httpx.TransportError:
                    pass
                if process.returncode is not None:
                    assert process.stdout is not None
                    said = (await process.stdout.read()).decode(errors="replace")[-2000:]
                    raise AssertionError(f"the bot exited at start:\n{said}")
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the bot did not start listening")
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_http_mode_serves_a_signed_command_and_stops_cleanly(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    port = free_port()
    env = bot_env(fake_slack, fake_soget, tmp_path, port)
    fake_soget.add("CDE0000000005")
    async with running_bot(env, tmp_path) as process:
        body = payloads.slash_command(
            "CDE0000000005 wrong data", user=REQUESTER, response_url=fake_slack.response_url
        )
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"http://127.0.0.1:{port}/slack/events",
                content=body,
                headers=payloads.signed_headers(body, SIGNING_SECRET),
            )
        assert response.status_code == 200
        [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
        assert "CDE0000000005" in str(post.body["blocks"])

        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)

    assert process.returncode == 0
    log = output.decode()
    for secret in (BOT_TOKEN, SIGNING_SECRET, SOGET_TOKEN, SOGET_KEY):
        assert secret not in log
    assert (tmp_path / "data" / "bot.sqlite3").exists()


def _approve_value(post_body: dict[str, object]) -> tuple[str, str]:
    """(request id, message ts) from the posted approval request, as Slack would show it."""
    blocks = post_body["blocks"]
    assert isinstance(blocks, list)
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == ActionId.APPROVE.value:
                return str(element["value"]), ""
    raise AssertionError("no Approve button in the request message")


@pytest.mark.parametrize("applied_before_crash", [True, False])
async def test_crash_between_approval_and_answer_loses_nothing(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, applied_before_crash: bool
) -> None:
    order = "CDE0000000007"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    async with running_bot(env, tmp_path) as process:
        body = payloads.slash_command(
            f"{order} duplicate", user=REQUESTER, response_url=fake_slack.response_url
        )
        async with httpx.AsyncClient() as http:
            await http.post(
                f"http://127.0.0.1:{env['PORT']}/slack/events",
                content=body,
                headers=payloads.signed_headers(body, SIGNING_SECRET),
            )
            [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
            request_id, _ = _approve_value(post.body)
            # MouvONE takes the DELETE (and maybe applies it) but the answer never comes back.
            fake_soget.script(Fault(delay=30, then_apply=applied_before_crash))
            click = payloads.block_action(
                ActionId.APPROVE,
                user=APPROVER,
                request_id=request_id,
                message_ts="1700000000.000001",
                response_url=fake_slack.response_url,
            )
            await http.post(
                f"http://127.0.0.1:{env['PORT']}/slack/events",
                content=click,
                headers=payloads.signed_headers(click, SIGNING_SECRET),
            )
        await fake_soget.wait_until(lambda: len(fake_soget.deletes()) == 1, what="the DELETE")
        process.kill()  # SIGKILL: no cleanup, no goodbye
        await process.wait()
    assert fake_slack.thread_replies() == []

    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as restarted:
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=15)
        await asyncio.sleep(0.5)  # room for a wrong second reply or DELETE to show up
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.wait(), timeout=20)

    [reply] = fake_slack.thread_replies()
    # The first DELETE may still be running at MouvONE: never resent before a read-back, and
    # the read-back does not resend either. What it found is said in the thread.
    assert len(fake_soget.deletes(order)) == 1
    gets = fake_soget.gets(order)
    assert gets[-1].at > fake_soget.deletes(order)[0].at
    store = await Store.open(tmp_path / "data" / "bot.sqlite3")
    try:
        [request] = await store.history_of_order(order)
        events = [e.kind for e in await store.events_of(request.id)]
        assert "cancel_interrupted" in events
        # Only what the killed process was sending at the kill (a redraw, a direct message)
        # may wait: its claim runs out, then it goes out (the README's at-least-once point).
        # A later message of its lane waits behind it (lanes keep order), no longer.
        undelivered = [
            tuple(row)
            for row in await store._db.execute_fetchall(
                "SELECT kind, claimed_by, recipient FROM outbox WHERE delivered_at IS NULL"
                " ORDER BY id"
            )
        ]
        held: set[tuple[str, object]] = set()
        for kind, owner, recipient in undelivered:
            lane = (MessageKind(kind).lane, recipient)
            assert kind != "outcome" and (owner or lane in held), undelivered
            if owner:
                held.add(lane)
        if applied_before_crash:
            assert "is cancelled in MouvONE" in str(reply.body["text"])
            assert request.status is RequestStatus.SUCCEEDED
            assert request.outcome_posted_at is not None
        else:
            assert "status is Valid" in str(reply.body["text"])
            assert request.status is RequestStatus.UNKNOWN  # Retry is offered to an approver
            assert fake_soget.orders[order].status == "Valid"
    finally:
        await store.close()


async def test_a_click_cut_off_by_a_crash_is_reported_to_the_clicker(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """SIGKILL after an Approve was acknowledged and before it was acted on: the click was
    stored before the ack, so after the restart the approver is told it was not taken."""
    order = "CDE0000000009"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    async with running_bot(env, tmp_path) as process:
        body = payloads.slash_command(
            f"{order} duplicate", user=REQUESTER, response_url=fake_slack.response_url
        )
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{env['PORT']}/slack/events"
            await http.post(
                url, content=body, headers=payloads.signed_headers(body, SIGNING_SECRET)
            )
            [post] = await fake_slack.wait_for_calls("chat.postMessage", timeout=10)
            request_id, _ = _approve_value(post.body)
            reads_before = len(fake_soget.gets(order))
            # The re-read of the order at approval hangs: the click is acknowledged, not acted on.
            fake_soget.script(Fault(method="GET", hold=asyncio.Event()))
            click = payloads.block_action(
                ActionId.APPROVE,
                user=APPROVER,
                request_id=request_id,
                message_ts=str(post.body.get("ts") or "1700000000.000001"),
                response_url=fake_slack.response_url,
            )
            acked = await http.post(
                url, content=click, headers=payloads.signed_headers(click, SIGNING_SECRET)
            )
            assert acked.status_code == 200
        await fake_soget.wait_until(
            lambda: len(fake_soget.gets(order)) > reads_before, what="the re-read"
        )
        process.kill()
        await process.wait()

    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as restarted:
        await fake_slack.wait_until(
            lambda: any("not taken" in str(dm.body) for dm in fake_slack.dms(APPROVER)),
            timeout=15,
            what="the not-taken notice",
        )
        restarted.send_signal(signal.SIGTERM)
        await asyncio.wait_for(restarted.wait(), timeout=20)

    assert fake_soget.deletes(order) == []
    store = await Store.open(tmp_path / "data" / "bot.sqlite3")
    try:
        request = await store.get(request_id)
        assert request is not None and request.status is RequestStatus.PENDING
        assert "click_lost" in [e.kind for e in await store.events_of(request_id)]
    finally:
        await store.close()


@pytest.mark.parametrize("mode", ["http", "socket"])
async def test_a_rejected_bot_token_stops_the_start_with_one_line(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, mode: str
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SLACK_BOT_TOKEN"] = "xoxb-not-the-workspace-token-0000"
    args = ["--http"] if mode == "http" else []
    if mode == "socket":
        env["SLACK_APP_TOKEN"] = "xapp-1-A0APP0001-0000-socket-mode-token"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)

    assert process.returncode == 2
    text = (out + err).decode()
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in text
    assert "Traceback" not in text
    assert "xoxb-not-the-workspace-token-0000" not in text
    assert [c.path for c in fake_slack.requests] == ["/api/auth.test"]  # nothing else tried


async def test_slack_unreachable_at_start_is_retried_then_served(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    fake_slack.fail_next(
        "auth.test",
        ScriptedFailure(500, {"ok": False, "error": "fatal_error"}),
        ScriptedFailure(500, {"ok": False, "error": "fatal_error"}),
        ScriptedFailure(500, {"ok": False, "error": "fatal_error"}),
        ScriptedFailure(500, {"ok": False, "error": "fatal_error"}),
    )
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    async with running_bot(env, tmp_path) as process:
        assert len(fake_slack.calls("auth.test")) >= 2
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    log = output.decode()
    assert process.returncode == 0
    assert "no connection to Slack at start" in log
    assert "Traceback" not in log
