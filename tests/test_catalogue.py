"""Tests for bot.catalogue: every documented code and failure kind is explained, in EN and FR."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from bot.i18n.catalogue import (
    CATALOGUE,
    DOCUMENTED_CODES,
    FAILURES,
    CatalogueEntry,
    ErrorCategory,
    Explanation,
    FailureKind,
    Language,
    entry_for_code,
    is_documented,
    parse_language,
)

SEEDS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "seeds"
MOUVONE_DOC = SEEDS_DIR / "cancel-order-doc-mouvone.md"
SMOUV_DOC = SEEDS_DIR / "cancel-order-doc-smouv.txt"

# The 32 codes of the cancel endpoint, in the documentation's order. Kept here so that a missing
# code is caught even where shared/seeds is not available.
EXPECTED_CODES = (
    "ACTOR_NOT_FOUND",
    "ALREADY_JOINED_GROUP",
    "CANNOT_CANCEL_NOT_MASTER_ORDER",
    "CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER",
    "CANNOT_CHANGE_NUMBER_OF_CONTAINERS",
    "CANNOT_UPDATE_VALID_ORDER_TO_DRAFT",
    "CARRIER_EMAIL_REQUIRED",
    "CONFLICT",
    "CONTRACTOR_UNAUTHORIZED_BY_GEDMOUV",
    "CUSTOMER_ORDER_NOT_FOUND",
    "CUSTOMS_FLAG_NOT_BE_MODIFIED",
    "EVENT_LOCATION_FIELDS_REQUIRED",
    "EVENT_START_DATE_REQUIRED",
    "EXISTS_ORDER_WITH_HANDLING_UNIT_SPI",
    "HANDLING_UNIT_REFERENCE_INVALID",
    "LIMIT_NONPOSITIVE",
    "NOT_SUPPORTED_ORDER_TYPE",
    "OFFSET_NEGATIVE",
    "ORDER_ALREADY_CANCELED",
    "ORDER_DUPLICATED",
    "ORGANIZATION_ACTOR_CODE_INVALID",
    "ORGANIZATION_NOT_FOUND",
    "R0005",
    "R0006",
    "R0007",
    "R0008",
    "R0009",
    "SEARCH_DATE_ERROR",
    "UNKNOWN_LOCATION",
    "USER_ID_INVALID",
    "WRONG_EVENT_DATE_ORDER",
    "WRONG_FORMAT",
)

# Codes of create/update/search (soget-api.md section 2, column "cancel?" = no).
NOT_CANCEL_CODES = frozenset(
    {
        "ALREADY_JOINED_GROUP",
        "CANNOT_CHANGE_NUMBER_OF_CONTAINERS",
        "CANNOT_UPDATE_VALID_ORDER_TO_DRAFT",
        "CARRIER_EMAIL_REQUIRED",
        "CONTRACTOR_UNAUTHORIZED_BY_GEDMOUV",
        "CUSTOMS_FLAG_NOT_BE_MODIFIED",
        "EVENT_LOCATION_FIELDS_REQUIRED",
        "EVENT_START_DATE_REQUIRED",
        "EXISTS_ORDER_WITH_HANDLING_UNIT_SPI",
        "HANDLING_UNIT_REFERENCE_INVALID",
        "LIMIT_NONPOSITIVE",
        "OFFSET_NEGATIVE",
        "ORDER_DUPLICATED",
        "R0005",
        "R0006",
        "R0007",
        "SEARCH_DATE_ERROR",
        "UNKNOWN_LOCATION",
        "WRONG_EVENT_DATE_ORDER",
    }
)

# Characters with a meaning in Slack mrkdwn, which the texts are inserted into.
MRKDWN_SPECIAL = ("<", ">", "&", "*", "_", "~", "`")

ALL_ENTRIES: tuple[CatalogueEntry, ...] = (*CATALOGUE.values(), *FAILURES.values())


def _fields(explanation: Explanation) -> tuple[str, str, str]:
    return (explanation.title, explanation.meaning, explanation.next_step)


# --- The list of codes -------------------------------------------------------------------------


def test_documented_codes_are_the_32_expected_codes_in_doc_order() -> None:
    assert DOCUMENTED_CODES == EXPECTED_CODES
    assert len(set(DOCUMENTED_CODES)) == 32


def test_documented_codes_match_the_mouvone_seed_doc() -> None:
    if not MOUVONE_DOC.is_file():
        pytest.skip(f"seed documentation not available: {MOUVONE_DOC}")
    text = MOUVONE_DOC.read_text(encoding="utf-8")
    parsed = re.findall(r"^- ([A-Z][A-Z0-9_]*): ", text, flags=re.MULTILINE)
    assert len(parsed) == 32
    assert tuple(parsed) == DOCUMENTED_CODES


def test_documented_codes_match_the_smouv_seed_values_line() -> None:
    if not SMOUV_DOC.is_file():
        pytest.skip(f"seed documentation not available: {SMOUV_DOC}")
    text = SMOUV_DOC.read_text(encoding="utf-8")
    match = re.search(r"Values are (.+?)\.\s*$", text, flags=re.MULTILINE)
    assert match is not None
    parsed = re.findall(r"[A-Z][A-Z0-9_]*", match.group(1).replace(", or ", ", "))
    assert tuple(parsed) == DOCUMENTED_CODES


def test_catalogue_has_one_entry_per_documented_code() -> None:
    assert tuple(CATALOGUE) == DOCUMENTED_CODES
    for code, entry in CATALOGUE.items():
        assert entry.code == code
        assert is_documented(code)


def test_failures_have_one_entry_per_kind() -> None:
    assert set(FAILURES) == set(FailureKind)
    for kind, entry in FAILURES.items():
        assert entry.code == kind.value
        assert type(entry.code) is str
        assert entry.category in {ErrorCategory.TRANSIENT, ErrorCategory.ACCOUNT}
        assert not is_documented(entry.code)


def test_catalogue_and_entries_are_read_only() -> None:
    assert isinstance(CATALOGUE, MappingProxyType)
    assert isinstance(FAILURES, MappingProxyType)
    # Typed as Any: the point is to check what happens at run time when code ignores the types.
    catalogue: Any = CATALOGUE
    entry: Any = CATALOGUE["R0008"]
    with pytest.raises(TypeError):
        catalogue["R0008"] = entry
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.retry_can_help = False
    with pytest.raises(TypeError):
        entry.texts[Language.FR] = entry.texts[Language.EN]


# --- The texts ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.code)
def test_entry_has_both_languages_with_complete_safe_texts(entry: CatalogueEntry) -> None:
    assert set(entry.texts) == set(Language)
    for language in Language:
        explanation = entry.text(language)
        assert explanation is entry.texts[language]
        for field in _fields(explanation):
            assert field.strip(), (entry.code, language)
            assert field == field.strip(), (entry.code, language, field)
            assert not any(char in field for char in MRKDWN_SPECIAL), (entry.code, field)
            # The product is spelled MouvONE, and only that way.
            for match in re.finditer(r"mouvone|s'mouv", field, flags=re.IGNORECASE):
                assert match.group(0) == "MouvONE", (entry.code, field)
        assert not explanation.title.endswith("."), (entry.code, explanation.title)
        assert explanation.meaning.endswith("."), (entry.code, explanation.meaning)
        assert explanation.next_step.endswith("."), (entry.code, explanation.next_step)


@pytest.mark.parametrize("entry", ALL_ENTRIES, ids=lambda entry: entry.code)
def test_french_text_differs_from_english(entry: CatalogueEntry) -> None:
    english = _fields(entry.text(Language.EN))
    french = _fields(entry.text(Language.FR))
    for en_field, fr_field in zip(english, french, strict=True):
        assert en_field != fr_field, (entry.code, en_field)


def test_text_falls_back_to_english() -> None:
    english = Explanation(title="Title", meaning="Meaning.", next_step="Next step.")
    entry = CatalogueEntry(
        code="X",
        category=ErrorCategory.REFUSED,
        retry_can_help=False,
        texts=MappingProxyType({Language.EN: english}),
    )
    assert entry.text(Language.FR) is english
    assert entry.text(Language.EN) is english


def test_timeout_text_does_not_claim_the_cancellation_failed() -> None:
    entry = FAILURES[FailureKind.TIMEOUT]
    english = entry.text(Language.EN)
    assert "may or may not" in english.meaning
    assert "fail" not in " ".join(_fields(english)).lower()
    for language in Language:
        assert "MouvONE" in entry.text(language).next_step


# --- Look-ups ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["NOT_A_REAL_CODE", "", "r0008", " R0008", "R0010"])
def test_entry_for_unknown_code_is_the_unknown_code_entry(code: str) -> None:
    assert entry_for_code(code) is FAILURES[FailureKind.UNKNOWN_CODE]
    assert not is_documented(code)


@pytest.mark.parametrize("code", EXPECTED_CODES)
def test_entry_for_documented_code(code: str) -> None:
    assert entry_for_code(code) is CATALOGUE[code]
    assert is_documented(code)


def test_failure_kind_values_are_not_documented_codes() -> None:
    for kind in FailureKind:
        assert not is_documented(kind.value)
        assert entry_for_code(kind.value) is FAILURES[FailureKind.UNKNOWN_CODE]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("fr-FR", Language.FR),
        ("fr-CA", Language.FR),
        ("fr_BE", Language.FR),
        ("fr", Language.FR),
        ("FR-fr", Language.FR),
        (" fr-FR ", Language.FR),
        ("en-GB", Language.EN),
        ("en-US", Language.EN),
        ("en", Language.EN),
    ],
)
def test_parse_language_known_locales(value: str, expected: Language) -> None:
    assert parse_language(value) is expected
    assert parse_language(value, Language.FR) is expected


@pytest.mark.parametrize("value", ["de-DE", None, "", "   ", "french", "es"])
def test_parse_language_unknown_gives_the_default(value: str | None) -> None:
    assert parse_language(value) is Language.EN
    assert parse_language(value, Language.FR) is Language.FR
    assert parse_language(value, default=Language.EN) is Language.EN


# --- Categories and retry ----------------------------------------------------------------------


def test_key_categories() -> None:
    assert CATALOGUE["ORDER_ALREADY_CANCELED"].category is ErrorCategory.ALREADY_DONE
    for code in ("R0008", "R0009", "CANNOT_CANCEL_NOT_MASTER_ORDER"):
        assert CATALOGUE[code].category is ErrorCategory.REFUSED, code
    assert CATALOGUE["ORGANIZATION_ACTOR_CODE_INVALID"].category is ErrorCategory.ACCOUNT


def test_create_update_search_codes_are_unexpected() -> None:
    unexpected = {
        code for code, entry in CATALOGUE.items() if entry.category is ErrorCategory.UNEXPECTED
    }
    assert unexpected == NOT_CANCEL_CODES
    for code in unexpected:
        assert not CATALOGUE[code].retry_can_help, code


def test_only_failure_kinds_use_the_transient_category() -> None:
    for entry in CATALOGUE.values():
        assert entry.category is not ErrorCategory.TRANSIENT, entry.code


def test_retry_can_help() -> None:
    retry_helps = {
        FailureKind.TIMEOUT,
        FailureKind.SERVER_ERROR,
        FailureKind.RATE_LIMITED,
        FailureKind.CONNECTION_FAILED,
        FailureKind.REQUEST_TIMEOUT_STATUS,
    }
    for kind in retry_helps:
        assert FAILURES[kind].retry_can_help, kind
        assert FAILURES[kind].category is ErrorCategory.TRANSIENT, kind
    assert CATALOGUE["R0008"].retry_can_help  # the carrier may refuse, the status may change
    assert CATALOGUE["CONFLICT"].retry_can_help
    for code in ("ORDER_ALREADY_CANCELED", "R0009", "CANNOT_CANCEL_NOT_MASTER_ORDER"):
        assert not CATALOGUE[code].retry_can_help, code
    for entry in ALL_ENTRIES:
        if entry.category is ErrorCategory.ACCOUNT:
            assert not entry.retry_can_help, entry.code
