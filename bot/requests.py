"""The life of a cancel request: its states, and which transitions are allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.soget import CustomerOrder


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for an approver
    APPROVED = "approved"  # approved, the cancel is not sent yet
    EXECUTING = "executing"  # the DELETE is being sent
    SUCCEEDED = "succeeded"  # MouvONE cancelled the order (or it was cancelled already)
    FAILED = "failed"  # MouvONE refused, or the call failed before reaching it
    UNKNOWN = "unknown"  # sent, but no answer came: the order may or may not be cancelled
    REJECTED = "rejected"  # an approver said no
    WITHDRAWN = "withdrawn"  # the request ended before any decision (e.g. could not be posted)


TERMINAL_STATUSES = frozenset(
    {
        RequestStatus.SUCCEEDED,
        RequestStatus.FAILED,
        RequestStatus.REJECTED,
        RequestStatus.WITHDRAWN,
    }
)

# Every allowed move. The store applies each as a conditional update on the current
# status, so of any number of concurrent attempts exactly one wins.
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset(
        {RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.WITHDRAWN}
    ),
    RequestStatus.APPROVED: frozenset({RequestStatus.EXECUTING}),
    # EXECUTING → EXECUTING: a restart resends a cancel whose answer was never recorded.
    RequestStatus.EXECUTING: frozenset(
        {
            RequestStatus.EXECUTING,
            RequestStatus.SUCCEEDED,
            RequestStatus.FAILED,
            RequestStatus.UNKNOWN,
        }
    ),
    RequestStatus.UNKNOWN: frozenset({RequestStatus.EXECUTING}),
    RequestStatus.SUCCEEDED: frozenset(),
    RequestStatus.FAILED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.WITHDRAWN: frozenset(),
}


def can_move(current: RequestStatus, target: RequestStatus) -> bool:
    return target in TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class CancelRequest:
    id: str
    order_id: str
    channel_id: str
    requester_id: str
    reason: str
    status: RequestStatus
    created_at: datetime
    updated_at: datetime
    message_ts: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    outcome_code: str | None = None
    outcome_failure: str | None = None
    outcome_message: str | None = None
    outcome_timestamp: str | None = None
    outcome_http_status: int | None = None
    outcome_note: str | None = None
    outcome_at: datetime | None = None
    outcome_posted_at: datetime | None = None
    attempts: int = 0
    # What the order looked like before approval (see bot/preview.py); None before the preview.
    preview_state: str | None = None
    preview_code: str | None = None
    preview_failure: str | None = None
    preview_order: CustomerOrder | None = None
    preview_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status is RequestStatus.PENDING


@dataclass(frozen=True, slots=True)
class RequestEvent:
    request_id: str
    at: datetime
    kind: str
    actor: str | None
    detail: str | None
