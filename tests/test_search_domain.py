"""The search's pure rules: parsing, what is offered and ticked, the seal, a choice's checks."""

from __future__ import annotations

import re

import pytest

from bot.domain.commands import parse_cancel_command
from bot.domain.containers import ContainerNumberError
from bot.domain.search import (
    SearchArgs,
    SearchInputError,
    SearchInputProblem,
    SearchKind,
    SelectionProblem,
    offer_of,
    offer_seal,
    seal_holds,
    selection_problem,
)
from bot.soget.models import CustomerOrder

PATTERN = re.compile(r"CDE\d{10}", re.IGNORECASE)
KEY = b"k" * 32
ARGS = SearchArgs(SearchKind.CONTAINER, "CSQU3054383")


def order(order_id: str, status: str = "Valid", type_: str = "Master") -> CustomerOrder:
    return CustomerOrder.model_validate(
        {"customerOrderId": order_id, "type": type_, "status": status}
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("container CSQU3054383", ARGS),
        ("Container csqu 305438 3", ARGS),
        ("transport TOC-02-03-2022", SearchArgs(SearchKind.TRANSPORT, "TOC-02-03-2022")),
    ],
)
def test_the_search_subcommands(text: str, expected: SearchArgs) -> None:
    assert parse_cancel_command(text, PATTERN) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("container", SearchInputProblem.NEEDS_A_VALUE),
        ("transport", SearchInputProblem.NEEDS_A_VALUE),
        ("transport TOC-1 TOC-2", SearchInputProblem.ONE_VALUE),
        ("transport TOC–1", SearchInputProblem.NOT_A_TRANSPORT_ORDER),  # an en dash
    ],
)
def test_a_search_without_a_usable_value_is_refused(text: str, problem: SearchInputProblem) -> None:
    with pytest.raises(SearchInputError) as raised:
        parse_cancel_command(text, PATTERN)
    assert raised.value.problem is problem


def test_a_bad_container_number_is_refused_before_any_search() -> None:
    with pytest.raises(ContainerNumberError):
        parse_cancel_command("container MSCU1234565", PATTERN)


def test_an_order_id_is_still_an_order_id() -> None:
    parsed = parse_cancel_command("CDE0000000001 container lost", PATTERN)
    assert getattr(parsed, "order_id", None) == "CDE0000000001"


def test_the_offer_leaves_out_cancelled_orders_and_ticks_the_cancellable_up_to_the_limit() -> None:
    found = [
        order("CDE0000000001"),
        order("CDE0000000002", status="Cancelled"),
        order("CDE0000000003", status="Submitted"),
        order("CDE0000000004", type_="Elementary"),
        order("CDE0000000005", status="Accepted"),
        order("CDE0000000006", status="Draft"),
    ]
    offer = offer_of(found, total=6, capped=False, limit=2)

    assert [f.order_id for f in offer.offered] == [
        "CDE0000000001",
        "CDE0000000003",
        "CDE0000000004",
        "CDE0000000005",
        "CDE0000000006",
    ]
    assert [f.refusal for f in offer.found] == [
        None,
        "ORDER_ALREADY_CANCELED",
        "R0008",
        "CANNOT_CANCEL_NOT_MASTER_ORDER",
        None,
        None,
    ]
    assert offer.preselected == ("CDE0000000001", "CDE0000000005")  # the limit: 2


def test_the_seal_holds_only_for_what_was_sealed() -> None:
    ids = ["CDE0000000001", "CDE0000000002"]
    seal = offer_seal(KEY, user_id="U1", channel_id="C1", args=ARGS, order_ids=ids)

    def holds(**changes: object) -> bool:
        values: dict[str, object] = {
            "user_id": "U1",
            "channel_id": "C1",
            "args": ARGS,
            "order_ids": ids,
        }
        values.update(changes)
        return seal_holds(seal, KEY, **values)  # type: ignore[arg-type]

    assert holds()
    assert holds(order_ids=list(reversed(ids)))  # the order of the options does not matter
    assert not holds(order_ids=[*ids, "CDE0000000003"])
    assert not holds(order_ids=ids[:1])
    assert not holds(user_id="U2")
    assert not holds(channel_id="C2")
    assert not holds(args=SearchArgs(SearchKind.CONTAINER, "MSKU9070323"))
    assert not seal_holds(seal, b"x" * 32, user_id="U1", channel_id="C1", args=ARGS, order_ids=ids)


@pytest.mark.parametrize(
    ("selected", "problem"),
    [
        ([], SelectionProblem.NONE_CHOSEN),
        (["CDE0000000009"], SelectionProblem.NOT_OFFERED),
        (["CDE0000000001", "CDE0000000002", "CDE0000000003"], SelectionProblem.TOO_MANY),
        (["CDE0000000001", "CDE0000000002"], None),
    ],
)
def test_a_choice_is_at_least_one_offered_order_and_at_most_the_limit(
    selected: list[str], problem: SelectionProblem | None
) -> None:
    offered = ["CDE0000000001", "CDE0000000002", "CDE0000000003"]
    assert selection_problem(selected, offered, limit=2) is problem
