"""The real console entry point in its own process: configuration errors, HTTP mode, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests import payloads
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    REQUESTER,
    SIGNING_SECRET,
    SOGET_KEY,
    SOGET_TOKEN,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
                    raise AssertionError("the bot exited at start")
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
    port = _free_port()
    env = bot_env(fake_slack, fake_soget, tmp_path, port)
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
