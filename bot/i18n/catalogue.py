"""What each way a MouvONE order cancellation can fail means, for the people using the bot.

The bot cancels an order with SOGET's ``DELETE /customer-orders/{orderId}``. A refusal carries a
``{timestamp, code, message}`` body whose ``code`` is one of 32 documented values (one list shared
by every operation of the API: create, update, search and cancel); ``message`` is free text, often
French and unreliable, so the bot explains the ``code`` itself. This module maps each documented
code, and each failure that comes without such a body (:class:`FailureKind`), to a
:class:`CatalogueEntry`: a category for the bot's logic, whether trying again later can succeed,
and a title, a meaning and a next step in English and French.

The entries are plain data, written for port logistics operators, in ``data/catalogue.toml``
(a translator edits that file, never this one); they are read and checked here at import. The
texts are inserted into Slack mrkdwn, so they never contain ``<``, ``>``, ``&`` nor the
formatting characters ``*``, ``_``, ``~`` and the backtick.

Which codes can answer a cancellation, order types and statuses: docs/soget-api.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, ValidationError

CATALOGUE_FILE = Path(__file__).with_name("data") / "catalogue.toml"


class Language(StrEnum):
    """Languages the bot answers in."""

    EN = "en"
    FR = "fr"


class ErrorCategory(StrEnum):
    """What a failure means for the bot's flow."""

    ALREADY_DONE = "already_done"  # ORDER_ALREADY_CANCELED: nothing left to do
    REFUSED = "refused"  # business refusal for this order, shown to the requester
    ACCOUNT = "account"  # setup, credentials or organisation: needs an administrator or SOGET
    UNEXPECTED = "unexpected"  # documented code of create/update/search, not of a cancellation
    TRANSIENT = "transient"  # a failure that may pass (timeouts, server errors, rate limits...)


@dataclass(frozen=True, slots=True)
class Explanation:
    """One failure explained to an operator, in one language."""

    title: str  # short title
    meaning: str  # what happened, in plain words (1-2 sentences)
    next_step: str  # what the user can do next


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """Everything the bot knows about one error code or failure kind."""

    code: str
    category: ErrorCategory
    retry_can_help: bool  # can trying again later succeed?
    texts: Mapping[Language, Explanation]  # both languages, always

    def text(self, language: Language) -> Explanation:
        """The explanation in ``language``, or the English one when that language is missing."""
        explanation = self.texts.get(language)
        return explanation if explanation is not None else self.texts[Language.EN]


class FailureKind(StrEnum):
    """Failures outside the documented ``{timestamp, code, message}`` error body."""

    GATEWAY_UNAUTHORIZED = "gateway_unauthorized"  # 401: token or subscription key missing/invalid
    GATEWAY_FORBIDDEN = "gateway_forbidden"  # 403: credentials valid but not allowed
    ENDPOINT_NOT_FOUND = "endpoint_not_found"  # 404 without documented body: wrong URL or route
    REQUEST_TIMEOUT_STATUS = "request_timeout_status"  # 408
    RATE_LIMITED = "rate_limited"  # 429
    SERVER_ERROR = "server_error"  # 5xx
    UNEXPECTED_STATUS = "unexpected_status"  # any other non-2xx without a documented body
    TIMEOUT = "timeout"  # no answer in time: the cancellation may or may not have been applied
    CONNECTION_FAILED = "connection_failed"  # could not connect at all: nothing was sent
    TLS_FAILURE = "tls_failure"  # TLS handshake or certificate problem
    INVALID_BODY = "invalid_body"  # answer not JSON or not the documented shape
    UNKNOWN_CODE = "unknown_code"  # a code the catalogue does not know (show the raw code too)


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    meaning: str = Field(min_length=1)
    next_step: str = Field(min_length=1)


class _Entry(BaseModel):
    """One table of the data file, checked: both languages, every field, known values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: ErrorCategory
    retry_can_help: bool
    en: _Texts
    fr: _Texts

    def entry(self, code: str) -> CatalogueEntry:
        texts = {
            language: Explanation(**getattr(self, language.value).model_dump())
            for language in Language
        }
        return CatalogueEntry(code, self.category, self.retry_can_help, MappingProxyType(texts))


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    codes: dict[str, _Entry]
    failures: dict[FailureKind, _Entry]


class CatalogueError(ValueError):
    """The catalogue's data file is missing, unreadable or incomplete."""


def load_catalogue(
    path: Path = CATALOGUE_FILE,
) -> tuple[Mapping[str, CatalogueEntry], Mapping[FailureKind, CatalogueEntry]]:
    """The documented codes (in the file's order) and the failure kinds, read and checked."""
    try:
        data = _File.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise CatalogueError(f"{path.name}: {exc}") from None
    missing = [kind.value for kind in FailureKind if kind not in data.failures]
    if missing:
        raise CatalogueError(f"{path.name}: no entry for the failure kinds {', '.join(missing)}")
    codes = {code: entry.entry(code) for code, entry in data.codes.items()}
    failures = {kind: data.failures[kind].entry(kind.value) for kind in FailureKind}
    return MappingProxyType(codes), MappingProxyType(failures)


# Read once at import: the data file is part of the code, a broken one must stop the start.
CATALOGUE, FAILURES = load_catalogue()
DOCUMENTED_CODES: tuple[str, ...] = tuple(CATALOGUE)


def entry_for_code(code: str) -> CatalogueEntry:
    """The documented entry, or FAILURES[UNKNOWN_CODE] for a code we do not know (never raises)."""
    entry = CATALOGUE.get(code)
    return entry if entry is not None else FAILURES[FailureKind.UNKNOWN_CODE]


def is_documented(code: str) -> bool:
    """Whether ``code`` is one of the documented codes (exact, case-sensitive match)."""
    return code in CATALOGUE


def parse_language(value: str | None, default: Language = Language.EN) -> Language:
    """Slack locales look like 'fr-FR', 'en-US', 'fr', None -> Language; unknown -> default."""
    if not value:
        return default
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    try:
        return Language(primary)
    except ValueError:
        return default
