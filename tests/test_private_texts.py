"""The private surfaces in both languages: private replies, direct messages, modals, the App
Home and the audit answers. Each builder is rendered in EN and FR; the French rendering must
hold no English sentence of the phrase files (and the English none of the French ones)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.domain.approval import Denial
from bot.domain.channels import ChannelRefusal
from bot.domain.commands import UsageError, UsageProblem, parse_cancel_command
from bot.domain.events import EventKind
from bot.domain.history import RequestHistory
from bot.domain.preview import Preview, PreviewState
from bot.domain.requests import CancelRequest, RequestEvent, RequestStatus
from bot.i18n.catalogue import CATALOGUE, FAILURES, Language
from bot.i18n.texts import DATA_DIR, TEXTS, placeholders
from bot.slack.ids import BlockId, InputActionId
from bot.slack.messages import audit, dm, home, modals, preview, private, request_form
from bot.slack.messages.mrkdwn import Rendered
from tests.test_blocks import bulk_orders

ROOT = Path(__file__).resolve().parents[1]
MY_FILES = ("private.toml", "dm.toml", "modals.toml", "home.toml", "audit.toml")
S = RequestStatus
AT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
PATTERN = re.compile(r"CDE\d{10}", re.IGNORECASE)
PERMALINK = "https://example.slack.com/archives/C0CHANNEL1/p1700000000000001"
APPROVERS = ("U0APPROVE1", "S0APPROVER")
OTHER = {Language.EN: Language.FR, Language.FR: Language.EN}


def make_request(status: RequestStatus = S.PENDING, **changes: Any) -> CancelRequest:
    request = CancelRequest(
        id="0123456789abcdef0123456789abcdef",
        order_id="CDE0000000001",
        channel_id="C0CHANNEL1",
        requester_id="U0REQUEST1",
        reason="customer asked",
        status=status,
        created_at=AT,
        updated_at=AT,
        message_ts="1700000000.000100",
    )
    if status is not S.PENDING:
        request = dataclasses.replace(request, decided_by="U0APPROVE1", decided_at=AT)
    return dataclasses.replace(request, **changes)


def requests() -> Iterator[CancelRequest]:
    """One request per status, as the service leaves it, and a few variants."""
    for status in S:
        yield make_request(status, decision_note="wrong order", outcome_at=AT)
    yield make_request(S.FAILED, outcome_code="R0008", outcome_message="Commande en cours")
    yield make_request(S.UNKNOWN, outcome_failure="timeout")
    yield make_request(S.SUCCEEDED, outcome_note="a note the bot did not write")
    yield make_request(S.PENDING, approved_by="U0APPROVE1", reason="")
    for status in S:  # bulk requests: DMs, lists and the App Home summarise them with totals
        yield make_request(status, outcome_at=AT, orders=bulk_orders(12))


def rendered(language: Language) -> Iterator[tuple[str, Any]]:
    """(name, what Slack receives) for every private builder, in `language`."""
    for request in requests():
        name = f"{request.status}"
        yield f"decided-dm[{name}]", dm.build_decided_dm(request, PERMALINK, language)
        yield f"finished-dm[{name}]", dm.build_finished_dm(request, PERMALINK, language)
        yield f"click-lost-dm[{name}]", dm.build_click_lost_dm(request, PERMALINK, language)
        yield f"not-posted-dm[{name}]", dm.build_not_posted_dm(request, PERMALINK, language)
        yield f"duplicate[{name}]", private.build_duplicate_text(request, PERMALINK, language).text
        for posted in (True, False):
            left_out = private.build_left_out_text(
                [("CDE0000000002", request, PERMALINK)], language, posted=posted
            )
            yield f"left-out[{name}, {posted}]", left_out.text
        yield f"already-decided[{name}]", private.already_decided_text(request, language)
        events = [RequestEvent(request.id, AT, kind, "U0APPROVE1", None) for kind in KINDS]
        # At most MAX_EVENTS_SHOWN events of a request are shown: every kind over two.
        half = len(events) // 2
        history = [
            RequestHistory(request, events[:half]),
            RequestHistory(request, events[half:]),
            RequestHistory(request, events),  # too many: the earliest are counted, not shown
        ]
        yield f"status[{name}]", audit.build_status_blocks("CDE1", history, {request.id}, language)
    request = make_request(approved_by="U0APPROVE1")
    for denial in [*Denial, None]:
        yield f"denial[{denial}]", private.denial_text(denial, request, APPROVERS, language).text
    yield "gone", private.already_decided_text(None, language)
    yield "counted", private.approval_counted_text(request, 2, language).text
    yield "click-not-taken", private.click_not_taken_text(language).text
    not_found = Preview(PreviewState.BLOCKED, code="CUSTOMER_ORDER_NOT_FOUND")
    skipped = [("CDE0000000002", not_found)]
    yield "bulk-not-requested", preview.build_bulk_not_requested_reply(skipped, language)
    for problem in UsageProblem:
        error = UsageError(problem, length=1001, limit=1000, count=21, token="CDE1")
        shown = private.usage_problem_text(error, language)
        yield f"usage[{problem}]", private.build_usage_blocks(shown, r"CDE\d{10}", language).blocks
        yield f"form-problem[{problem}]", request_form.form_problem_text(error, language)
    yield "help", private.usage_text(r"CDE\d{10}", language)
    yield (
        "missing-reason",
        private.build_usage_blocks(
            private.missing_reason_text(language), r"CDE\d{10}", language
        ).blocks,
    )
    yield "not-in-a-channel", private.not_in_a_channel_text(language).text
    yield (
        "channel-refusal",
        private.channel_refusal_text(["C0CHANNEL1", "C0OTHER01"], language).text,
    )
    yield "list-in-a-dm", private.list_in_a_dm_text(language).text
    yield "not-posted", private.build_not_posted_text("not_in_channel", language).text
    yield "not-posted-failed", private.build_not_posted_text("fatal_error", language).text
    yield "error", private.unexpected_error_text("ab12cd34", language).text
    yield "pointer", dm.build_approval_pointer(request, "C0APPROVAL", PERMALINK, language).text
    yield "asked-in", dm.asked_in_context("C0CHANNEL1", language)
    yield "reject-modal", modals.build_reject_modal(request, language)
    yield "request-modal", request_form.build_request_modal("C0CHANNEL1", language)
    yield "form-in-a-dm", request_form.form_refusal_text(ChannelRefusal.NOT_A_CHANNEL, language)
    yield "form-elsewhere", request_form.form_refusal_text(ChannelRefusal.NOT_ALLOWED, language)
    for order, category, details in [
        ("CDE0000000001", None, "x"),
        ("CDE0000000001", "other", ""),
        ("CDE0000000001 CDE0000000002", "wrong_data", ""),
        ("nope", "wrong_data", ""),
    ]:
        view = form_view(order, category, details)
        yield f"form[{order},{category}]", request_form.parse_request_form(view, PATTERN, language)
    mine = [make_request(status) for status in S]
    for is_approver, waiting in [(True, mine[:2]), (True, []), (False, [])]:
        yield (
            f"home[{is_approver},{len(waiting)}]",
            home.build_home_view(
                is_approver=is_approver,
                waiting=waiting,
                mine=mine,
                updated_at=AT,
                language=language,
            ),
        )
    yield (
        "home-empty",
        home.build_home_view(
            is_approver=False, waiting=[], mine=[], updated_at=AT, language=language
        ),
    )
    yield "status-none", audit.build_status_blocks("CDE1", [], set(), language)
    yield "list", audit.build_list_blocks("C0CHANNEL1", mine, language, more=True)
    yield "list-none", audit.build_list_blocks("C0CHANNEL1", [], language, more=False)


# The event kinds the code writes: EventKind is their one list (tests/test_event_kinds.py).
KINDS = sorted(kind.value for kind in EventKind)


def form_view(order: str, category: str | None, details: str) -> dict[str, Any]:
    """A submitted request form, as Slack sends its state."""
    selected = {"value": category} if category else None
    values = {
        BlockId.REQUEST_ORDER.value: {InputActionId.REQUEST_ORDER.value: {"value": order}},
        BlockId.REQUEST_REASON.value: {InputActionId.REQUEST_REASON.value: {"value": details}},
        BlockId.REQUEST_CATEGORY.value: {
            InputActionId.REQUEST_CATEGORY.value: {"selected_option": selected}
        },
    }
    return {"state": {"values": values}}


def strings(thing: Any) -> Iterator[str]:
    """Every text a reader could see in a builder's result (Block Kit objects, views, tuples)."""
    if isinstance(thing, Rendered):
        yield thing.text
        yield from strings(thing.blocks)
        return
    if hasattr(thing, "to_dict"):
        thing = thing.to_dict()
    if isinstance(thing, str):
        yield thing
    elif isinstance(thing, dict):
        for value in thing.values():
            yield from strings(value)
    elif isinstance(thing, list | tuple):
        for item in thing:
            yield from strings(item)


def sentences(language: Language, files: tuple[str, ...] = MY_FILES) -> set[str]:
    """The pieces of 3 words or more, between placeholders and line breaks, of every phrase of
    this surface's data files (`files`) whose two languages differ."""
    found = set()
    for name in files:
        data = tomllib.loads((DATA_DIR / name).read_text(encoding="utf-8"))
        for phrase in _phrases(data):
            if phrase["en"] == phrase["fr"]:
                continue
            # Emoji codes (`:warning:`) are the same in every language: pieces end there too.
            for piece in re.split(r"\{\w+\}|\n|:[a-z_]+:", phrase[language.value]):
                if len(re.findall(r"[^\W\d_]{2,}", piece)) >= 3:
                    found.add(piece.strip())
    return found


def _phrases(table: dict[str, Any]) -> Iterator[dict[str, str]]:
    for value in table.values():
        if "en" in value:
            yield value
        else:
            yield from _phrases(value)


def catalogue_titles(language: Language) -> set[str]:
    """The titles of MouvONE's codes and failure kinds: the one line a DM or an audit shows."""
    entries = [*CATALOGUE.values(), *FAILURES.values()]
    return {e.text(language).title for e in entries if e.text(Language.EN) != e.text(Language.FR)}


@pytest.mark.parametrize("language", list(Language))
def test_no_sentence_of_the_other_language_is_left(language: Language) -> None:
    foreign = sentences(OTHER[language]) | catalogue_titles(OTHER[language])
    own = sentences(language)
    assert foreign and own
    seen_own: set[str] = set()
    for name, result in rendered(language):
        shown = "\n".join(strings(result))
        left = sorted(s for s in foreign if s in shown)
        assert left == [], (name, left)
        seen_own.update(s for s in own if s in shown)
    # The rendering covers the phrase files: a phrase no builder uses would be dead.
    assert sorted(own - seen_own) == []


def test_no_phrase_is_left_untranslated() -> None:
    """A phrase of 3 words or more that reads the same in both languages was not translated."""
    for name in MY_FILES:
        data = tomllib.loads((DATA_DIR / name).read_text(encoding="utf-8"))
        for phrase in _phrases(data):
            if len(re.findall(r"[^\W\d_]{2,}", phrase["en"])) >= 3:
                assert phrase["en"] != phrase["fr"], (name, phrase["en"])


def test_every_status_and_event_kind_has_its_words() -> None:
    for language in Language:
        for status in S:
            assert audit.status_label(status, language).split(" ", 1)[1]
        for kind in KINDS:
            assert f"audit.event.{kind}" in TEXTS, kind
            assert audit.event_label(kind, language) != kind.replace("_", " ") or kind in {
                "requested",
                "approved",
                "rejected",
                "withdrawn",
                "expired",
            }


def test_only_emitted_event_kinds_have_words() -> None:
    labelled = {key.removeprefix("audit.event.") for key in TEXTS if key.startswith("audit.event.")}
    assert labelled - {"by"} == set(KINDS)
    assert "cancel_resent" not in labelled


def test_every_usage_problem_and_reason_category_has_its_phrase() -> None:
    for problem in UsageProblem:
        phrase = TEXTS.phrase(problem.value)
        assert placeholders(phrase.en) <= {"length", "limit", "token", "command", "count"}
    for category in request_form.REASON_CATEGORIES:
        assert f"modals.request.category.{category}" in TEXTS


def test_usage_problems_escape_what_was_typed() -> None:
    with pytest.raises(UsageError) as caught:
        parse_cancel_command("<!channel>", PATTERN)
    for language in Language:
        shown = private.usage_problem_text(caught.value, language)
        assert "<!channel>" not in shown and "&lt;!channel&gt;" in shown
        # A modal's error is plain text: shown as typed, without inline code.
        plain = request_form.form_problem_text(caught.value, language)
        assert "<!channel>" in plain and "`" not in plain


def test_modal_texts_fit_slack_limits() -> None:
    for language in Language:
        for view in (
            modals.build_reject_modal(make_request(), language),
            request_form.build_request_modal("C0CHANNEL1", language),
        ):
            view.validate_json()
            assert view.title is not None and view.submit is not None and view.close is not None
            for text in (view.title, view.submit, view.close):
                assert len(text.text) <= modals.MODAL_TITLE_LIMIT, text.text
                assert not text.text.endswith("…"), text.text  # fits without being cut


@pytest.mark.parametrize("denial", [*Denial, None])
@pytest.mark.parametrize("with_request", [True, False])
def test_denial_text_is_never_empty(denial: Denial | None, with_request: bool) -> None:
    request = make_request(S.APPROVED) if with_request else None
    for language in Language:
        assert private.denial_text(denial, request, APPROVERS, language).text.strip()


def test_not_approver_text_names_the_approvers() -> None:
    for language in Language:
        text = private.denial_text(Denial.NOT_APPROVER, make_request(), APPROVERS, language).text
        assert "<@U0APPROVE1>" in text and "<!subteam^S0APPROVER>" in text


@pytest.mark.parametrize(
    ("status", "english", "french"),
    [
        (S.APPROVED, "already approved", "déjà été approuvée"),
        (S.REJECTED, "already rejected", "déjà été rejetée"),
        (S.WITHDRAWN, "already withdrawn", "déjà été retirée"),
    ],
)
def test_already_decided_text_says_who_and_what(
    status: RequestStatus, english: str, french: str
) -> None:
    request = make_request(status)
    assert english in private.already_decided_text(request, Language.EN)
    text = private.already_decided_text(request, Language.FR)
    assert french in text and "par <@U0APPROVE1>" in text


def test_not_posted_text_escapes_the_error() -> None:
    for language in Language:
        text = private.build_not_posted_text("<!channel>", language).text
        assert "<!channel>" not in text and "/invite" not in text  # Slack failed: try again
        assert "/invite" in private.build_not_posted_text("not_in_channel", language).text
