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
