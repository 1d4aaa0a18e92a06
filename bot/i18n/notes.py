"""Outcome notes: short keys stored in `requests.outcome_note`, rendered in the reader's
language when a message is sent (`say("note.<key>")`, in `data/thread.toml`).

A stored note is a key (`confirmed_by_reading`), or a key and a value (`order_status:Accepted`,
the status the read after an unanswered cancel found). Rows written by earlier versions hold the
English sentence itself: `note_text` maps those back to their key.
"""

from __future__ import annotations

from enum import StrEnum

from bot.i18n.catalogue import Language
from bot.i18n.texts import say


class OutcomeNote(StrEnum):
    """What a note says; each has its phrase `note.<value>`."""

    ALREADY_CANCELLED = "already_cancelled"  # MouvONE: cancelled before this request
    EARLIER_ATTEMPT = "earlier_attempt"  # MouvONE: cancelled, by an earlier attempt of ours
    CONFIRMED_BY_READING = "confirmed_by_reading"  # the order, read back, is cancelled
    INTERRUPTED = "interrupted"  # the bot stopped while the cancel was on its way
    ORDER_UNREADABLE = "order_unreadable"  # the read after an unanswered cancel failed
    ORDER_STATUS = "order_status"  # that read found the order in a status (the value)


# Plain strings, as stored.
NOTE_ALREADY_CANCELLED = OutcomeNote.ALREADY_CANCELLED.value
NOTE_EARLIER_ATTEMPT = OutcomeNote.EARLIER_ATTEMPT.value
NOTE_CONFIRMED_BY_READING = OutcomeNote.CONFIRMED_BY_READING.value
NOTE_INTERRUPTED = OutcomeNote.INTERRUPTED.value

_SEPARATOR = ":"
# The English sentences stored by versions before the keys.
_LEGACY_SENTENCES = {
    "MouvONE says it was already cancelled before this request": OutcomeNote.ALREADY_CANCELLED,
    "MouvONE says it was already cancelled: an earlier attempt, whose answer was lost or an "
    "error, probably went through": OutcomeNote.EARLIER_ATTEMPT,
    "confirmed by reading the order: the first attempt, whose answer was lost or an error, "
    "probably went through": OutcomeNote.CONFIRMED_BY_READING,
    "the bot stopped while the cancel was on its way to MouvONE": OutcomeNote.INTERRUPTED,
    "the order could not be read": OutcomeNote.ORDER_UNREADABLE,
}
_LEGACY_STATUS_PREFIX = "the order's status is "


def order_status_note(found_status: str | None) -> str:
    """The note of a read after an unanswered cancel: the status found, or that it failed."""
    if found_status is None:
        return OutcomeNote.ORDER_UNREADABLE.value
    return f"{OutcomeNote.ORDER_STATUS.value}{_SEPARATOR}{found_status}"


def parse_note(stored: str) -> tuple[OutcomeNote, str] | None:
    """(note, value) of a stored note, new or legacy; None for a text the bot never wrote."""
    if stored in _LEGACY_SENTENCES:
        return _LEGACY_SENTENCES[stored], ""
    if stored.startswith(_LEGACY_STATUS_PREFIX):
        return OutcomeNote.ORDER_STATUS, stored.removeprefix(_LEGACY_STATUS_PREFIX)
    key, _, value = stored.partition(_SEPARATOR)
    try:
        return OutcomeNote(key), value
    except ValueError:
        return None


def note_text(stored: str, language: Language) -> str:
    """The note as a sentence in `language` (plain text: escape it for mrkdwn)."""
    parsed = parse_note(stored)
    if parsed is None:
        return stored
    note, value = parsed
    if note is OutcomeNote.ORDER_STATUS:
        return say("note.order_status", language, status=value)
    return say(f"note.{note.value}", language)
