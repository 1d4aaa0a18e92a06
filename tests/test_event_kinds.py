"""Every event the bot writes is an EventKind, and the audit trail has a label for each."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.domain.events import EventKind
from bot.i18n.catalogue import Language
from bot.i18n.texts import TEXTS
from bot.slack.messages import audit

BOT = Path(__file__).resolve().parent.parent / "bot"
# Calls that take an event kind by position: name → the argument's index.
EVENT_ARGUMENT = {"_add_event": 2, "record_event": 1, "_changed": 1, "_enqueue_notices": 1}


def _labelled_kinds() -> set[str]:
    """The kinds the audit trail has words for (`audit.event.<kind>` in the phrase files)."""
    prefix = "audit.event."
    return {key.removeprefix(prefix) for key in TEXTS if key.startswith(prefix)}


def _string_event_arguments(source: str, where: str) -> list[str]:
    """Where `source` passes an event kind as a string literal (or f-string)."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if not isinstance(node, ast.Call):
            continue
        values = [kw.value for kw in node.keywords if kw.arg in ("event", "kind")]
        name = node.func.attr if isinstance(node.func, ast.Attribute) else None
        index = EVENT_ARGUMENT.get(name or "")
        if index is not None and len(node.args) > index:
            values.append(node.args[index])
        for value in values:
            if _is_string(value):
                found.append(f"{where}:{value.lineno}")
    return found


def _is_string(value: ast.expr) -> bool:
    """A literal, an f-string, another enum's `.value`, or a choice between such."""
    if isinstance(value, ast.IfExp):
        return _is_string(value.body) or _is_string(value.orelse)
    if isinstance(value, ast.Attribute):
        return value.attr == "value"
    return isinstance(value, ast.JoinedStr) or (
        isinstance(value, ast.Constant) and isinstance(value.value, str)
    )


def test_every_event_the_bot_writes_is_an_event_kind() -> None:
    literals = [
        hit
        for path in sorted(BOT.rglob("*.py"))
        for hit in _string_event_arguments(path.read_text(), str(path.relative_to(BOT.parent)))
    ]

    assert literals == []


def test_the_scan_finds_a_string_event() -> None:
    source = (
        'store.transition(r, event="cancel_resent")\n'
        'self._add_event(r, now, f"x_{y}", a, f"{d}")\n'
        'self._add_event(r, now, EventKind.POSTED, a, f"{d}")\n'
    )

    assert _string_event_arguments(source, "probe") == ["probe:1", "probe:2"]


def test_every_event_kind_has_an_audit_label() -> None:
    missing = sorted(set(EventKind) - _labelled_kinds())

    assert missing == []


def test_no_audit_label_for_a_kind_never_written() -> None:
    never_written = sorted(_labelled_kinds() - set(EventKind))

    assert never_written == []


@pytest.mark.parametrize("language", list(Language))
def test_every_event_kind_reads_as_words_in_both_languages(language: Language) -> None:
    for kind in EventKind:
        label = audit.event_label(kind, language)
        assert label and "_" not in label, kind
