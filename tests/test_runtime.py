"""`build_deps` builds every long-lived object once; `create_app` wires listeners onto them;
closing the resources undoes the build."""

from __future__ import annotations

import contextlib
import socket
from pathlib import Path

import pytest
from slack_bolt.async_app import AsyncApp

from bot.app import create_app
from bot.observability.metrics import Metrics
from bot.runtime import DatabaseUnusableError, build_deps, instance_names
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


def test_instance_names_label_the_process_and_never_share_a_lease_owner(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """Two replicas given one INSTANCE_ID (one .env for both, a restart next to its
    predecessor) share the label but never a lease owner: neither takes the other's leases."""
    named = make_settings(fake_slack, fake_soget, tmp_path / "a.sqlite3", instance_id="bot-1")
    (label_a, owner_a), (label_b, owner_b) = instance_names(named), instance_names(named)
    assert label_a == label_b == "bot-1"
    assert owner_a != owner_b and owner_a.startswith("bot-1-")

    unnamed = make_settings(fake_slack, fake_soget, tmp_path / "b.sqlite3")
    label, owner = instance_names(unnamed)
    assert label == owner and label != instance_names(unnamed)[0]
    assert label.startswith(socket.gethostname().split(".")[0])


@pytest.mark.parametrize("value", ["bot 1", "-bot", "a" * 65, "bot/1"])
def test_a_bad_instance_id_is_refused(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, value: str
) -> None:
    with pytest.raises(ValueError, match="letters"):
        make_settings(fake_slack, fake_soget, tmp_path / "c.sqlite3", instance_id=value)
