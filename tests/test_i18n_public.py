"""What the whole channel reads, rendered in both languages: the request message in every state
(with its preview in every state, buttons and confirm dialogs), and every thread reply (every
catalogue code and failure kind, every note). The French rendering must hold no English
sentence of the phrase files or the catalogue."""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain.preview import Preview, PreviewState, preview_of
from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import (
    CATALOGUE,
    DOCUMENTED_CODES,
    FAILURES,
    CatalogueError,
    FailureKind,
    Language,
    load_catalogue,
)
from bot.i18n.notes import OutcomeNote, note_text, order_status_note, parse_note
from bot.i18n.texts import TEXTS, say
from bot.slack.messages import blocks as request_blocks
from bot.slack.messages import bulk as bulk_blocks
from bot.slack.messages import preview as preview_blocks
from bot.slack.messages import thread as thread_blocks
from bot.slack.messages.status import STATUS_WORDS, status_words
from bot.soget.errors import SogetApiError
from bot.soget.models import CustomerOrder
from tests.test_blocks import APPROVERS, DECIDED, bulk_request, make_request, realistic, texts

S = RequestStatus
ORDER_JSON = {
    "customerOrderId": "CDE0000000001",
    "type": "Master",
    "status": "Valid",
    "transportOrderNumber": "TOC-02-03-2022",
    "container": {"reference": "CGMU2436601", "type": "45G1"},
    "contractor": {"code": "FWD01", "name": "Forwarder One"},
    "carrier": {"code": "CAR01"},
    "date": "2026-11-20T08:00:00Z",
}
PREVIEWS = {
    "ready": preview_of(CustomerOrder.model_validate(ORDER_JSON)),
    "not-master": preview_of(CustomerOrder.model_validate(ORDER_JSON | {"type": "Segment"})),
    "in-progress": preview_of(CustomerOrder.model_validate(ORDER_JSON | {"status": "InProcess"})),
    "unavailable-code": Preview(PreviewState.UNAVAILABLE, code="ACTOR_NOT_FOUND"),
    "unavailable-failure": Preview(PreviewState.UNAVAILABLE, failure=FailureKind.SERVER_ERROR),
    "unavailable": Preview(PreviewState.UNAVAILABLE),
}


def _with_preview(request: CancelRequest, preview: Preview) -> CancelRequest:
    columns = preview.columns(DECIDED)
    order = columns.pop("preview_order")
    stored = CustomerOrder.model_validate_json(order) if order else None
    return dataclasses.replace(request, preview_order=stored, **columns)


def _requests() -> Iterator[tuple[str, CancelRequest]]:
    """Requests as the service leaves them: every status, awaiting a Retry, a quorum half-way,
    and a pending one with each preview."""
    for status in RequestStatus:
        yield status.value, realistic(status)
    yield (
        "awaiting-retry",
        make_request(S.APPROVED, outcome_failure="connection_failed", outcome_at=DECIDED),
    )
    yield "quorum", make_request(S.PENDING, approved_by="U0APPROVE1")
    yield "quorum-done", make_request(S.SUCCEEDED, approved_by="U0APPROVE2,U0APPROVE1")
    yield "no-reason", make_request(S.REJECTED, reason="", decision_note=None)
    yield "withdrawn-silent", make_request(S.WITHDRAWN, decision_note=None)
    for name, preview in PREVIEWS.items():
        yield f"preview-{name}", _with_preview(make_request(S.PENDING), preview)


def _outcomes() -> Iterator[tuple[str, CancelRequest]]:
    for code in DOCUMENTED_CODES:
        status = S.SUCCEEDED if code == "ORDER_ALREADY_CANCELED" else S.FAILED
        yield (
            code,
            make_request(
                status,
                outcome_code=code,
                outcome_message="Erreur",
                outcome_timestamp="2024-05-06T07:18:10Z",
                outcome_http_status=400,
                outcome_at=DECIDED,
            ),
        )
    for kind in FailureKind:
        for status in (S.FAILED, S.UNKNOWN, S.APPROVED):
            yield (
                f"{kind.value}-{status.value}",
                make_request(
                    status, outcome_failure=kind.value, outcome_http_status=503, outcome_at=DECIDED
                ),
            )
    for note in OutcomeNote:
        stored = order_status_note("Accepted") if note is OutcomeNote.ORDER_STATUS else note.value
        yield f"note-{note.value}", make_request(S.SUCCEEDED, outcome_note=stored)


def render_all(language: Language) -> Iterator[tuple[str, str]]:
    """(what, the text a reader sees) for every public rendering in `language`."""
    for name, request in _requests():
        shown = request_blocks.build_request_blocks(
            request, APPROVERS, required_approvals=2, language=language
        ).blocks
        yield f"request[{name}]", texts(shown)
        yield f"summary[{name}]", request_blocks.request_summary_text(request, language)
        yield (
            f"reminder[{name}]",
            thread_blocks.build_reminder_text(request, APPROVERS, language).text,
        )
    for name, request in _outcomes():
        built = request_blocks.build_outcome_blocks(request, language)
        fallback, shown = built.text, built.blocks
        yield f"outcome[{name}]", fallback + "\n" + texts(shown)
        if request.status is S.UNKNOWN or request.outcome_note:
            yield f"verified[{name}]", thread_blocks.build_verified_text(request, language).text
    for note in ("order_unreadable", order_status_note("Accepted"), None):
        request = make_request(S.UNKNOWN, outcome_failure="timeout", outcome_note=note)
        yield f"verified[{note}]", thread_blocks.build_verified_text(request, language).text
    for name in ("rejected", "rejected-silent"):
        note = "not this one" if name == "rejected" else None
        reply = request_blocks.build_rejection_reply(
            make_request(S.REJECTED, decision_note=note), language
        ).text
        yield f"rejection[{name}]", reply
    for preview in (PREVIEWS["not-master"], PREVIEWS["in-progress"]):
        built = thread_blocks.build_send_anyway(make_request(), preview, language)
        fallback, shown = built.text, built.blocks
        yield f"send-anyway[{preview.code}]", fallback + "\n" + texts(shown)
    blocked = [
        preview_of(
            SogetApiError(
                http_status=400,
                code="CUSTOMER_ORDER_NOT_FOUND",
                message="introuvable",
                timestamp=None,
            )
        ),
        preview_of(CustomerOrder.model_validate(ORDER_JSON | {"status": "Cancelled"})),
    ]
    for preview in blocked:
        built = preview_blocks.build_not_requested_reply("CDE0000000001", preview, language)
        fallback, shown = built.text, built.blocks
        yield f"not-requested[{preview.code}]", fallback + "\n" + texts(shown)
    for status in RequestStatus:
        yield f"status-words[{status.value}]", status_words(status, language)
    for status in (*RequestStatus, "awaiting-retry"):
        request = (
            bulk_request(S.APPROVED, outcome_at=DECIDED)
            if status == "awaiting-retry"
            else bulk_request(S(status))
        )
        built = request_blocks.build_request_blocks(
            request, APPROVERS, required_approvals=1, language=language
        )
        yield f"bulk-request[{status}]", built.text + "\n" + texts(built.blocks)
        summary = bulk_blocks.build_summary_reply(request, language)
        yield f"bulk-summary[{status}]", summary.text + "\n" + texts(summary.blocks)


def _english_sentences() -> set[str]:
    """Every English run of 3+ words of the phrase files and the catalogue, except those the
    French text has too (names such as "MouvONE", codes)."""
    pairs = [(TEXTS.phrase(key).en, TEXTS.phrase(key).fr) for key in TEXTS]
    for entry in [*CATALOGUE.values(), *FAILURES.values()]:
        english, french = entry.text(Language.EN), entry.text(Language.FR)
        pairs += [
            (english.title, french.title),
            (english.meaning, french.meaning),
            (english.next_step, french.next_step),
        ]
    sentences = set()
    for en, fr in pairs:
        for literal, *_ in string.Formatter().parse(en):
            for run in re.split(r"[`*_:;.,()—…“”\n]+", literal):
                run = run.strip()
                if len(re.findall(r"[A-Za-z']+", run)) >= 3 and run not in fr:
                    sentences.add(run)
    return sentences


ENGLISH = _english_sentences()
FRENCH_RENDERINGS = list(render_all(Language.FR))


def test_the_english_sentences_are_found_in_the_english_rendering() -> None:
    # The check below is only as good as its list: it must catch English where English is.
    english = "\n".join(shown for _what, shown in render_all(Language.EN))
    found = {sentence for sentence in ENGLISH if sentence in english}
    assert len(ENGLISH) > 150
    assert len(found) > 100
    assert "waiting for approval" in found and "the cancel would be refused" in found


@pytest.mark.parametrize(
    ("what", "shown"), FRENCH_RENDERINGS, ids=[w for w, _ in FRENCH_RENDERINGS]
)
def test_french_rendering_has_no_english_sentence(what: str, shown: str) -> None:
    leaks = sorted(sentence for sentence in ENGLISH if sentence in shown)
    assert leaks == [], what


def test_french_request_message_buttons_and_dialogs() -> None:
    shown = texts(
        request_blocks.build_request_blocks(make_request(), APPROVERS, language=Language.FR).blocks
    )
    for words in (
        "Annuler la commande CDE0000000001 ?",
        "*Demandée par*",
        "*Motif*",
        "En attente d'approbation",
        "Approuver",
        "Refuser",
        "Retirer",
        "Annuler cette commande ?",
        "Oui, l'annuler",
        "Retour",
        "Demande `",
    ):
        assert words in shown, words
    retry = make_request(S.UNKNOWN, outcome_failure="timeout", outcome_at=DECIDED)
    shown = texts(
        request_blocks.build_request_blocks(retry, APPROVERS, language=Language.FR).blocks
    )
    assert "Réessayer" in shown and "Renvoyer l'annulation ?" in shown


# -- one status table ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(Language))
def test_every_status_has_its_words_in_the_one_table(language: Language) -> None:
    assert set(STATUS_WORDS) == set(RequestStatus)
    for status, (emoji, key) in STATUS_WORDS.items():
        assert key in TEXTS, status
        assert status_words(status, language) == f"{emoji} {say(key, language)}"
    assert "expir" in status_words(S.EXPIRED, language)


# -- outcome notes: keys stored, sentences rendered ---------------------------------------------


def test_every_note_has_its_phrase_in_both_languages() -> None:
    for note in OutcomeNote:
        assert f"note.{note.value}" in TEXTS, note
        stored = order_status_note("Accepted") if note is OutcomeNote.ORDER_STATUS else note.value
        assert note_text(stored, Language.EN) != note_text(stored, Language.FR)


@pytest.mark.parametrize(
    ("legacy", "note", "french"),
    [
        (
            "MouvONE says it was already cancelled before this request",
            OutcomeNote.ALREADY_CANCELLED,
            "déjà annulée avant cette demande",
        ),
        (
            "MouvONE says it was already cancelled: an earlier attempt, whose answer was lost or "
            "an error, probably went through",
            OutcomeNote.EARLIER_ATTEMPT,
            "tentative précédente",
        ),
        (
            "confirmed by reading the order: the first attempt, whose answer was lost or an error, "
            "probably went through",
            OutcomeNote.CONFIRMED_BY_READING,
            "confirmé en relisant",
        ),
        (
            "the bot stopped while the cancel was on its way to MouvONE",
            OutcomeNote.INTERRUPTED,
            "le bot s'est arrêté",
        ),
        ("the order could not be read", OutcomeNote.ORDER_UNREADABLE, "n'a pas pu être lue"),
        (
            "the order's status is InProcess",
            OutcomeNote.ORDER_STATUS,
            "le statut de la commande est InProcess",
        ),
    ],
)
def test_notes_stored_as_sentences_by_earlier_versions_are_translated(
    legacy: str, note: OutcomeNote, french: str
) -> None:
    assert parse_note(legacy) is not None and parse_note(legacy)[0] is note  # type: ignore[index]
    assert note_text(legacy, Language.EN) == legacy
    assert french in note_text(legacy, Language.FR)
    request = make_request(S.SUCCEEDED, outcome_note=legacy)
    built = request_blocks.build_outcome_blocks(request, Language.FR)
    _fallback, shown = built.text, built.blocks
    assert french in texts(shown) and legacy not in texts(shown)


def test_a_note_the_bot_never_wrote_is_shown_as_is() -> None:
    assert parse_note("written by hand") is None
    assert note_text("written by hand", Language.FR) == "written by hand"


# -- the catalogue's data file ------------------------------------------------------------------

_ENTRY = """
[codes.X]
category = "refused"
retry_can_help = false
[codes.X.en]
title = "T"
meaning = "M"
next_step = "N"
[codes.X.fr]
title = "T"
meaning = "M"
next_step = "N"
"""


def _failures(*, drop: str | None = None) -> str:
    tables = []
    for kind in FailureKind:
        if kind.value == drop:
            continue
        tables.append(f'[failures.{kind.value}]\ncategory = "transient"\nretry_can_help = true\n')
        for language in ("en", "fr"):
            tables.append(
                f'[failures.{kind.value}.{language}]\ntitle = "T"\nmeaning = "M"\nnext_step = "N"\n'
            )
    return "\n".join(tables)


def test_the_catalogue_file_loads_as_the_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(_ENTRY + _failures(), encoding="utf-8")
    codes, failures = load_catalogue(path)
    assert list(codes) == ["X"] and set(failures) == set(FailureKind)
    assert codes["X"].text(Language.FR).next_step == "N"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (_ENTRY.replace('[codes.X.fr]\ntitle = "T"\n', "[codes.X.fr]\n"), "title"),
        (_ENTRY.split("[codes.X.fr]")[0], "fr"),
        (_ENTRY.replace('"refused"', '"maybe"'), "category"),
        (_ENTRY.replace("retry_can_help = false\n", ""), "retry_can_help"),
        (_ENTRY.replace('meaning = "M"', 'meaning = ""', 1), "meaning"),
        (_ENTRY + "[codes.Y]\n", "codes.Y|Y"),
    ],
    ids=["no-title", "no-french", "bad-category", "no-retry-flag", "empty-text", "empty-code"],
)
def test_an_incomplete_catalogue_stops_the_start(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(text + _failures(), encoding="utf-8")
    with pytest.raises(CatalogueError, match=problem):
        load_catalogue(path)


def test_a_failure_kind_missing_from_the_catalogue_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.toml"
    path.write_text(_ENTRY + _failures(drop="timeout"), encoding="utf-8")
    with pytest.raises(CatalogueError, match="timeout"):
        load_catalogue(path)
