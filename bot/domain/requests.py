"""The life of a cancel request: its states, and which transitions are allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.soget.models import CustomerOrder


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for an approver
    APPROVED = "approved"  # approved, the cancel is not sent yet
    EXECUTING = "executing"  # the DELETE is being sent
    SUCCEEDED = "succeeded"  # MouvONE cancelled the order (or it was cancelled already)
    FAILED = "failed"  # MouvONE refused, or the call failed before reaching it
    UNKNOWN = "unknown"  # sent, but no answer came: the order may or may not be cancelled
    REJECTED = "rejected"  # an approver said no
    EXPIRED = "expired"  # nobody decided within REQUEST_TTL
    WITHDRAWN = "withdrawn"  # the requester took it back, or it could not be posted


TERMINAL_STATUSES = frozenset(
    {
        RequestStatus.SUCCEEDED,
        RequestStatus.FAILED,
        RequestStatus.REJECTED,
        RequestStatus.EXPIRED,
        RequestStatus.WITHDRAWN,
    }
)

# Every allowed move. The store applies each as a conditional update on the current
# status, so of any number of concurrent attempts exactly one wins.
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset(
        {
            RequestStatus.APPROVED,
            RequestStatus.REJECTED,
            RequestStatus.EXPIRED,
            RequestStatus.WITHDRAWN,
        }
    ),
    RequestStatus.APPROVED: frozenset({RequestStatus.EXECUTING}),
    # EXECUTING → EXECUTING: a restart settles a cancel whose answer was never recorded.
    # EXECUTING → APPROVED: MouvONE was unavailable; the approval stands and can be retried.
    RequestStatus.EXECUTING: frozenset(
        {
            RequestStatus.EXECUTING,
            RequestStatus.APPROVED,
            RequestStatus.SUCCEEDED,
            RequestStatus.FAILED,
            RequestStatus.UNKNOWN,
        }
    ),
    RequestStatus.UNKNOWN: frozenset({RequestStatus.EXECUTING}),
    RequestStatus.SUCCEEDED: frozenset(),
    RequestStatus.FAILED: frozenset(),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.EXPIRED: frozenset(),
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
    approved_by: str | None = None  # approvers so far, comma-separated (REQUIRED_APPROVALS)
    reminded_at: datetime | None = None  # the one reminder after REMIND_AFTER
    reason_category: str | None = None  # from the request form: customer_request, duplicate…
    lease_owner: str | None = None  # the instance driving the cancel (EXECUTING)
    lease_until: datetime | None = None  # … until then, unless it renews the lease
    settle_at: datetime | None = None  # when the order of an UNKNOWN request is read back
    settle_reads: int | None = None  # read-backs that failed so far

    @property
    def approver_ids(self) -> tuple[str, ...]:
        return tuple(self.approved_by.split(",")) if self.approved_by else ()

    @property
    def is_pending(self) -> bool:
        return self.status is RequestStatus.PENDING

    @property
    def awaits_retry(self) -> bool:
        """Approved, tried, and MouvONE was unavailable (or did not answer): a Retry is offered."""
        return (
            self.status is RequestStatus.APPROVED and self.outcome_at is not None
        ) or self.status is RequestStatus.UNKNOWN


@dataclass(frozen=True, slots=True)
class RequestEvent:
    request_id: str
    at: datetime
    kind: str
    actor: str | None
    detail: str | None


class MessageKind(StrEnum):
    """One Slack effect, queued in the outbox and rendered from the request when delivered.

    Each effect is delivered, retried and marked done on its own: a failing redraw never makes
    a thread reply go out twice.
    """

    REDRAW = "redraw"  # chat.update of the request message to its current state
    OUTCOME = "outcome"  # thread reply with the cancel's outcome
    UNAVAILABLE = "unavailable"  # thread reply: MouvONE unavailable, approvers may retry
    REJECTION = "rejection"  # thread reply to the requester
    REMINDER = "reminder"  # thread reply: still waiting, mentioning the approvers
    VERIFIED = "verified"  # thread reply: the order was read, the outcome is still unknown
    DM_DECIDED = "dm_decided"  # direct message to the requester: approved or rejected
    DM_FINISHED = "dm_finished"  # direct message to the requester: what MouvONE did
    DM_CLICK_LOST = "dm_click_lost"  # direct message to a clicker: the click was not taken

    @property
    def lane(self) -> str:
        """Effects of one request in the same lane are delivered in order; lanes are not
        ordered against each other (a redraw never waits for a reply, nor a DM for either)."""
        if self is MessageKind.REDRAW:
            return "redraw"
        return "dm" if self.value.startswith("dm_") else "thread"


# A reply that announces a new state comes with a redraw of the request message.
def with_redraw(*kinds: MessageKind) -> tuple[MessageKind, ...]:
    return (*kinds, MessageKind.REDRAW)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    request_id: str
    kind: MessageKind
    attempt: int  # the request's cancel attempt when queued: later attempts supersede it
    tries: int
    recipient: str | None = None  # the user of a direct message
