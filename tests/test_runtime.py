"""`build_deps` builds every long-lived object once; `create_app` wires listeners onto them;
closing the resources undoes the build."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from slack_bolt.async_app import AsyncApp

from bot.app import create_app
from bot.observability.metrics import Metrics
from bot.runtime import DatabaseUnusableError, build_deps
from tests.conftest import make_settings
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget


async def test_build_deps_then_create_app_and_close(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    settings = make_settings(fake_slack, fake_soget, tmp_path / "bot.sqlite3")
    resources = contextlib.AsyncExitStack()

    deps = await build_deps(settings, resources, metrics=Metrics())
    app = create_app(settings, deps)

    assert isinstance(app, AsyncApp)
    assert app.client is deps.slack_client
    # One decisions service behind the listeners and the request flow.
    assert deps.requests._decisions is deps.service
    await deps.store.ping()
    await resources.aclose()
    with pytest.raises(Exception):  # noqa: B017, PT011 - aiosqlite's closed-connection error
        await deps.store.ping()


async def test_an_unusable_database_stops_the_build_before_anything_opens(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    not_a_file = tmp_path / "bot.sqlite3"
    not_a_file.mkdir()
    settings = make_settings(fake_slack, fake_soget, not_a_file)

    async with contextlib.AsyncExitStack() as resources:
        with pytest.raises(DatabaseUnusableError, match="unusable"):
            await build_deps(settings, resources, metrics=Metrics())
    assert fake_slack.calls("usergroups.users.list") == []
