"""The operations settings: token source, sandbox, channels, log format."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_settings_error

BASE: dict[str, Any] = {
    "slack_bot_token": "xoxb-1",
    "soget_api_key": "key-value-123",
    "cancel_approvers": "U0APPROVE1",
}
TRIO: dict[str, Any] = {
    "soget_token_url": "https://gateway.example.invalid/soget-connect/v1/openid-connect/token",
    "soget_client_id": "client",
    "soget_client_secret": "client-secret-value",
}


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **(BASE | values))


def _problem(**values: Any) -> str:
    with pytest.raises(ValidationError) as raised:
        _settings(**values)
    return describe_settings_error(raised.value)


def test_a_fixed_token_or_the_client_credentials() -> None:
    fixed = _settings(soget_access_token="token-value")
    obtained = _settings(**TRIO, soget_scope="orders")

    assert not fixed.soget_uses_client_credentials
    assert obtained.soget_uses_client_credentials
    assert obtained.soget_scope == "orders"


def test_neither_token_source_names_both_ways() -> None:
    text = _problem()
    assert "SOGET_ACCESS_TOKEN" in text
    assert "SOGET_TOKEN_URL, SOGET_CLIENT_ID and SOGET_CLIENT_SECRET" in text


def test_both_token_sources_are_refused() -> None:
    text = _problem(soget_access_token="token-value", **TRIO)
    assert "not both" in text
    assert "token-value" not in text and "client-secret-value" not in text


def test_incomplete_client_credentials_name_what_is_missing() -> None:
    text = _problem(soget_token_url=TRIO["soget_token_url"], soget_client_id="client")
    assert "SOGET_CLIENT_SECRET" in text


def test_token_url_must_be_a_url() -> None:
    assert "SOGET_TOKEN_URL: must be an http(s) URL" in _problem(
        **(TRIO | {"soget_token_url": "x"})
    )


def test_api_key_is_required_outside_the_sandbox() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, slack_bot_token="xoxb-1", cancel_approvers="U0A", **TRIO)
    assert "SOGET_API_KEY: is missing" in describe_settings_error(raised.value)


def test_sandbox_needs_no_soget_credentials() -> None:
    settings = Settings(
        _env_file=None, slack_bot_token="xoxb-1", cancel_approvers="U0A", sandbox=True
    )
    assert settings.sandbox
    assert settings.soget_access_token is None and settings.soget_api_key is None


def test_sandbox_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SLACK_BOT_TOKEN": "x",
        "CANCEL_APPROVERS": "U0A",
        "SANDBOX": "true",
    }.items():
        monkeypatch.setenv(name, value)
    assert Settings(_env_file=None).sandbox


def test_channels() -> None:
    settings = _settings(
        soget_access_token="t",
        approval_channel=" C0APPROVAL ",
        allowed_channels="C0ONE, G0TWO,C0ONE",
    )
    assert settings.approval_channel == "C0APPROVAL"
    assert settings.allowed_channels == ("C0ONE", "G0TWO")


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("approval_channel", "#approvals", "APPROVAL_CHANNEL"),
        ("allowed_channels", "C0ONE,general", "ALLOWED_CHANNELS"),
        ("log_format", "xml", "LOG_FORMAT"),
    ],
)
def test_bad_operations_settings_are_named(field: str, value: str, variable: str) -> None:
    assert f"{variable}:" in _problem(soget_access_token="t", **{field: value})
