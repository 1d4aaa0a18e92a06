"""The settings this feature adds: DEFAULT_LANGUAGE and PREVIEW_TIMEOUT_SECONDS."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import Settings, describe_settings_error
from bot.i18n.catalogue import Language

REQUIRED = {
    "slack_bot_token": "xoxb-1",
    "soget_access_token": "token",
    "soget_api_key": "key",
    "cancel_approvers": "U0APPROVE1",
}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **(REQUIRED | values))


def test_defaults() -> None:
    loaded = settings()
    assert loaded.default_language is Language.EN
    assert loaded.preview_timeout_seconds == 3.0


@pytest.mark.parametrize(
    ("value", "expected"), [("fr", Language.FR), (" FR ", Language.FR), ("en", Language.EN)]
)
def test_default_language_values(value: str, expected: Language) -> None:
    assert settings(default_language=value).default_language is expected


def test_default_language_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", "fr")
    monkeypatch.setenv("PREVIEW_TIMEOUT_SECONDS", "1.5")
    loaded = settings()
    assert (loaded.default_language, loaded.preview_timeout_seconds) == (Language.FR, 1.5)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"default_language": "de"}, "DEFAULT_LANGUAGE"),
        ({"preview_timeout_seconds": 0}, "PREVIEW_TIMEOUT_SECONDS"),
        ({"preview_timeout_seconds": 60}, "PREVIEW_TIMEOUT_SECONDS"),
    ],
)
def test_bad_values_are_named(values: dict[str, Any], variable: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**values)
    assert variable in describe_settings_error(caught.value)


def test_channel_languages_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHANNEL_LANGUAGES", " C0123ABCD:fr , G0456EFGH:EN ,")
    monkeypatch.setenv("DEFAULT_LANGUAGE", "en")
    loaded = settings()
    assert loaded.channel_languages == {"C0123ABCD": Language.FR, "G0456EFGH": Language.EN}
    assert loaded.channel_language("C0123ABCD") is Language.FR
    assert loaded.channel_language("C0999ZZZZ") is Language.EN  # not listed: DEFAULT_LANGUAGE
    monkeypatch.delenv("CHANNEL_LANGUAGES")
    assert settings().channel_languages == {}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("C0123ABCD:de", "unknown language 'de' for C0123ABCD"),
        ("C0123ABCD", "channel:language pairs"),
        ("general:fr", "channel:language pairs"),
        ("C0123ABCD:", "unknown language ''"),
    ],
)
def test_bad_channel_languages_are_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("CHANNEL_LANGUAGES", value)
    with pytest.raises(ValidationError) as caught:
        settings()
    described = describe_settings_error(caught.value)
    assert "CHANNEL_LANGUAGES" in described and problem in described
