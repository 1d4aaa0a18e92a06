"""Parsing of the `/cancel-order` command text: one pure function, tested without Slack."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_COMMAND_LENGTH = 1000
MAX_REASON_LENGTH = 500

# Characters a person does not type on purpose and that can hide or reorder text:
# control (Cc), format (Cf: zero-width, bidi overrides), private use, unassigned, surrogates.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs"})
_ALLOWED_CONTROLS = frozenset({"\n", "\t"})
_SEPARATORS = re.compile(r"[\s,;]+")


class UsageError(ValueError):
    """The command text is not a valid request; the message says why, for the requester."""


@dataclass(frozen=True, slots=True)
class CancelArgs:
    order_id: str
    reason: str


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


Parsed = CancelArgs | HelpArgs | StatusArgs | ListArgs


HIDDEN_CHARACTERS = "The text contains invisible or control characters; type it again."


def has_hidden_characters(text: str) -> bool:
    """The rule for every text a person types to the bot (command, reason, reject note)."""
    return any(
        char not in _ALLOWED_CONTROLS and unicodedata.category(char) in _FORBIDDEN_CATEGORIES
        for char in text
    )


def parse_cancel_command(text: str, order_id_pattern: re.Pattern[str]) -> Parsed:
    """Split `ORDER_ID [reason…]`, validating the id against the configured pattern.

    Ids are matched case-insensitively and returned in upper case. The words `help`,
    `status ORDER_ID` and `list` are subcommands (an order id never looks like them).
    """
    if len(text) > MAX_COMMAND_LENGTH:
        raise UsageError(
            f"The text is too long ({len(text)} characters, at most {MAX_COMMAND_LENGTH})."
        )
    if has_hidden_characters(text):
        raise UsageError(HIDDEN_CHARACTERS)
    stripped = text.strip()
    if not stripped:
        raise UsageError("Give the id of the order to cancel.")
    if stripped.lower() in {"help", "aide", "?"}:
        return HelpArgs()
    subcommand = _parse_subcommand(stripped, order_id_pattern)
    if subcommand is not None:
        return subcommand

    parts = stripped.split(maxsplit=1)
    first = parts[0]
    reason = parts[1].strip() if len(parts) > 1 else ""
    candidates = [item for item in _SEPARATORS.split(first) if item]
    if len(candidates) > 1:
        raise UsageError("One order per request: send one `/cancel-order` for each order.")
    # Ids are ASCII; look-alike digits (fullwidth, Arabic-Indic) would match a Unicode `\d`.
    if not first.isascii() or not order_id_pattern.fullmatch(first):
        raise UsageError(f"`{_shown(first)}` is not an order id.")
    rest = reason.lstrip(" ,;\t\n")
    next_word = _SEPARATORS.split(rest, maxsplit=1)[0] if rest else ""
    if next_word and order_id_pattern.fullmatch(next_word):
        raise UsageError("One order per request: send one `/cancel-order` for each order.")
    if len(reason) > MAX_REASON_LENGTH:
        raise UsageError(
            f"The reason is too long ({len(reason)} characters, at most {MAX_REASON_LENGTH})."
        )
    return CancelArgs(order_id=first.upper(), reason=reason)


def _parse_subcommand(text: str, order_id_pattern: re.Pattern[str]) -> Parsed | None:
    words = text.split()
    keyword = words[0].lower()
    if keyword == "list":
        if len(words) > 1:
            raise UsageError("`list` takes nothing after it: it lists this channel's requests.")
        return ListArgs()
    if keyword == "status":
        if len(words) != 2:
            raise UsageError("Give one order id after `status`, e.g. `status CDE0000000001`.")
        if not words[1].isascii() or not order_id_pattern.fullmatch(words[1]):
            raise UsageError(f"`{_shown(words[1])}` is not an order id.")
        return StatusArgs(order_id=words[1].upper())
    return None


def _shown(token: str) -> str:
    """A bad token echoed back safely: short, and without characters that break inline code."""
    cleaned = token.replace("`", "'")
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "…"
