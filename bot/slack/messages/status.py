"""The words of each request status, in one table: an emoji and a phrase key. The request's
notification text and the status labels of the audit and the Home tab all read it."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.domain.requests import RequestStatus
from bot.i18n.catalogue import Language
from bot.i18n.texts import say

# Every status has its line (tests check it); APPROVED and EXECUTING read the same to people.
STATUS_WORDS: Mapping[RequestStatus, tuple[str, str]] = MappingProxyType(
    {
        RequestStatus.PENDING: (":hourglass_flowing_sand:", "status.pending"),
        RequestStatus.APPROVED: (":arrows_counterclockwise:", "status.cancelling"),
        RequestStatus.EXECUTING: (":arrows_counterclockwise:", "status.cancelling"),
        RequestStatus.SUCCEEDED: (":white_check_mark:", "status.succeeded"),
        RequestStatus.FAILED: (":x:", "status.failed"),
        RequestStatus.UNKNOWN: (":warning:", "status.unknown"),
        RequestStatus.REJECTED: (":no_entry_sign:", "status.rejected"),
        RequestStatus.EXPIRED: (":hourglass:", "status.expired"),
        RequestStatus.WITHDRAWN: (":heavy_minus_sign:", "status.withdrawn"),
    }
)


def status_phrase(status: RequestStatus, language: Language) -> str:
    """A few words on where a request stands, e.g. 'waiting for approval'."""
    _emoji, key = STATUS_WORDS[status]
    return say(key, language)


def status_words(status: RequestStatus, language: Language) -> str:
    """The status's emoji and words, e.g. ':x: not cancelled'."""
    emoji, _key = STATUS_WORDS[status]
    return f"{emoji} {status_phrase(status, language)}"
