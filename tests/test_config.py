"""Tests for bot.config: Settings read from environment variables, and the startup error text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.config import DEFAULT_ORDER_ID_PATTERN, Settings, describe_settings_error

SECRET_VALUES = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-token-000111",
    "SLACK_SIGNING_SECRET": "signing-secret-000222",
    "SLACK_APP_TOKEN": "xapp-secret-app-token-000333",
    "SOGET_ACCESS_TOKEN": "soget-secret-access-token-000444",
    "SOGET_API_KEY": "super-secret-key-123",
}
MINIMAL = {
    "SLACK_BOT_TOKEN": SECRET_VALUES["SLACK_BOT_TOKEN"],
    "SOGET_ACCESS_TOKEN": SECRET_VALUES["SOGET_ACCESS_TOKEN"],
    "SOGET_API_KEY": SECRET_VALUES["SOGET_API_KEY"],
    "CANCEL_APPROVERS": "U0APPROVE1",
}
REQUIRED = ("SLACK_BOT_TOKEN", "SOGET_ACCESS_TOKEN", "SOGET_API_KEY", "CANCEL_APPROVERS")


@pytest.fixture(autouse=True)
def no_other_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest clears SLACK_*/SOGET_*/CANCEL_*…; also clear every other setting's variable."""
    names = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.upper() in names:
            monkeypatch.delenv(name, raising=False)


def set_env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in {**MINIMAL, **values}.items():
        monkeypatch.setenv(name, value)


def load() -> Settings:
    return Settings(_env_file=None)


def error_text(monkeypatch: pytest.MonkeyPatch, **values: str) -> str:
    set_env(monkeypatch, **values)
    with pytest.raises(ValidationError) as caught:
        load()
    return describe_settings_error(caught.value)


# -- valid settings ------------------------------------------------------------------------------


def test_minimal_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)

    settings = load()

    assert settings.slack_bot_token.get_secret_value() == MINIMAL["SLACK_BOT_TOKEN"]
    assert settings.soget_access_token is not None
    assert settings.soget_access_token.get_secret_value() == MINIMAL["SOGET_ACCESS_TOKEN"]
    assert settings.soget_api_key is not None
    assert settings.soget_api_key.get_secret_value() == MINIMAL["SOGET_API_KEY"]
    assert settings.cancel_approvers == ("U0APPROVE1",)
    assert settings.slack_signing_secret is None
    assert settings.slack_app_token is None
    assert not settings.socket_mode
    assert settings.allow_self_approval is False
    assert settings.order_id_pattern == DEFAULT_ORDER_ID_PATTERN
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (
        settings.soget_api_url == "https://soget-api-integration.azure-api.net/customer-orders/v1"
    )
    assert settings.database_path == Path("data/cancel-order-bot.sqlite3")
    assert settings.port == 3000


def test_secrets_are_hidden_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, SLACK_SIGNING_SECRET=SECRET_VALUES["SLACK_SIGNING_SECRET"])

    settings = load()

    shown = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in SECRET_VALUES.values():
        assert secret not in shown


def test_variable_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    monkeypatch.setenv("allow_self_approval", "true")

    assert load().allow_self_approval is True


def test_app_token_means_socket_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, SLACK_APP_TOKEN=SECRET_VALUES["SLACK_APP_TOKEN"])

    assert load().socket_mode


def test_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, SLACK_APP_TOKEN="", SOGET_API_URL="")

    settings = load()

    assert settings.slack_app_token is None
    assert (
        settings.soget_api_url == "https://soget-api-integration.azure-api.net/customer-orders/v1"
    )


def test_env_file_is_ignored_when_disabled(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CANCEL_APPROVERS=U0FROMFILE\n", encoding="utf-8")
    set_env(monkeypatch)

    assert load().cancel_approvers == ("U0APPROVE1",)


def test_env_file_in_the_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert Path.cwd() == tmp_path  # conftest's autouse fixture
    lines = [f"{name}={value}" for name, value in MINIMAL.items() if name != "CANCEL_APPROVERS"]
    (tmp_path / ".env").write_text(
        "\n".join([*lines, "CANCEL_APPROVERS=U0FROMFILE,S0FROMFILE"]) + "\n", encoding="utf-8"
    )

    settings = Settings()

    assert settings.cancel_approvers == ("U0FROMFILE", "S0FROMFILE")


# -- CANCEL_APPROVERS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("U0APPROVE1", ("U0APPROVE1",)),
        ("U0APPROVE1,S0APPROVER", ("U0APPROVE1", "S0APPROVER")),
        (" U0APPROVE1 , S0APPROVER ,W0GRIDUSER ", ("U0APPROVE1", "S0APPROVER", "W0GRIDUSER")),
        ("U0APPROVE1,,U0APPROVE2,", ("U0APPROVE1", "U0APPROVE2")),
        ("U0APPROVE1,S0APPROVER,U0APPROVE1,S0APPROVER", ("U0APPROVE1", "S0APPROVER")),
        ("U0B,U0A,U0B", ("U0B", "U0A")),
    ],
)
def test_approvers_are_parsed_and_deduplicated(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[str, ...]
) -> None:
    set_env(monkeypatch, CANCEL_APPROVERS=value)

    assert load().cancel_approvers == expected


@pytest.mark.parametrize(
    "value",
    [
        "@alice",
        "alice",
        "U0APPROVE1,@bob",
        "<@U0APPROVE1>",
        "u0approve1",
        "C0CHANNEL1",
        "U1",
        "U0APPROVE1 S0APPROVER",
        "U0-APPROVE",
        '["U0APPROVE1"]',
    ],
)
def test_names_instead_of_ids_are_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = error_text(monkeypatch, CANCEL_APPROVERS=value)

    assert "CANCEL_APPROVERS" in text
    assert "not Slack user or user group ids" in text


@pytest.mark.parametrize("value", [",", " , ,", "   "])
def test_empty_approver_list_is_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = error_text(monkeypatch, CANCEL_APPROVERS=value)

    assert "CANCEL_APPROVERS" in text


def test_missing_approvers_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)
    monkeypatch.delenv("CANCEL_APPROVERS")

    with pytest.raises(ValidationError) as caught:
        load()

    assert "CANCEL_APPROVERS: is missing" in describe_settings_error(caught.value)


def test_empty_approvers_variable_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_text(monkeypatch, CANCEL_APPROVERS="")

    assert "CANCEL_APPROVERS: is missing" in text


# -- URLs ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://slack.example/api", "https://slack.example/api/"),
        ("https://slack.example/api/", "https://slack.example/api/"),
        ("http://127.0.0.1:8080/api", "http://127.0.0.1:8080/api/"),
        ("  https://slack.example/api  ", "https://slack.example/api/"),
        ("https://slack.example", "https://slack.example/"),
    ],
)
def test_slack_url_gets_a_trailing_slash(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    set_env(monkeypatch, SLACK_API_URL=value)

    assert load().slack_api_url == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://soget.example/customer-orders/v1/", "https://soget.example/customer-orders/v1"),
        ("https://soget.example/customer-orders/v1", "https://soget.example/customer-orders/v1"),
        ("https://soget.example/customer-orders/v1//", "https://soget.example/customer-orders/v1"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        (" https://soget.example/v1/ ", "https://soget.example/v1"),
    ],
)
def test_soget_url_loses_its_trailing_slash(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    set_env(monkeypatch, SOGET_API_URL=value)

    assert load().soget_api_url == expected


@pytest.mark.parametrize(
    "value",
    [
        "ftp://soget.example/v1",
        "soget.example/v1",
        "https://",
        "https:///v1",
        "https://soget example/v1",
        "https://soget.example/v 1",
        "javascript:alert(1)",
        "file:///etc/passwd",
    ],
)
@pytest.mark.parametrize("variable", ["SLACK_API_URL", "SOGET_API_URL"])
def test_bad_urls_are_rejected(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    text = error_text(monkeypatch, **{variable: value})

    assert f"{variable}: must be an http(s) URL" in text


# -- other settings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_allow_self_approval(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    set_env(monkeypatch, ALLOW_SELF_APPROVAL=value)

    assert load().allow_self_approval is expected


@pytest.mark.parametrize("value", ["maybe", "2", "yes please", "oui"])
def test_bad_allow_self_approval_is_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = error_text(monkeypatch, ALLOW_SELF_APPROVAL=value)

    assert "ALLOW_SELF_APPROVAL" in text


def test_database_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_env(monkeypatch, DATABASE_PATH=str(tmp_path / "db" / "bot.sqlite3"))

    assert load().database_path == tmp_path / "db" / "bot.sqlite3"


def test_relative_database_path(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, DATABASE_PATH="state/bot.sqlite3")

    assert load().database_path == Path("state/bot.sqlite3")


def test_order_id_pattern_is_compiled_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, ORDER_ID_PATTERN=r"ORD-\d{4}")

    pattern = load().compiled_order_id_pattern()

    assert pattern.fullmatch("ord-1234")
    assert not pattern.fullmatch("ORD-123")


def test_default_order_id_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch)

    pattern = load().compiled_order_id_pattern()

    assert pattern.fullmatch("CDE0000000001")
    assert pattern.fullmatch("cde0000000001")
    assert not pattern.fullmatch("CDE000000001")
    assert not pattern.fullmatch("CDE０００００００００１")  # fullwidth digits
    assert not pattern.fullmatch("CDE٠٠٠٠٠٠٠٠٠١")  # Arabic-Indic digits


@pytest.mark.parametrize("value", ["CDE(", "[", "CDE\\", "*CDE", "(?P<x>a)(?P<x>b)"])
def test_bad_order_id_pattern_is_rejected(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    text = error_text(monkeypatch, ORDER_ID_PATTERN=value)

    assert "ORDER_ID_PATTERN: not a valid regular expression" in text


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SOGET_TIMEOUT_SECONDS", "0"),
        ("SOGET_TIMEOUT_SECONDS", "abc"),
        ("SOGET_TIMEOUT_SECONDS", "301"),
        ("SOGET_CONNECT_TIMEOUT_SECONDS", "-1"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "TRACE"),
    ],
)
def test_out_of_range_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    text = error_text(monkeypatch, **{variable: value})

    assert f"  - {variable}: " in text


# -- describe_settings_error ---------------------------------------------------------------------


def test_each_missing_variable_is_named_in_upper_case(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError) as caught:
        load()

    text = describe_settings_error(caught.value)

    for name in REQUIRED:
        assert f"  - {name}: is missing" in text
    assert text.startswith("The bot cannot start")
    assert "README.md" in text
    assert "slack_bot_token" not in text  # variable names, not field names


@pytest.mark.parametrize("missing", REQUIRED)
def test_one_missing_variable_is_the_only_one_named(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    set_env(monkeypatch)
    monkeypatch.delenv(missing)

    with pytest.raises(ValidationError) as caught:
        load()
    text = describe_settings_error(caught.value)

    assert f"  - {missing}: is missing" in text
    assert text.count("  - ") == 1


def test_no_given_secret_appears_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    text = error_text(
        monkeypatch,
        SLACK_SIGNING_SECRET=SECRET_VALUES["SLACK_SIGNING_SECRET"],
        SLACK_APP_TOKEN=SECRET_VALUES["SLACK_APP_TOKEN"],
        SOGET_API_KEY="super-secret-key-123",
        CANCEL_APPROVERS="@alice",
    )

    assert "CANCEL_APPROVERS" in text
    for secret in SECRET_VALUES.values():
        assert secret not in text


def test_no_secret_appears_when_many_things_are_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLACK_BOT_TOKEN", "SOGET_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOGET_API_KEY", "super-secret-key-123")
    monkeypatch.setenv("SLACK_APP_TOKEN", SECRET_VALUES["SLACK_APP_TOKEN"])
    monkeypatch.setenv("SOGET_API_URL", "ftp://nope")
    monkeypatch.setenv("ALLOW_SELF_APPROVAL", "maybe")
    monkeypatch.setenv("ORDER_ID_PATTERN", "CDE(")
    monkeypatch.setenv("PORT", "0")

    with pytest.raises(ValidationError) as caught:
        load()
    text = describe_settings_error(caught.value)

    for name in (
        "SLACK_BOT_TOKEN",
        "SOGET_ACCESS_TOKEN",
        "CANCEL_APPROVERS",
        "SOGET_API_URL",
        "ALLOW_SELF_APPROVAL",
        "ORDER_ID_PATTERN",
        "PORT",
    ):
        assert f"  - {name}: " in text
    assert "super-secret-key-123" not in text
    assert SECRET_VALUES["SLACK_APP_TOKEN"] not in text
    assert "ftp://nope" not in text


def test_a_secret_pasted_into_the_wrong_variable_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """describe_settings_error promises never to echo a value: a token typed in the wrong
    variable must not end up in the startup log."""
    token = SECRET_VALUES["SLACK_BOT_TOKEN"]

    text = error_text(monkeypatch, CANCEL_APPROVERS=f"U0APPROVE1,{token}")

    assert "CANCEL_APPROVERS" in text
    assert token not in text


def test_values_left_as_in_env_example_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Copying .env.example without filling it in fails at start, naming each variable."""
    import re as _re

    from bot.config import describe_settings_error

    example = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    values = dict(_re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", example, flags=_re.M))
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    text = describe_settings_error(caught.value)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SOGET_API_KEY"):
        assert f"{name}: still the example value" in text
    assert "CANCEL_APPROVERS: still the example value" in text
