"""The search's private replies and choice modal: both languages, every phrase used, and
Slack's limits with 200 orders of hostile text (10 options a checkboxes element, 75 characters
an option, 50 blocks a message, 100 a view, escaping)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.domain.containers import ContainerNumberError, ContainerProblem
from bot.domain.search import (
    SearchArgs,
    SearchFailed,
    SearchInputError,
    SearchInputProblem,
    SearchKind,
    SelectionProblem,
    offer_of,
)
from bot.i18n.catalogue import FailureKind, Language
from bot.slack.messages import private
from bot.slack.messages import search as search_messages
from bot.slack.messages.mrkdwn import Rendered
from bot.soget.models import CustomerOrder
from tests.test_block_limits import (
    TEXTS,
    hostile_order,
    limit_breaches,
    markup_faults,
    mrkdwn_texts,
)
from tests.test_private_texts import OTHER, sentences, strings

ARGS = SearchArgs(SearchKind.CONTAINER, "CSQU3054383")
TRANSPORT = SearchArgs(SearchKind.TRANSPORT, "TOC-02-03-2022")


def order(number: int, status: str = "Valid", type_: str = "Master") -> CustomerOrder:
    return CustomerOrder.model_validate(
        {"customerOrderId": f"CDE{number:010d}", "type": type_, "status": status}
    )


MIXED = [
    order(1),
    order(2, "Submitted"),
    order(3, "Cancelled"),
    order(4, type_="Elementary"),
    *(order(n) for n in range(5, 30)),
]


def rendered(language: Language) -> Iterator[tuple[str, Any]]:
    for problem in SearchInputProblem:
        for kind in SearchKind:
            refused = SearchInputError(problem, kind)
            yield f"input[{problem},{kind}]", search_messages.search_input_text(refused, language)
    checks = (
        ContainerNumberError(ContainerProblem.SHAPE, "CSQU30"),
        ContainerNumberError(ContainerProblem.CATEGORY, "CSQX3054383"),
        ContainerNumberError(
            ContainerProblem.CHECK_DIGIT,
            "CSQU3054338",
            expected_check_digit=6,
            transpositions=("CSQU3054383",),
        ),
    )
    for error in checks:
        yield f"container[{error.problem}]", search_messages.search_input_text(error, language)
    for args in (ARGS, TRANSPORT):
        yield "searching", search_messages.searching_text(args, language)
        offer = offer_of(MIXED, total=250, capped=True, limit=20)
        yield "found", search_messages.build_search_result(args, offer, language)
        cancelled = offer_of([order(3, "Cancelled")], total=1, capped=False, limit=20)
        yield "all-cancelled", search_messages.build_search_result(args, cancelled, language)
        empty = offer_of([], total=0, capped=False, limit=20)
        yield "nothing", search_messages.build_search_result(args, empty, language)
        for failed in (
            SearchFailed(code="ORGANIZATION_NOT_FOUND"),
            SearchFailed(failure=FailureKind.TIMEOUT),
        ):
            yield "failed", search_messages.build_search_failed(args, failed, language)
            yield "failed-modal", search_messages.build_choice_failed_modal(args, failed, language)
        yield "loading", search_messages.build_choice_loading_modal(args, language)
        yield "not-opened", search_messages.choice_not_opened_text("expired_trigger_id", language)
        yield "choice", search_messages.build_choice_modal(args, offer, "{}", language)
        yield "choice-empty", search_messages.build_choice_modal(args, cancelled, "{}", language)
    for selection in SelectionProblem:
        yield (
            f"selection[{selection}]",
            search_messages.selection_error(selection, 25, 20, language),
        )
    yield "help", private.usage_text(r"CDE\d{10}", language)


@pytest.mark.parametrize("language", list(Language))
def test_each_language_is_shown_whole_and_every_phrase_is_used(language: Language) -> None:
    foreign = sentences(OTHER[language], ("search.toml",))
    own = sentences(language, ("search.toml",))
    assert foreign and own
    seen: set[str] = set()
    for name, result in rendered(language):
        shown = "\n".join(strings(result))
        assert [s for s in foreign if s in shown] == [], name
        seen.update(s for s in own if s in shown)
    assert sorted(own - seen) == []


def _checkbox_breaches(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _checkbox_breaches(item)
    elif isinstance(node, dict):
        if node.get("type") == "checkboxes":
            options = node["options"]
            if not 1 <= len(options) <= 10:
                yield f"checkboxes: {len(options)} options"
            for option in [*options, *(node.get("initial_options") or [])]:
                for part in ("text", "description"):
                    if part in option and len(option[part]["text"]) > 75:
                        yield f"option {part}: {len(option[part]['text'])} > 75"
        for value in node.values():
            yield from _checkbox_breaches(value)


@pytest.mark.parametrize("text", TEXTS[:5], ids=[f"text{i}" for i in range(5)])
def test_two_hundred_hostile_orders_stay_within_slack_limits(text: str) -> None:
    orders = []
    for number in range(200):
        hostile = hostile_order(text).model_copy(update={"customer_order_id": f"CDE{number:010d}"})
        if number % 3 == 0:
            hostile = hostile.model_copy(update={"status": "Valid", "type": "Master"})
        orders.append(hostile)
    offer = offer_of(orders, total=5000, capped=True, limit=20)
    args = SearchArgs(SearchKind.TRANSPORT, text[:256] or "x")
    problems: list[str] = []
    for language in Language:
        result = search_messages.build_search_result(args, offer, language)
        assert isinstance(result, Rendered)
        blocks = [block.to_dict() for block in result.blocks]
        if len(blocks) > 50:
            problems.append(f"result: {len(blocks)} blocks > 50")
        problems += list(limit_breaches(blocks))
        for shown in [*mrkdwn_texts(blocks), result.text]:
            problems += markup_faults(shown)
        view = search_messages.build_choice_modal(args, offer, "{}", language)
        assert isinstance(view, View)
        view.validate_json()
        as_sent = view.to_dict()
        problems += list(limit_breaches([as_sent]))
        problems += list(_checkbox_breaches(as_sent))
        for shown in mrkdwn_texts(as_sent):
            problems += markup_faults(shown)
        offered = [
            option["value"]
            for block in as_sent["blocks"]
            if block["type"] == "input" and block["element"]["type"] == "checkboxes"
            for option in block["element"]["options"]
        ]
        assert offered == [f.order_id for f in offer.offered]  # every one offered, none cut
    assert problems == [], problems[:10]


def test_the_modal_titles_and_buttons_fit_without_being_cut() -> None:
    offer = offer_of(MIXED, total=29, capped=False, limit=20)
    for language in Language:
        for view in (
            search_messages.build_choice_modal(ARGS, offer, "{}", language),
            search_messages.build_choice_loading_modal(ARGS, language),
        ):
            texts = [view.title, view.submit, view.close]
            for text in (t for t in texts if t is not None):
                assert len(text.text) <= 24 and not text.text.endswith("…"), text.text
