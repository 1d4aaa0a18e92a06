"""ISO 6346 container numbers (`CSQU3054383`): owner code, category letter, serial, check digit.

Pure: checked before any call to MouvONE, so a typo costs no search. The check digit is the
standard one: each of the first ten characters gets its value (digits as they are; letters from
A=10 upwards, skipping the multiples of 11), weighted by 2**position; the sum modulo 11, then
modulo 10 (a remainder of 10 gives 0).
"""

from __future__ import annotations

import re
import string
from enum import StrEnum

# A=10, B=12 … Z=38: the values 11, 22 and 33 are skipped.
_LETTER_VALUES: dict[str, int] = {}
_value = 10
for _letter in string.ascii_uppercase:
    if _value % 11 == 0:
        _value += 1
    _LETTER_VALUES[_letter] = _value
    _value += 1

CATEGORY_LETTERS = "UJZ"  # U freight container, J detachable equipment, Z trailer or chassis
_SHAPE = re.compile(r"[A-Z]{4}\d{7}")
# What people put between the parts: `MSCU 123456 5`, `MSCU-123456-5`, `MSCU.1234565`.
_SPACING = re.compile(r"[\s\-./]+")


class ContainerProblem(StrEnum):
    """Why a text is not a container number; each value is its phrase key (bot/i18n/data)."""

    SHAPE = "search.container.shape"  # {number}
    CATEGORY = "search.container.category"  # {number} {letter}
    CHECK_DIGIT = "search.container.check_digit"  # {number} {expected} {given}


class ContainerNumberError(ValueError):
    """`number` (as normalised) is not a valid ISO 6346 container number."""

    def __init__(
        self,
        problem: ContainerProblem,
        number: str,
        *,
        expected_check_digit: int | None = None,
        transpositions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(f"{problem.name}: {number}")
        self.problem = problem
        self.number = number
        self.expected_check_digit = expected_check_digit
        # Valid numbers one swap of two neighbouring characters away: the commonest typo.
        self.transpositions = transpositions


def check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of owner code, category letter and serial (10 characters)."""
    total = 0
    for position, char in enumerate(first_ten):
        value = int(char) if char.isdigit() else _LETTER_VALUES[char]
        total += value * 2**position
    return total % 11 % 10


def _valid(number: str) -> bool:
    return (
        _SHAPE.fullmatch(number) is not None
        and number[3] in CATEGORY_LETTERS
        and check_digit(number[:10]) == int(number[10])
    )


def _transpositions(number: str) -> tuple[str, ...]:
    found: list[str] = []
    for left in range(len(number) - 1):
        if number[left] == number[left + 1]:
            continue
        swapped = number[:left] + number[left + 1] + number[left] + number[left + 2 :]
        if _valid(swapped) and swapped not in found:
            found.append(swapped)
    return tuple(found)


def parse_container_number(text: str) -> str:
    """The container number in `text`, upper case without spacing; ContainerNumberError if it
    is not one (wrong shape, category letter or check digit)."""
    number = _SPACING.sub("", text.strip()).upper()
    shown = number[:20]
    if not number.isascii() or not _SHAPE.fullmatch(number):
        raise ContainerNumberError(ContainerProblem.SHAPE, shown)
    if number[3] not in CATEGORY_LETTERS:
        raise ContainerNumberError(ContainerProblem.CATEGORY, number)
    expected = check_digit(number[:10])
    if expected != int(number[10]):
        raise ContainerNumberError(
            ContainerProblem.CHECK_DIGIT,
            number,
            expected_check_digit=expected,
            transpositions=_transpositions(number),
        )
    return number
