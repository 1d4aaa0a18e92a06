"""`cancel-order-bot check` in its own process, against the fake Slack, SOGET and token server."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from tests.conftest import BOT_TOKEN, SIGNING_SECRET, SOGET_KEY, SOGET_TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget
from tests.fakes.token_server import FakeTokenServer
from tests.test_process_e2e import bot_env

CLIENT_ID = "check-client"
CLIENT_SECRET = "check-client-secret-0123456789"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, SOGET_TOKEN, SOGET_KEY, CLIENT_SECRET)


async def _check(env: Mapping[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "check", *args, cwd=cwd, env=dict(env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.split()[1:2] == [name])


@pytest.fixture
async def token_server(fake_soget: FakeSoget) -> AsyncIterator[FakeTokenServer]:
    server = FakeTokenServer(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, on_issue=fake_soget.access_tokens.add
    )
    await server.start()
    yield server
    await server.stop()


async def test_everything_works(
    fake_slack: FakeSlack, fake_soget: FakeSoget, token_server: FakeTokenServer, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, 3000)
    env.pop("SOGET_ACCESS_TOKEN")
    env |= {
        "SOGET_TOKEN_URL": token_server.token_url,
        "SOGET_CLIENT_ID": CLIENT_ID,
        "SOGET_CLIENT_SECRET": CLIENT_SECRET,
    }

    code, output = await _check(env, tmp_path)

    assert code == 0, output
    for name in ("settings", "database", "slack", "soget token", "soget api"):
        assert _line(output, name.split()[0]).startswith("ok"), output
    assert "client-credentials" in output
    assert "connected to Port Ops" in output
    assert "credentials accepted" in output and "CUSTOMER_ORDER_NOT_FOUND" in output
    assert output.rstrip().endswith("All checks passed.")
    [probe] = fake_soget.requests
    assert probe.method == "GET" and probe.path.endswith("/CDE0000000000")
    assert (tmp_path / "data" / "bot.sqlite3").exists()
    for secret in SECRETS:
        assert secret not in output


async def test_what_does_not_work_is_named_and_exits_1(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, 3000) | {
        "SLACK_BOT_TOKEN": "xoxb-revoked-token-value",
        "SOGET_API_KEY": "wrong-subscription-key-value",
    }

    code, output = await _check(env, tmp_path)

    assert code == 1
    assert _line(output, "database").startswith("ok")
    assert _line(output, "slack").startswith("FAIL") and "invalid_auth" in output
    soget = next(line for line in output.splitlines() if "soget" in line)
    assert soget.startswith("FAIL") and "401" in soget and "SOGET_API_KEY" in soget
    assert "2 check(s) failed." in output
    for secret in (*SECRETS, "xoxb-revoked-token-value", "wrong-subscription-key-value"):
        assert secret not in output


async def test_unreachable_services_and_a_read_only_database(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, 3000)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the database folder should be")
    env["DATABASE_PATH"] = str(blocked / "bot.sqlite3")
    await fake_soget.stop()

    code, output = await _check(env, tmp_path)

    assert code == 1
    assert _line(output, "database").startswith("FAIL")
    assert "could not be reached" in output


async def test_invalid_settings_are_explained(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SOGET_API_KEY": "super-secret-key-value"}

    code, output = await _check(env, tmp_path)

    assert code == 1
    assert output.startswith("FAIL  settings")
    assert "SLACK_BOT_TOKEN" in output and "SOGET_ACCESS_TOKEN" in output
    assert "super-secret-key-value" not in output
    assert "Traceback" not in output


async def test_check_in_the_sandbox_needs_no_soget_credentials(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    env = bot_env(fake_slack, fake_soget, tmp_path, 3000)
    for name in ("SOGET_API_URL", "SOGET_ACCESS_TOKEN", "SOGET_API_KEY"):
        env.pop(name)

    code, output = await _check(env, tmp_path, "--sandbox")

    assert code == 0, output
    assert "SANDBOX" in output and "sandbox stand-in: credentials accepted" in output
    assert fake_soget.requests == []
