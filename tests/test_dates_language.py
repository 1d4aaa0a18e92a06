"""Slack date tokens read in the reader's language too (the words around Slack's own parts)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n.catalogue import Language
from bot.slack.messages.mrkdwn import slack_date

MOMENT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_a_date_reads_in_french_for_a_french_reader() -> None:
    french = slack_date(MOMENT, Language.FR)
    assert "{date_short_pretty} à {time}" in french
    assert " at " not in french


def test_a_date_reads_in_english_and_keeps_a_fallback() -> None:
    english = slack_date(MOMENT, Language.EN)
    stamp = int(MOMENT.timestamp())
    assert english == f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|2026-12-02 09:30 UTC>"
