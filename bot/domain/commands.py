"""Parsing of the `/cancel-order` command text: one pure function, tested without Slack."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.search import SearchArgs, parse_search

MAX_COMMAND_LENGTH = 1000
MAX_REASON_LENGTH = 500

# Characters a person does not type on purpose and that can hide or reorder text:
# control (Cc), format (Cf: zero-width, bidi overrides), private use, unassigned, surrogates.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})
_ALLOWED_CONTROLS = frozenset({"\n", "\t"})
_TOKENS = re.compile(r"[^\s,;]+")
# Letters then digits, in any script: look-alike digits (fullwidth, Arabic-Indic) make an id
# that is refused, not the start of the reason.
_ID_SHAPED = re.compile(r"[^\W\d_]{2,6}\d{3,}|\d{5,}")


class UsageProblem(StrEnum):
    """Why a command text is refused: each value is the key of its phrase, which the handler
    shows in the reader's language (this module knows no words)."""

    TOO_LONG = "usage.too_long"  # {length} {limit}
    HIDDEN_CHARACTERS = "usage.hidden_characters"
    NO_ORDER = "usage.no_order"
    ONE_ORDER = "usage.one_order"  # {command}
    NOT_AN_ORDER_ID = "usage.not_an_order_id"  # {token}: as typed, not escaped
    TOO_MANY_ORDERS = "usage.too_many_orders"  # {count} {limit}
    REASON_TOO_LONG = "usage.reason_too_long"  # {length} {limit}
    LIST_TAKES_NOTHING = "usage.list_takes_nothing"
    STATUS_NEEDS_ONE_ORDER = "usage.status_needs_one_order"


class UsageError(ValueError):
    """The command text is not a valid request: `problem` says why, `params` fill its phrase."""

    def __init__(self, problem: UsageProblem, **params: str | int) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.params = params


@dataclass(frozen=True, slots=True)
class CancelArgs:
    """`ORDER_ID [ORDER_ID…] [reason…]`: the first order, the reason, and the other orders of a
    bulk request (in the order typed, duplicates folded)."""

    order_id: str
    reason: str
    also: tuple[str, ...] = ()

    @property
    def order_ids(self) -> tuple[str, ...]:
        return (self.order_id, *self.also)


@dataclass(frozen=True, slots=True)
class HelpArgs:
    pass


@dataclass(frozen=True, slots=True)
class StatusArgs:
    """`status ORDER_ID`: the order's requests and their outcomes."""

    order_id: str


@dataclass(frozen=True, slots=True)
class ListArgs:
    """`list`: the pending requests of the channel."""


Parsed = CancelArgs | HelpArgs | StatusArgs | ListArgs | SearchArgs


def has_hidden_characters(text: str) -> bool:
    """The rule for every text a person types to the bot (command, reason, reject note)."""
    return any(
        char not in _ALLOWED_CONTROLS and unicodedata.category(char) in _FORBIDDEN_CATEGORIES
        for char in text
    )


def parse_cancel_command(
    text: str, order_id_pattern: re.Pattern[str], *, max_orders: int = 1
) -> Parsed:
    """Split `ORDER_ID [ORDER_ID…] [reason…]`, validating each id against the configured pattern.

    Ids are matched case-insensitively and returned in upper case. The words `help`,
    `status ORDER_ID`, `list`, `container NUMBER` and `transport NUMBER` are subcommands (an
    order id never looks like them).

    Where the ids end: the first word is always an id; after it, each leading token (tokens are
    separated by spaces, commas, semicolons or line breaks, as in a pasted spreadsheet column)
    that is id-shaped (`looks_like_an_id`) is an id too; the reason starts at the first token
    that is not. Duplicates are folded; one bad id refuses the whole command, naming it; more
    than `max_orders` distinct ids is refused (with `max_orders` 1, as in the request form, a
    second id is `ONE_ORDER`).
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise UsageError(UsageProblem.TOO_LONG, length=len(text), limit=MAX_COMMAND_LENGTH)
    if has_hidden_characters(text):
        raise UsageError(UsageProblem.HIDDEN_CHARACTERS)
    stripped = text.strip()
    if not stripped:
        raise UsageError(UsageProblem.NO_ORDER)
    if stripped.lower() in {"help", "aide", "?"}:
        return HelpArgs()
    subcommand = _parse_subcommand(stripped, order_id_pattern)
    if subcommand is not None:
        return subcommand

    ids: list[str] = []
    reason = ""
    for index, token in enumerate(_TOKENS.finditer(stripped)):
        if index > 0 and not looks_like_an_id(token.group(), order_id_pattern):
            reason = stripped[token.start() :].strip()
            break
        ids.append(token.group())
    # Ids are ASCII; look-alike digits (fullwidth, Arabic-Indic) would match a Unicode `\d`.
    bad = [i for i in ids if not i.isascii() or not order_id_pattern.fullmatch(i)]
    if bad:
        shown = ", ".join(_shown(token) for token in dict.fromkeys(bad))
        raise UsageError(UsageProblem.NOT_AN_ORDER_ID, token=_shown(shown))
    distinct = list(dict.fromkeys(i.upper() for i in ids))
    if len(distinct) > max_orders:
        if max_orders == 1:
            raise UsageError(UsageProblem.ONE_ORDER)
        raise UsageError(UsageProblem.TOO_MANY_ORDERS, count=len(distinct), limit=max_orders)
    if len(reason) > MAX_REASON_LENGTH:
        raise UsageError(UsageProblem.REASON_TOO_LONG, length=len(reason), limit=MAX_REASON_LENGTH)
    return CancelArgs(order_id=distinct[0], reason=reason, also=tuple(distinct[1:]))


def looks_like_an_id(token: str, order_id_pattern: re.Pattern[str]) -> bool:
    """A token meant as an order id: it matches the pattern, or is shaped like one (2 to 6
    letters then at least 3 digits, e.g. `CDE000001` with digits missing, or 5+ digits alone).
    A reason whose first word is shaped so must start with another word."""
    return bool(order_id_pattern.fullmatch(token) or _ID_SHAPED.fullmatch(token))


def _parse_subcommand(text: str, order_id_pattern: re.Pattern[str]) -> Parsed | None:
    words = text.split()
    keyword = words[0].lower()
    if keyword == "list":
        if len(words) > 1:
            raise UsageError(UsageProblem.LIST_TAKES_NOTHING)
        return ListArgs()
    if keyword == "status":
        if len(words) != 2:
            raise UsageError(UsageProblem.STATUS_NEEDS_ONE_ORDER)
        if not words[1].isascii() or not order_id_pattern.fullmatch(words[1]):
            raise UsageError(UsageProblem.NOT_AN_ORDER_ID, token=_shown(words[1]))
        return StatusArgs(order_id=words[1].upper())
    # `container NUMBER`, `transport NUMBER` (bot.domain.search; may raise its own errors).
    return parse_search(keyword, words[1:])


def _shown(token: str) -> str:
    """A bad token echoed back safely: short, and without characters that break inline code."""
    cleaned = token.replace("`", "'")
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"
