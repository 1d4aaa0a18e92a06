"""Tests for bot.language.UserLanguages: locale → language, cached per user, failures → default."""

from __future__ import annotations

import pytest

from bot.i18n.catalogue import Language
from bot.i18n.language import UserLanguages


class Locales:
    """A scripted users.info: a locale per user, or an exception; counts the calls."""

    def __init__(self, **locales: str | None) -> None:
        self.locales = locales
        self.calls: list[str] = []
        self.failing = False

    async def __call__(self, user_id: str) -> str | None:
        self.calls.append(user_id)
        if self.failing:
            raise RuntimeError("users.info failed")
        return self.locales.get(user_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("locale", "default", "expected"),
    [
        ("fr-FR", Language.EN, Language.FR),
        ("fr-CA", Language.EN, Language.FR),
        ("en-US", Language.FR, Language.EN),
        ("de-DE", Language.FR, Language.FR),
        ("de-DE", Language.EN, Language.EN),
        (None, Language.FR, Language.FR),
    ],
)
async def test_language_of_a_user(
    locale: str | None, default: Language, expected: Language
) -> None:
    languages = UserLanguages(Locales(U1=locale), default=default)
    assert await languages.of("U1") is expected


async def test_look_ups_are_cached_per_user_until_they_expire() -> None:
    fetch, clock = Locales(U1="fr-FR", U2="en-GB"), Clock()
    languages = UserLanguages(fetch, cache_seconds=300, clock=clock)

    assert await languages.of("U1") is Language.FR
    assert await languages.of("U2") is Language.EN
    clock.now += 299
    assert await languages.of("U1") is Language.FR
    assert fetch.calls == ["U1", "U2"]

    fetch.locales["U1"] = "en-US"  # the user changed their Slack language
    clock.now += 2
    assert await languages.of("U1") is Language.EN
    assert fetch.calls == ["U1", "U2", "U1"]


async def test_a_failed_look_up_gives_the_default_and_is_not_cached() -> None:
    fetch = Locales(U1="fr-FR")
    languages = UserLanguages(fetch, default=Language.EN)
    fetch.failing = True

    assert await languages.of("U1") is Language.EN

    fetch.failing = False
    assert await languages.of("U1") is Language.FR
    assert fetch.calls == ["U1", "U1"]


async def test_the_cache_stays_small() -> None:
    fetch = Locales()
    languages = UserLanguages(fetch, max_users=2)
    for user in ("U1", "U2", "U3"):
        await languages.of(user)

    await languages.of("U3")
    await languages.of("U1")  # evicted as the oldest: read again

    assert fetch.calls == ["U1", "U2", "U3", "U1"]
