"""The kinds of event in a request's audit trail: one row per change, shown by `status`."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.requests import RequestStatus


class EventKind(StrEnum):
    """Every kind of event the bot writes; the stored value is the member's value."""

    REQUESTED = "requested"
    PREVIEWED = "previewed"
    POSTED = "posted"
    APPROVAL = "approval"  # one approval counted, more needed
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    REMINDED = "reminded"
    CANCEL_SENT = "cancel_sent"
    CANCEL_SETTLING = "cancel_settling"  # a Retry of an unknown outcome: read first
    CANCEL_UNAVAILABLE = "cancel_unavailable"  # MouvONE turned it away unseen: Retry later
    CANCEL_INTERRUPTED = "cancel_interrupted"  # its instance stopped while it ran
    SETTLE_READ = "settle_read"
    SETTLE_UNCONFIRMED = "settle_unconfirmed"
    SETTLE_RELEASED = "settle_released"  # its instance stopped before the read: read again
    OUTCOME_SUCCEEDED = "outcome_succeeded"
    OUTCOME_FAILED = "outcome_failed"
    OUTCOME_UNKNOWN = "outcome_unknown"
    OUTCOME_POSTED = "outcome_posted"
    CLICK_LOST = "click_lost"


_DECISION_EVENTS = {
    RequestStatus.REJECTED: EventKind.REJECTED,
    RequestStatus.WITHDRAWN: EventKind.WITHDRAWN,
}

_OUTCOME_EVENTS = {
    RequestStatus.APPROVED: EventKind.CANCEL_UNAVAILABLE,
    RequestStatus.SUCCEEDED: EventKind.OUTCOME_SUCCEEDED,
    RequestStatus.FAILED: EventKind.OUTCOME_FAILED,
    RequestStatus.UNKNOWN: EventKind.OUTCOME_UNKNOWN,
}


def decision_event(target: RequestStatus) -> EventKind:
    """The event of a person's decision moving a pending request to `target`."""
    return _DECISION_EVENTS[target]


def outcome_event(status: RequestStatus) -> EventKind:
    """The event of a cancel attempt's outcome, by the status it leaves the request in."""
    return _OUTCOME_EVENTS[status]
