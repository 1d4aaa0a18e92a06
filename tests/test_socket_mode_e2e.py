"""The real bot process in Socket Mode against a fake Socket Mode server and fake Web API:
the core flow, reconnection, redelivered and forged envelopes, and stopping when asked."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest

from bot.domain.requests import RequestStatus
from bot.slack.ids import ActionId
from bot.slack.socket_mode import (
    FIRST_RETRY_SECONDS,
    MAX_RETRY_SECONDS,
    SeenEnvelopes,
    retry_delay,
)
from bot.storage.store import Store
from tests import payloads
from tests.conftest import APPROVER, BOT_TOKEN, REQUESTER, SOGET_KEY, SOGET_TOKEN
from tests.fakes.server import wait_until
from tests.fakes.slack_api import FakeSlack, ScriptedFailure
from tests.fakes.socket_mode import FakeSocketMode
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ports import free_port
from tests.test_process_e2e import _approve_value, bot_env

APP_TOKEN = "xapp-1-A0APP0001-1234567890-socketmodetesttoken0123456789"
ORDER = "CDE0000000005"


@pytest.fixture
async def socket_mode(fake_slack: FakeSlack) -> AsyncIterator[FakeSocketMode]:
    server = FakeSocketMode(app_token=APP_TOKEN)
    await server.start()
    fake_slack.socket_mode = server
    yield server
    await server.stop()


def socket_env(fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path) -> dict[str, str]:
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode does not need it
    return env | {"SLACK_APP_TOKEN": APP_TOKEN}


class BotProcess:
    """The bot's process, its output read as it comes. Left unread, the output fills the pipe
    (the OS's 64 KiB and asyncio's buffer, ~190 KiB in all: a burst's worth of log lines), the
    bot's next log write blocks its event loop, it stops reading the socket and the fake's
    sends wait for ever."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._chunks: list[bytes] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := await self.process.stdout.read(1 << 16):
            self._chunks.append(chunk)

    @property
    def log(self) -> str:
        """What the bot has written so far."""
        return b"".join(self._chunks).decode(errors="replace")

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def send_signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def exited(self, *, timeout: float) -> str:
        """Wait for the exit (TimeoutError after `timeout`); its whole output."""
        await asyncio.wait_for(self.process.wait(), timeout=timeout)
        await asyncio.wait_for(self._reader, timeout=timeout)
        return self.log


@asynccontextmanager
async def bot_process(env: dict[str, str], cwd: Path) -> AsyncIterator[BotProcess]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    bot = BotProcess(process)
    try:
        yield bot
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        bot._reader.cancel()


async def stop_with(process: BotProcess, signum: int) -> str:
    """Send `signum`; the process must exit 0 within a few seconds. Returns its output."""
    process.send_signal(signum)
    try:
        log = await process.exited(timeout=6)
    except TimeoutError:
        raise AssertionError(f"the bot ignored {signal.Signals(signum).name}") from None
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    for secret in (APP_TOKEN, BOT_TOKEN, SOGET_TOKEN, SOGET_KEY):
        assert secret not in log
    return log


def command_payload(text: str, fake_slack: FakeSlack) -> dict[str, Any]:
    """A slash command's Socket Mode payload: the HTTP form's fields, as JSON."""
    form = payloads.slash_command(text, user=REQUESTER, response_url=fake_slack.response_url)
    return dict(parse_qsl(form))


def approve_payload(request_id: str, fake_slack: FakeSlack) -> dict[str, Any]:
    form = payloads.block_action(
        ActionId.APPROVE,
        user=APPROVER,
        request_id=request_id,
        message_ts="1700000000.000001",
        response_url=fake_slack.response_url,
    )
    payload: dict[str, Any] = json.loads(parse_qs(form)["payload"][0])
    return payload


async def request_posted(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, *, envelope_id: str | None = None
) -> tuple[str, str]:
    """Deliver the command, wait for its ack and the channel post: (envelope id, request id)."""
    envelope_id = await socket_mode.deliver(
        "slash_commands",
        command_payload(f"{ORDER} wrong data", fake_slack),
        envelope_id=envelope_id,
    )
    await socket_mode.wait_ack(envelope_id, timeout=10)
    await fake_slack.wait_until(lambda: len(fake_slack.channel_posts()) == 1, timeout=10)
    [post] = fake_slack.channel_posts()
    assert ORDER in str(post.body["blocks"])
    request_id, _ = _approve_value(post.body)
    return envelope_id, request_id


async def settled(fake_slack: FakeSlack) -> None:
    """Room for a wrong second post, DELETE or reply to show up (nothing to poll for)."""
    await asyncio.sleep(0.5)


async def test_core_flow_over_socket_mode(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    fake_soget.add(ORDER)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        await socket_mode.wait_connected()
        command_envelope, request_id = await request_posted(fake_slack, socket_mode)
        ack = socket_mode.acks_for(command_envelope)[0]
        assert set(ack) <= {"envelope_id", "payload"}

        approve_envelope = await socket_mode.deliver(
            "interactive", approve_payload(request_id, fake_slack)
        )
        await socket_mode.wait_ack(approve_envelope)
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=10)
        await settled(fake_slack)
        await stop_with(process, signal.SIGTERM)

    assert len(fake_soget.deletes(ORDER)) == 1
    assert len(fake_slack.thread_replies()) == 1
    assert len(fake_slack.channel_posts()) == 1
    assert len(socket_mode.acks_for(command_envelope)) == 1
    assert len(socket_mode.acks_for(approve_envelope)) == 1
    # The connection was opened with the app token, never the bot token.
    [opened] = fake_slack.calls("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"


@pytest.mark.parametrize("how", ["refresh_requested", "warning", "dropped"])
async def test_reconnects_mid_flow_and_loses_nothing(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,
    tmp_path: Path,
    how: str,
) -> None:
    fake_soget.add(ORDER)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        first = await socket_mode.wait_connected()
        _, request_id = await request_posted(fake_slack, socket_mode)

        # Slack moves the app to another connection between the request and the approval.
        if how == "dropped":
            await socket_mode.drop()
        else:
            await socket_mode.disconnect(how)
        second = await socket_mode.wait_connected(2, timeout=12)
        await wait_until(lambda: first.socket.closed, what="the old connection to close")
        assert second is not first
        assert len(fake_slack.calls("apps.connections.open")) == 2
        assert socket_mode.refused_tickets == []  # a fresh URL for the new connection

        approve_envelope = await socket_mode.deliver(
            "interactive", approve_payload(request_id, fake_slack)
        )
        await socket_mode.wait_ack(approve_envelope)
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=10)
        await settled(fake_slack)
        await stop_with(process, signal.SIGTERM)

    assert len(fake_soget.deletes(ORDER)) == 1
    assert len(fake_slack.channel_posts()) == 1
    assert len(fake_slack.thread_replies()) == 1
    assert all(len(socket_mode.acks_for(a["envelope_id"])) == 1 for a in socket_mode.acks)


async def test_a_redelivered_envelope_is_handled_once(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    fake_soget.add(ORDER)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        await socket_mode.wait_connected()
        command_envelope, request_id = await request_posted(fake_slack, socket_mode)
        await settled(fake_slack)
        slack_calls = len(fake_slack.requests)
        # Slack delivers the same envelope again (its retry when an ack is late).
        await socket_mode.deliver(
            "slash_commands",
            command_payload(f"{ORDER} wrong data", fake_slack),
            envelope_id=command_envelope,
        )
        await wait_until(lambda: len(socket_mode.acks_for(command_envelope)) == 2)
        await settled(fake_slack)
        assert len(fake_slack.requests) == slack_calls
        assert not socket_mode.acks_for(command_envelope)[1].get("payload")

        approval = approve_payload(request_id, fake_slack)
        approve_envelope = await socket_mode.deliver("interactive", approval)
        await socket_mode.wait_ack(approve_envelope)
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=10)
        await settled(fake_slack)
        slack_calls = len(fake_slack.requests)
        await socket_mode.deliver("interactive", approval, envelope_id=approve_envelope)
        await wait_until(lambda: len(socket_mode.acks_for(approve_envelope)) == 2)
        await settled(fake_slack)
        assert len(fake_slack.requests) == slack_calls
        await stop_with(process, signal.SIGTERM)

    assert len(fake_slack.channel_posts()) == 1
    assert len(fake_soget.deletes(ORDER)) == 1
    assert len(fake_slack.thread_replies()) == 1


FORGED_ENVELOPES: list[dict[str, Any]] = [
    {"type": "slash_commands", "payload": {"command": "/cancel-order"}},  # no envelope_id
    {"envelope_id": "forged-1", "type": "slash_commands"},  # no payload
    {"envelope_id": "forged-2", "type": "interactive", "payload": "approve"},
    {"envelope_id": "forged-3", "type": "interactive", "payload": {}},
    {"envelope_id": "forged-4", "type": "mystery", "payload": {"a": 1}},
    {"envelope_id": "forged-5", "type": "events_api", "payload": {"event": "x"}},
    {"envelope_id": 7, "type": "slash_commands", "payload": []},
]


async def test_a_forged_envelope_changes_nothing(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,
    tmp_path: Path,
) -> None:
    fake_soget.add(ORDER)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        await socket_mode.wait_connected()
        _, request_id = await request_posted(fake_slack, socket_mode)
        await settled(fake_slack)
        slack_calls = len(fake_slack.requests)
        for envelope in FORGED_ENVELOPES:
            await socket_mode.send(envelope)
        await socket_mode.send("not json at all")
        await settled(fake_slack)
        assert len(fake_slack.requests) == slack_calls
        # Still alive and serving on the same connection: the approval goes through.
        approve_envelope = await socket_mode.deliver(
            "interactive", approve_payload(request_id, fake_slack)
        )
        await socket_mode.wait_ack(approve_envelope)
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=10)
        await settled(fake_slack)
        await stop_with(process, signal.SIGTERM)

    assert len(socket_mode.connections) == 1
    assert len(fake_slack.channel_posts()) == 1
    assert len(fake_soget.deletes(ORDER)) == 1
    assert len(fake_slack.thread_replies()) == 1
    assert fake_slack.ephemerals() == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_stops_when_asked_while_connected(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,
    tmp_path: Path,
    signum: int,
) -> None:
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        connection = await socket_mode.wait_connected()
        await stop_with(process, signum)
    await wait_until(lambda: connection.socket.closed, what="the bot to close its socket")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("unreachable", ["connections-open-fails", "nothing-listening"])
async def test_stops_when_asked_while_slack_is_unreachable(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,
    tmp_path: Path,
    signum: int,
    unreachable: str,
) -> None:
    env = socket_env(fake_slack, fake_soget, tmp_path)
    if unreachable == "nothing-listening":
        env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    else:
        fake_slack.fail_always(
            "apps.connections.open", ScriptedFailure(200, {"ok": False, "error": "internal_error"})
        )
    async with bot_process(env, tmp_path) as process:
        # Two failed attempts, each said in one line, then the signal.
        await wait_until(lambda: process.log.count("no connection to Slack") >= 2, timeout=12)
        process.send_signal(signum)
        log = await process.exited(timeout=6)

    lines = log.splitlines()
    assert process.returncode == 0, log
    assert "Traceback" not in log, log
    assert APP_TOKEN not in log and BOT_TOKEN not in log
    failures = [line for line in lines if "no connection to Slack" in line]
    if unreachable == "connections-open-fails":
        # One line per attempt (the last one may have been cut short by the signal).
        calls = len(fake_slack.calls("apps.connections.open"))
        assert len(failures) in (calls, calls - 1)
        assert all("'internal_error'" in line for line in failures)
    else:
        assert all("cannot connect to 127.0.0.1" in line for line in failures)
    assert socket_mode.connections == []


def test_retry_delays_grow_with_jitter_up_to_a_cap() -> None:
    delays = [[retry_delay(failures) for _ in range(200)] for failures in range(1, 12)]
    for failures, samples in enumerate(delays, start=1):
        ceiling = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (failures - 1))
        assert all(ceiling / 2 <= d <= ceiling for d in samples)
        assert len(set(samples)) > 100  # jittered, not a fixed step
    assert max(delays[-1]) <= MAX_RETRY_SECONDS


def test_seen_envelopes_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenEnvelopes(capacity=3)
    assert [seen.first_time(e) for e in ("a", "b", "a", "c", "d")] == [
        True, True, False, True, True,
    ]  # fmt: skip
    # "b" was the least recently seen when "d" came: forgotten; "a" is still known.
    assert seen.first_time("a") is False
    assert seen.first_time("b") is True


async def test_stops_when_asked_while_connecting(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    fake_slack.delay("apps.connections.open", 60)  # Slack takes the call and never answers
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        await fake_slack.wait_for_calls("apps.connections.open", timeout=10)
        await stop_with(process, signal.SIGTERM)
    assert socket_mode.connections == []


async def test_sigterm_closes_the_connection_first_then_finishes_the_cancel(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    """Socket Mode drain: the WebSocket is closed at once (Slack then sends new envelopes to
    the app's other connections), the DELETE in flight still gets its answer within the
    grace, and its outcome is posted once before the process exits."""
    fake_soget.add(ORDER)
    answer = asyncio.Event()
    env = socket_env(fake_slack, fake_soget, tmp_path) | {"SHUTDOWN_GRACE_SECONDS": "15"}
    async with bot_process(env, tmp_path) as process:
        connection = await socket_mode.wait_connected()
        _, request_id = await request_posted(fake_slack, socket_mode)
        fake_soget.script(Fault(hold=answer, then_apply=True))
        approve = await socket_mode.deliver("interactive", approve_payload(request_id, fake_slack))
        await socket_mode.wait_ack(approve)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(ORDER)) == 1, what="DELETE")

        process.send_signal(signal.SIGTERM)
        await wait_until(lambda: connection.socket.closed, timeout=5, what="the socket to close")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['PORT']}") as http:
            health = await http.get("/healthz")  # still served while the drain lasts
        assert health.status_code == 503 and health.json()["detail"] == "draining"
        assert fake_slack.thread_replies() == []
        answer.set()
        log = await process.exited(timeout=20)

    assert process.returncode == 0, log
    assert "drained in" in log and "Traceback" not in log
    assert len(fake_soget.deletes(ORDER)) == 1
    [reply] = fake_slack.thread_replies()
    assert "is cancelled in MouvONE" in str(reply.body)
    assert len(socket_mode.connections) == 1  # no reconnection while draining


async def _health_becomes(
    http: httpx.AsyncClient, status: int, slack: str, *, timeout: float = 10.0
) -> dict[str, Any]:
    """Poll /healthz until it answers `status` with `"slack": slack`; its last answer."""
    seen: list[tuple[int, dict[str, Any]]] = []

    async def check() -> bool:
        try:
            response = await http.get("/healthz")
        except httpx.TransportError:
            return False
        seen.append((response.status_code, response.json()))
        return response.status_code == status and response.json().get("slack") == slack

    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"/healthz never said {status} slack={slack}: {seen[-3:]}")
        await asyncio.sleep(0.05)
    return seen[-1][1]


async def test_healthz_says_whether_the_socket_is_up(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    env = socket_env(fake_slack, fake_soget, tmp_path)
    async with (
        bot_process(env, tmp_path) as process,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{env['PORT']}") as http,
    ):
        await socket_mode.wait_connected()
        up = await _health_becomes(http, 200, "connected")
        assert up["ok"] is True and up["database"] == "ok"

        # Slack goes away: the socket drops and no new connection can be opened.
        fake_slack.fail_always(
            "apps.connections.open", ScriptedFailure(200, {"ok": False, "error": "internal_error"})
        )
        await socket_mode.drop()
        down = await _health_becomes(http, 503, "disconnected")
        assert down["ok"] is False and down["detail"] == "slack disconnected"
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        assert "cancel_order_requests_opened_total" in metrics.text

        # Slack is back: the bot reconnects by itself and says so.
        fake_slack.fail_always("apps.connections.open", None)
        await socket_mode.wait_connected(2, timeout=15)
        await _health_becomes(http, 200, "connected")
        log = await stop_with(process, signal.SIGTERM)
    for secret in (APP_TOKEN, BOT_TOKEN):
        assert secret not in str(up) + str(down) + metrics.text
    assert "/healthz and /metrics on 127.0.0.1" in log


async def test_healthz_port_taken_exits_2_with_one_line(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = socket_env(fake_slack, fake_soget, tmp_path) | {
            "HEALTH_PORT": str(taken.getsockname()[1])
        }
        async with bot_process(env, tmp_path) as process:
            log = await process.exited(timeout=20)
    assert process.returncode == 2, log
    assert "cannot serve /healthz on 127.0.0.1" in log and "HEALTH_PORT" in log
    assert "Traceback" not in log
    assert socket_mode.connections == []


async def test_sigterm_mid_cancel_exits_at_once_and_the_restart_finishes_it(
    fake_slack: FakeSlack, fake_soget: FakeSoget, socket_mode: FakeSocketMode, tmp_path: Path
) -> None:
    """SIGTERM while the DELETE waits for MouvONE (which applied it): the bot exits once the
    grace (1 s here) is over, leaving the cancel under its lease; the restart on the same
    database reads the order back, sends no second DELETE and posts one outcome."""
    fake_soget.add(ORDER)
    env = socket_env(fake_slack, fake_soget, tmp_path) | {"SHUTDOWN_GRACE_SECONDS": "1"}
    answer = asyncio.Event()
    async with bot_process(env, tmp_path) as process:
        await socket_mode.wait_connected()
        _, request_id = await request_posted(fake_slack, socket_mode)
        fake_soget.script(Fault(hold=answer, then_apply=True))  # applied; the answer hangs
        envelope = await socket_mode.deliver("interactive", approve_payload(request_id, fake_slack))
        await socket_mode.wait_ack(envelope)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(ORDER)) == 1, timeout=10)
        await stop_with(process, signal.SIGTERM)  # exit 0 within a few seconds
    answer.set()  # MouvONE's answer comes, to nobody
    assert fake_slack.thread_replies() == []  # no outcome guessed at the stop

    database = Path(env["DATABASE_PATH"])
    store = await Store.open(database)
    try:
        stopped = await store.get(request_id)
        assert stopped is not None and stopped.status is RequestStatus.EXECUTING
    finally:
        await store.close()

    async with bot_process(env, tmp_path) as restarted:
        await socket_mode.wait_connected(2)
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=20)
        await settled(fake_slack)
        await stop_with(restarted, signal.SIGTERM)

    assert len(fake_soget.deletes(ORDER)) == 1
    assert fake_soget.gets(ORDER)[-1].at > fake_soget.deletes(ORDER)[0].at  # read back
    [reply] = fake_slack.thread_replies()
    assert "is cancelled in MouvONE" in str(reply.body["text"])
    store = await Store.open(database)
    try:
        done = await store.get(request_id)
        assert done is not None and done.status is RequestStatus.SUCCEEDED
        assert done.outcome_posted_at is not None
        assert "cancel_interrupted" in [e.kind for e in await store.events_of(request_id)]
    finally:
        await store.close()
