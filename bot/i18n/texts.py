"""Every phrase the bot shows, in English and French, read from the TOML files in `data/`.

A translator edits the data files, never the code (`catalogue.toml`, the explanations of
MouvONE's codes, has its own loader in `catalogue.py`). Each phrase is a table with one string per
language, under a dotted key (`[request.header]` → `request.header`); `{name}` placeholders are
filled by `say`. The files are read and checked once, at import: a phrase missing a language,
or whose languages disagree on the placeholders, stops the bot at start (and fails the tests).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

from bot.i18n.catalogue import CATALOGUE_FILE, Language

DATA_DIR = Path(__file__).with_name("data")


class Phrase(BaseModel):
    """One phrase in every language the bot speaks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str
    fr: str

    @model_validator(mode="after")
    def _same_placeholders(self) -> Phrase:
        if placeholders(self.en) != placeholders(self.fr):
            raise ValueError(
                f"en has {sorted(placeholders(self.en))}, fr has {sorted(placeholders(self.fr))}"
            )
        return self

    def in_language(self, language: Language) -> str:
        return self.fr if language is Language.FR else self.en


def placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


class TextsError(ValueError):
    """A data file is missing, unreadable, or has a phrase that is not complete."""


class Texts:
    """The phrases of all data files, by dotted key."""

    def __init__(self, phrases: Mapping[str, Phrase]) -> None:
        self._phrases = MappingProxyType(dict(phrases))

    @classmethod
    def load(cls, directory: Path = DATA_DIR) -> Texts:
        phrases: dict[str, Phrase] = {}
        # The catalogue has its own shape (per-code data besides the texts) and loader.
        files = sorted(p for p in directory.glob("*.toml") if p.name != CATALOGUE_FILE.name)
        if not files:
            raise TextsError(f"no phrase files in {directory}")
        for path in files:
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise TextsError(f"{path.name}: {exc}") from None
            for key, value in _leaves(data, prefix=""):
                if key in phrases:
                    raise TextsError(f"{path.name}: {key} is defined twice")
                try:
                    phrases[key] = Phrase.model_validate(value)
                except ValueError as exc:
                    first = str(exc).splitlines()[1:2] or [str(exc)]
                    raise TextsError(f"{path.name}: {key}: {first[0].strip()}") from None
        return cls(phrases)

    def __contains__(self, key: object) -> bool:
        return key in self._phrases

    def __iter__(self) -> Iterator[str]:
        return iter(self._phrases)

    def phrase(self, key: str) -> Phrase:
        try:
            return self._phrases[key]
        except KeyError:
            raise KeyError(f"no phrase {key!r} in {DATA_DIR}") from None

    def say(self, key: str, language: Language, /, **params: object) -> str:
        """The phrase in `language`, its placeholders filled with `params` (already escaped
        where the text is mrkdwn)."""
        text = self.phrase(key).in_language(language)
        return text.format(**params) if params else text


def _leaves(table: Mapping[str, Any], prefix: str) -> Iterator[tuple[str, Any]]:
    """(dotted key, phrase table) for every table that holds the languages."""
    for name, value in table.items():
        key = f"{prefix}{name}"
        if not isinstance(value, dict):
            raise TextsError(f"{key}: expected a table with en and fr, found {value!r}")
        if "en" in value or "fr" in value:
            yield key, value
        else:
            yield from _leaves(value, prefix=f"{key}.")


# Read once at import: the data files are part of the code, a broken one must stop the start.
TEXTS = Texts.load()


def say(key: str, language: Language, /, **params: object) -> str:
    return TEXTS.say(key, language, **params)
