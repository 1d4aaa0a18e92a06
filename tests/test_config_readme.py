"""The README's settings table is a promise: every value it documents loads through Settings."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_settings_error

README = Path(__file__).resolve().parent.parent / "README.md"
MINIMAL = {
    "SLACK_BOT_TOKEN": "xoxb-test-token",
    "SOGET_ACCESS_TOKEN": "soget-test-token",
    "SOGET_API_KEY": "soget-test-key",
    "CANCEL_APPROVERS": "U0APPROVE1",
}
# Settings whose meaning column lists example values (not just prose in backticks).
EXAMPLES_IN_MEANING = ("REQUEST_TTL", "REMIND_AFTER")


def settings_table() -> dict[str, tuple[str, str]]:
    """Each variable of README's "Configuration" table: (default, meaning), backticks kept."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([A-Z_]+)`", cells[0]):
            rows[name] = (cells[2], cells[3])
    return rows


def documented_values() -> list[tuple[str, str]]:
    values: list[tuple[str, str]] = []
    for name, (default, meaning) in settings_table().items():
        values += [(name, value) for value in re.findall(r"`([^`]+)`", default)]
        if name in EXAMPLES_IN_MEANING:
            values += [(name, value) for value in re.findall(r"`([^`]+)`", meaning)]
    return values


@pytest.fixture(autouse=True)
def only_these_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    names = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in names:
            monkeypatch.delenv(name, raising=False)
    for name, value in MINIMAL.items():
        monkeypatch.setenv(name, value)


def test_the_table_is_found_with_its_duration_examples() -> None:
    values = documented_values()
    assert len(settings_table()) >= 25
    for expected in [("REQUEST_TTL", "86400"), ("REQUEST_TTL", "PT24H"), ("REMIND_AFTER", "7200")]:
        assert expected in values


@pytest.mark.parametrize(("name", "value"), documented_values())
def test_every_documented_value_loads(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    try:
        Settings(_env_file=None)
    except ValidationError as error:
        reason = describe_settings_error(error)
        pytest.fail(f"README documents {name}={value}, Settings refused it:\n{reason}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("86400", timedelta(days=1)),
        ("7200", timedelta(hours=2)),
        ("PT24H", timedelta(days=1)),
        ("P2D", timedelta(days=2)),
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(days=1)),
        ("2d", timedelta(days=2)),
        ("45s", timedelta(seconds=45)),
        (" 90 M ", timedelta(minutes=90)),
    ],
)
def test_durations_mean_what_they_say(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: timedelta
) -> None:
    monkeypatch.setenv("REQUEST_TTL", value)
    monkeypatch.setenv("REMIND_AFTER", value)

    settings = Settings(_env_file=None)

    assert settings.request_ttl == expected
    assert settings.remind_after == expected


@pytest.mark.parametrize("value", ["tomorrow", "24 hours", "1w", "PXYZ", "-5", "0", "h"])
def test_a_bad_duration_names_the_accepted_formats(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REQUEST_TTL", value)

    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)

    text = describe_settings_error(caught.value)
    assert "REQUEST_TTL" in text
    if value != "0":
        for example in ("86400", "PT24H", "24h"):
            assert example in text
