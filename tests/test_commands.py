"""Tests for bot.commands.parse_cancel_command: the `/cancel-order` text, without Slack."""

from __future__ import annotations

import re

import pytest

from bot.domain.commands import (
    MAX_COMMAND_LENGTH,
    MAX_REASON_LENGTH,
    CancelArgs,
    HelpArgs,
    Parsed,
    UsageError,
    UsageProblem,
    parse_cancel_command,
)
from bot.i18n.catalogue import Language
from bot.slack.messages.private import usage_problem_text

PATTERN = re.compile(r"CDE\d{10}", re.I)
ORDER = "CDE0000000001"
OTHER = "CDE0000000002"


def parse(text: str) -> Parsed:
    return parse_cancel_command(text, PATTERN)


# -- accepted ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order_id", "reason"),
    [
        (ORDER, ORDER, ""),
        ("CDE1234567890", "CDE1234567890", ""),
        (f"{ORDER} customer asked to cancel", ORDER, "customer asked to cancel"),
        (f"{ORDER}   customer asked   ", ORDER, "customer asked"),
        (f"   {ORDER}   ", ORDER, ""),
        (f"\t{ORDER}\t", ORDER, ""),
        (f"\n{ORDER}\n", ORDER, ""),
        ("cde0000000001", ORDER, ""),
        ("Cde0000000001 wrong booking", ORDER, "wrong booking"),
        (f"{ORDER}\tduplicate", ORDER, "duplicate"),
        (f"{ORDER}\nline one\nline two", ORDER, "line one\nline two"),
        (
            f"{ORDER} commande annulée à la demande du client",
            ORDER,
            "commande annulée à la demande du client",
        ),
        (
            f"{ORDER} see <https://example.com|ticket> & co",
            ORDER,
            "see <https://example.com|ticket> & co",
        ),
        (f"{ORDER} {'x' * MAX_REASON_LENGTH}", ORDER, "x" * MAX_REASON_LENGTH),
        # A reason that merely mentions another id later on is a reason, not a second order.
        (f"{ORDER} duplicate of {OTHER}", ORDER, f"duplicate of {OTHER}"),
    ],
)
def test_valid_ids_are_accepted(text: str, order_id: str, reason: str) -> None:
    result = parse(text)

    assert result == CancelArgs(order_id=order_id, reason=reason)


def test_id_is_returned_in_upper_case() -> None:
    result = parse("cDe0000000042 please")

    assert isinstance(result, CancelArgs)
    assert result.order_id == "CDE0000000042"
    assert result.reason == "please"


def test_reason_case_is_kept() -> None:
    result = parse(f"{ORDER} Customer ASKED")

    assert isinstance(result, CancelArgs)
    assert result.reason == "Customer ASKED"


@pytest.mark.parametrize("text", ["help", "HELP", "  Help  ", "aide", "?", "\thelp\n"])
def test_help(text: str) -> None:
    assert parse(text) == HelpArgs()


def test_text_of_exactly_max_length_is_accepted() -> None:
    text = ORDER + " " * (MAX_COMMAND_LENGTH - len(ORDER))
    assert len(text) == MAX_COMMAND_LENGTH

    assert parse(text) == CancelArgs(order_id=ORDER, reason="")


def test_configured_pattern_is_used() -> None:
    pattern = re.compile(r"ORD-\d{4}", re.I)

    assert parse_cancel_command("ord-1234 x", pattern) == CancelArgs("ORD-1234", "x")
    with pytest.raises(UsageError):
        parse_cancel_command(ORDER, pattern)


# -- rejected ----------------------------------------------------------------------------------

_EMPTY = ["", " ", "   ", "\t", "\n", " \n\t "]
_WRONG_PREFIX = [
    "ABC0000000001",
    "CDF0000000001",
    "CD0000000001",
    "DE0000000001",
    "XCDE0000000001",
    "CDE-0000000001",
    "CDE_0000000001",
    "CDE 0000000001",
    "0000000001",
    "CDE",
    "TOC-02-03-2022",
    "CGMU2436601",
    "CDEabcdefghij",
    "CDE000000000A",
    "CDE0000000001.",
    "CDE0000000001!",
    "`CDE0000000001`",
    "'CDE0000000001'",
    "order CDE0000000001",
]
_WRONG_LENGTH = ["CDE000000001", "CDE00000000001", "CDE0", "CDE" + "0" * 40]
_TWO_IDS_SPLIT = [
    f"{ORDER} {OTHER}",
    f"{ORDER},{OTHER}",
    f"{ORDER};{OTHER}",
    f"{ORDER}\n{OTHER}",
    f"{ORDER}\t{OTHER}",
    f"{ORDER} {OTHER} customer asked",
    f"{ORDER},{OTHER} customer asked",
    f"{ORDER} {OTHER.lower()}",
    f"{ORDER} {OTHER}, because",
]
_TWO_IDS = [
    *_TWO_IDS_SPLIT,
    f"{ORDER}, {OTHER}",
    # A separator that starts the "reason" must not hide the second id.
    f"{ORDER} , {OTHER}",
    f"{ORDER} ;{OTHER}",
    f"{ORDER} ,{OTHER}",
]
_CONTROL = [
    f"{ORDER}\x00",
    f"\x00{ORDER}",
    f"{ORDER} reason\x00",
    f"{ORDER} \x1b[31mred",
    f"{ORDER}\x1b",
    f"{ORDER}\u200b",
    "CDE\u200b0000000001",
    f"{ORDER} reason\u200bhidden",
    f"{ORDER} \u202egnp.exe",
    f"\u202e{ORDER}",
    f"{ORDER} \u2066isolated\u2069",
    f"\ufeff{ORDER}",
    f"{ORDER} soft\u00adhyphen",
    f"{ORDER} \x7f",
    f"{ORDER}\r",
    f"{ORDER} \x07bell",
    f"{ORDER} private \ue000 use",
    f"{ORDER} lone \ud800 surrogate",
]
_TOO_LONG = [
    ORDER + " " + "x" * MAX_COMMAND_LENGTH,
    " " * (MAX_COMMAND_LENGTH + 1),
    ORDER + " " * (MAX_COMMAND_LENGTH + 1 - len(ORDER)),
    "help" + " " * MAX_COMMAND_LENGTH,
]
_REASON_TOO_LONG = [
    f"{ORDER} {'x' * (MAX_REASON_LENGTH + 1)}",
    f"{ORDER} {'word ' * 120}",
]
_SLACK_LOOKING = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<@U123ABC|alice>",
    "<!subteam^S123>",
    "<#C123|general>",
    f"<https://evil.example|{ORDER}>",
    f"<@U123> {ORDER}",
    f"<!channel> {ORDER}",
    "&lt;!channel&gt;",
]
_UNICODE_DIGITS = [
    "CDE０００００００００１",  # fullwidth digits
    "ＣＤＥ0000000001",  # fullwidth letters
    "CDE٠٠٠٠٠٠٠٠٠١",  # Arabic-Indic digits
    "CDE०००००००००१",  # Devanagari digits
    "CDE¹²³⁴⁵⁶⁷⁸⁹⁰",  # superscripts
    "СDE0000000001",  # Cyrillic С
]

BAD_INPUTS = (
    _EMPTY
    + _WRONG_PREFIX
    + _WRONG_LENGTH
    + _TWO_IDS
    + _CONTROL
    + _TOO_LONG
    + _REASON_TOO_LONG
    + _SLACK_LOOKING
    + _UNICODE_DIGITS
)


def test_bad_corpus_is_large_enough() -> None:
    assert len(BAD_INPUTS) >= 40


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_is_rejected_with_a_message(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)

    for language in Language:
        assert usage_problem_text(caught.value, language).strip()


@pytest.mark.parametrize("text", _TWO_IDS_SPLIT)
def test_two_ids_message_says_one_order(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.problem is UsageProblem.ONE_ORDER
    assert "One order per request" in usage_problem_text(caught.value, Language.EN)


@pytest.mark.parametrize("text", _CONTROL)
def test_control_characters_message(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert caught.value.problem is UsageProblem.HIDDEN_CHARACTERS


def test_empty_message_asks_for_an_id() -> None:
    with pytest.raises(UsageError) as caught:
        parse("   ")
    assert caught.value.problem is UsageProblem.NO_ORDER


def test_too_long_text_gives_its_length() -> None:
    text = ORDER + " " + "x" * MAX_COMMAND_LENGTH

    with pytest.raises(UsageError) as caught:
        parse(text)

    message = usage_problem_text(caught.value, Language.EN)
    assert f"at most {MAX_COMMAND_LENGTH}" in message
    # The message does not echo the whole text back.
    assert len(message) < 200


def test_reason_too_long_gives_the_limit() -> None:
    with pytest.raises(UsageError) as caught:
        parse(f"{ORDER} {'y' * (MAX_REASON_LENGTH + 1)}")
    assert f"at most {MAX_REASON_LENGTH}" in usage_problem_text(caught.value, Language.EN)


def test_bad_id_is_echoed_short_and_without_backticks() -> None:
    with pytest.raises(UsageError) as caught:
        parse("`" * 5 + "A" * 300)

    message = usage_problem_text(caught.value, Language.EN)
    assert "not an order id" in message
    assert message.count("`") == 2  # only the inline-code delimiters
    assert len(message) < 100


def test_usage_error_is_a_value_error() -> None:
    assert issubclass(UsageError, ValueError)


# -- several orders in one command (a bulk request) ---------------------------------------------


def parse_bulk(text: str, max_orders: int = 20) -> Parsed:
    return parse_cancel_command(text, PATTERN, max_orders=max_orders)


THIRD = "CDE0000000003"


@pytest.mark.parametrize(
    ("text", "ids", "reason"),
    [
        (f"{ORDER} {OTHER} {THIRD} vessel cancelled", (ORDER, OTHER, THIRD), "vessel cancelled"),
        (f"{ORDER},{OTHER},{THIRD}", (ORDER, OTHER, THIRD), ""),
        (f"{ORDER}, {OTHER} ; {THIRD}, booking gone", (ORDER, OTHER, THIRD), "booking gone"),
        # A column pasted from a spreadsheet, then the reason on its own line.
        (
            f"{ORDER}\n{OTHER}\n{THIRD}\ncustomer withdrew",
            (ORDER, OTHER, THIRD),
            "customer withdrew",
        ),
        (f"{ORDER}\t{OTHER}\n\n customer\nwithdrew", (ORDER, OTHER), "customer\nwithdrew"),
        # Duplicates folded (case-insensitively), the order typed kept.
        (f"{OTHER} {ORDER} {OTHER.lower()} {ORDER}", (OTHER, ORDER), ""),
        # The reason starts at the first token that is not id-shaped, whatever follows it.
        (
            f"{ORDER} {OTHER} R0008 expected, see {THIRD}",
            (ORDER, OTHER),
            f"R0008 expected, see {THIRD}",
        ),
        (f"{ORDER} TOC-02-03-2022 vessel", (ORDER,), "TOC-02-03-2022 vessel"),
        (f"{ORDER} (customer) {OTHER}", (ORDER,), f"(customer) {OTHER}"),
    ],
)
def test_several_ids_then_the_reason(text: str, ids: tuple[str, ...], reason: str) -> None:
    parsed = parse_bulk(text)
    assert isinstance(parsed, CancelArgs)
    assert parsed.order_ids == ids
    assert parsed.reason == reason


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (f"{ORDER} CDE123 typo", "CDE123"),  # id-shaped, wrong length: an id, and a bad one
        (f"{ORDER},CDE00000000021 x", "CDE00000000021"),
        (f"{ORDER} ABC0000000001 x", "ABC0000000001"),
        (f"{ORDER} 0000000002 x", "0000000002"),  # digits only: an id without its prefix
        (f"{ORDER} CDE000000000２ x", "CDE000000000２"),  # a fullwidth digit
        (f"BAD1 {ORDER} {OTHER}", "BAD1"),  # the first word is always an id
    ],
)
def test_one_bad_id_refuses_the_whole_command_naming_it(text: str, named: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_bulk(text)
    assert caught.value.problem is UsageProblem.NOT_AN_ORDER_ID
    assert named in str(caught.value.params["token"])
    assert f"`{named}` is not an order id" in usage_problem_text(caught.value, Language.EN)


def test_every_bad_id_is_named() -> None:
    with pytest.raises(UsageError) as caught:
        parse_bulk(f"{ORDER} CDE123 {OTHER} CDE345 reason")
    assert caught.value.params["token"] == "CDE123, CDE345"


def test_the_limit_counts_distinct_orders() -> None:
    twenty = " ".join(f"CDE{i:010d}" for i in range(20))
    parsed = parse_bulk(f"{twenty} {twenty} all of them")
    assert isinstance(parsed, CancelArgs) and len(parsed.order_ids) == 20

    with pytest.raises(UsageError) as caught:
        parse_bulk(f"{twenty} CDE0000000099 one too many")
    assert caught.value.problem is UsageProblem.TOO_MANY_ORDERS
    assert caught.value.params == {"count": 21, "limit": 20}
    shown = usage_problem_text(caught.value, Language.EN)
    assert "Too many orders: 21 (at most 20" in shown


def test_one_order_per_command_where_the_limit_is_one() -> None:
    # The request form asks for one order: a second id there is ONE_ORDER, as before.
    with pytest.raises(UsageError) as caught:
        parse(f"{ORDER} {OTHER} reason")
    assert caught.value.problem is UsageProblem.ONE_ORDER


@pytest.mark.parametrize("text", ["help", "list", f"status {ORDER}"])
def test_subcommands_are_unchanged_with_a_limit(text: str) -> None:
    assert not isinstance(parse_bulk(text), CancelArgs)


def test_look_alike_digits_make_a_bad_id_even_with_an_ascii_pattern() -> None:
    ascii_pattern = re.compile(r"CDE\d{10}", re.I | re.ASCII)
    with pytest.raises(UsageError) as caught:
        parse_cancel_command(f"{ORDER}\nCDE000000000２ x", ascii_pattern, max_orders=20)
    assert caught.value.problem is UsageProblem.NOT_AN_ORDER_ID
