"""Each code the cancel can get is explained by what it means (soget-api.md and the SOGET docs
in seeds/), in English and French. The expectations are written here, not read from the
catalogue: swapping two codes' explanations must fail."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import Language
from bot.slack.messages.blocks import build_outcome_blocks

EN, FR = Language.EN, Language.FR
AT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)

# code → language → (patterns that must all appear, patterns that must not appear), in the
# title and meaning shown in the thread. Case-insensitive.
MEANINGS: dict[str, dict[Language, tuple[list[str], list[str]]]] = {
    "CUSTOMER_ORDER_NOT_FOUND": {
        EN: ([r"not found|no order"], [r"deliver", r"master"]),
        FR: ([r"introuvable|aucune commande"], [r"livr", r"master"]),
    },
    "WRONG_FORMAT": {
        EN: ([r"format", r"identifier"], [r"deliver"]),
        FR: ([r"format", r"identifiant"], [r"livr"]),
    },
    "CANNOT_CANCEL_NOT_MASTER_ORDER": {
        EN: ([r"\bMaster\b", r"Elementary|Segment"], [r"deliver", r"booking"]),
        FR: ([r"\bMaster\b", r"Elementary|Segment"], [r"livr", r"réservation"]),
    },
    "CANNOT_CANCEL_ORDER_WITH_ASSOCIATED_CONTAINER": {
        EN: ([r"container", r"booking"], [r"deliver", r"Submitted"]),
        FR: ([r"conteneur", r"réservation|booking"], [r"livr", r"Submitted"]),
    },
    "ORDER_ALREADY_CANCELED": {
        EN: ([r"already", r"cancel"], [r"deliver", r"booking"]),
        FR: ([r"déjà", r"annul"], [r"livr", r"réservation"]),
    },
    "R0008": {
        EN: ([r"Submitted", r"InProcess|in progress|being (processed|handled)"], [r"deliver"]),
        FR: ([r"Submitted", r"InProcess|en cours"], [r"livr"]),
    },
    "R0009": {
        EN: ([r"segment", r"delivered"], [r"Submitted", r"InProcess"]),
        FR: ([r"segment", r"livré"], [r"Submitted", r"InProcess"]),
    },
    "NOT_SUPPORTED_ORDER_TYPE": {
        EN: ([r"type of order|order type"], [r"deliver", r"booking"]),
        FR: ([r"type de commande"], [r"livr", r"réservation"]),
    },
    "CONFLICT": {
        EN: ([r"changed|modified", r"same time|while|someone else"], [r"deliver"]),
        FR: ([r"modifi", r"même moment|pendant|quelqu'un"], [r"livr"]),
    },
    "ORGANIZATION_NOT_FOUND": {
        EN: ([r"no organi[sz]ation|not attached to any organi[sz]ation"], [r"verified"]),
        FR: ([r"aucune organisation"], [r"vérifi"]),
    },
    "ORGANIZATION_ACTOR_CODE_INVALID": {
        EN: ([r"organi[sz]ation", r"verified"], [r"belongs to no"]),
        FR: ([r"organisation", r"vérifi"], [r"aucune organisation"]),
    },
    "USER_ID_INVALID": {
        EN: ([r"\buser\b"], [r"organi[sz]ation"]),
        FR: ([r"utilisateur"], [r"organisation"]),
    },
    "ACTOR_NOT_FOUND": {
        EN: ([r"part(y|ies)|actor", r"carrier|contractor"], [r"deliver"]),
        FR: ([r"intervenant|acteur", r"transporteur|donneur d'ordre"], [r"livr"]),
    },
}
CASES = [(code, language) for code, texts in MEANINGS.items() for language in texts]


def thread_reply(code: str, language: Language) -> str:
    request = CancelRequest(
        id="0123456789abcdef0123456789abcdef",
        order_id="CDE0000000001",
        channel_id="C0CHANNEL1",
        requester_id="U0REQUEST1",
        reason="customer asked",
        status=RequestStatus.FAILED,
        created_at=AT,
        updated_at=AT,
        decided_by="U0APPROVE1",
        decided_at=AT,
        outcome_code=code,
        outcome_http_status=400,
        outcome_at=AT,
    )
    built = build_outcome_blocks(request, language)
    _text, blocks = built.text, built.blocks
    section = blocks[0].to_dict()
    return str(section["text"]["text"]).split("\n", 1)[1]  # after the lead line


@pytest.mark.parametrize(("code", "language"), CASES, ids=[f"{c}-{lang}" for c, lang in CASES])
def test_each_cancel_code_says_what_it_means(code: str, language: Language) -> None:
    shown = thread_reply(code, language)
    present, absent = MEANINGS[code][language]

    for pattern in present:
        assert re.search(pattern, shown, re.IGNORECASE), f"{code} ({language}) lacks {pattern!r}"
    for pattern in absent:
        assert not re.search(pattern, shown, re.IGNORECASE), f"{code} ({language}) says {pattern!r}"


def test_each_code_is_explained_in_its_own_words() -> None:
    """No two codes share an explanation (a copy-paste slip would pass the keyword test)."""
    for language in Language:
        shown = [thread_reply(code, language) for code in MEANINGS]
        assert len(set(shown)) == len(shown), json.dumps(shown, ensure_ascii=False)[:500]


def test_the_french_is_french_and_the_english_english() -> None:
    for code in MEANINGS:
        assert re.search(r"\b(la|le|les|de|du|est|n'a)\b", thread_reply(code, FR))
        assert re.search(r"\b(the|this|is|was)\b", thread_reply(code, EN))
