"""ISO 6346 container numbers: shape, category letter, check digit, and the typo named."""

from __future__ import annotations

import pytest

from bot.domain.containers import (
    ContainerNumberError,
    ContainerProblem,
    check_digit,
    parse_container_number,
)


@pytest.mark.parametrize(
    "number",
    [
        "CSQU3054383",  # the standard's own example
        "MSKU9070323",
        "MSCU1234566",
        "TGHU6178450",  # a remainder of 10: the check digit is 0
        "CGMU2436608",
    ],
)
def test_valid_numbers_are_accepted(number: str) -> None:
    assert parse_container_number(number) == number


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("csqu3054383", "CSQU3054383"),
        (" CSQU 305438 3 ", "CSQU3054383"),
        ("CSQU-305438-3", "CSQU3054383"),
        ("CSQU.3054383", "CSQU3054383"),
    ],
)
def test_case_and_spacing_are_forgiven(typed: str, number: str) -> None:
    assert parse_container_number(typed) == number


def test_the_standard_letter_values_skip_multiples_of_eleven() -> None:
    # A=10, B=12 (11 skipped), K=21, L=23 (22 skipped), U=32, V=34 (33 skipped).
    assert check_digit("A000000000") == 10 % 11 % 10
    assert check_digit("B000000000") == 12 % 11
    assert check_digit("L000000000") == 23 % 11
    assert check_digit("V000000000") == 34 % 11
    # The standard's worked example: C13 S30 Q28 U32 3 0 5 4 3 8 weighted by 1, 2, 4 … 512
    # sum to 6185; 6185 mod 11 = 3.
    assert check_digit("CSQU305438") == 3


def test_the_issues_example_has_a_wrong_check_digit() -> None:
    """MSCU1234565 (the issue's example) fails ISO 6346: its check digit is 6."""
    with pytest.raises(ContainerNumberError) as raised:
        parse_container_number("MSCU1234565")
    error = raised.value
    assert error.problem is ContainerProblem.CHECK_DIGIT
    assert (error.number, error.expected_check_digit) == ("MSCU1234565", 6)


def test_a_swap_of_two_neighbours_is_named_when_it_gives_a_valid_number() -> None:
    with pytest.raises(ContainerNumberError) as raised:
        parse_container_number("CSQU3054338")  # the last two characters swapped
    assert raised.value.expected_check_digit == 6
    assert "CSQU3054383" in raised.value.transpositions
    for candidate in raised.value.transpositions:
        assert parse_container_number(candidate) == candidate


def test_no_swap_is_named_when_none_gives_a_valid_number() -> None:
    with pytest.raises(ContainerNumberError) as raised:
        parse_container_number("MSCU1234565")
    assert raised.value.transpositions == ()


@pytest.mark.parametrize(
    "typed",
    ["", "CSQU305438", "CSQU30543831", "CSQ03054383", "1SQU3054383", "CSQU305438X", "ＣSQU3054383"],
)
def test_a_wrong_shape_is_refused(typed: str) -> None:
    with pytest.raises(ContainerNumberError) as raised:
        parse_container_number(typed)
    assert raised.value.problem is ContainerProblem.SHAPE


def test_a_category_letter_other_than_u_j_z_is_refused() -> None:
    with pytest.raises(ContainerNumberError) as raised:
        parse_container_number("CSQX3054383")
    assert raised.value.problem is ContainerProblem.CATEGORY


def test_every_single_digit_typo_in_the_serial_is_caught() -> None:
    """The check digit catches any one wrong digit of the serial (weights 2**i mod 11 are
    never 0, and a change of one digit is less than 11)."""
    number = "CSQU3054383"
    for position in range(4, 10):
        for digit in "0123456789":
            if digit == number[position]:
                continue
            typo = number[:position] + digit + number[position + 1 :]
            with pytest.raises(ContainerNumberError):
                parse_container_number(typo)
