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


class OrderState(StrEnum):
    """Where one order of a bulk request stands. The request's own status says where the whole
    request stands (pending, approved, executing…); each order is sent at most once per run."""

    WAITING = "waiting"  # to be sent when the request runs
    SENDING = "sending"  # claimed: its DELETE may be on its way (never resent before a read)
    SUCCEEDED = "succeeded"  # MouvONE cancelled it (or it was cancelled already)
    FAILED = "failed"  # MouvONE refused it (the code says why), or the call failed for good
    UNKNOWN = "unknown"  # the DELETE may have reached MouvONE: read back before anything else
    UNAVAILABLE = "unavailable"  # MouvONE surely did not act (no connection, 429): Retry sends
    SKIPPED = "skipped"  # the preview found nothing to cancel (no such order, cancelled already)


# Orders a Retry may send again (after reading back the unknown ones first).
RETRYABLE_ORDER_STATES = frozenset({OrderState.UNAVAILABLE, OrderState.UNKNOWN})
FINAL_ORDER_STATES = frozenset({OrderState.SUCCEEDED, OrderState.FAILED, OrderState.SKIPPED})


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One order of a bulk request: its own state, attempts and outcome."""

    order_id: str
    position: int
    state: OrderState
    attempts: int = 0
    outcome_code: str | None = None
    outcome_failure: str | None = None
    outcome_message: str | None = None
    outcome_http_status: int | None = None
    outcome_note: str | None = None
    outcome_at: datetime | None = None
    settle_reads: int = 0
    preview_state: str | None = None
    preview_code: str | None = None
    preview_failure: str | None = None
    preview_order: CustomerOrder | None = None


@dataclass(frozen=True, slots=True)
class OrderTotals:
    """How many orders of a bulk request ended each way."""

    cancelled: int = 0
    refused: int = 0
    unknown: int = 0
    unavailable: int = 0
    skipped: int = 0
    open: int = 0  # waiting or being sent
    refused_codes: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.open == 0


def order_totals(orders: tuple[OrderItem, ...]) -> OrderTotals:
    counts = dict.fromkeys(OrderState, 0)
    codes: list[str] = []
    for order in orders:
        counts[order.state] += 1
        if order.state is OrderState.FAILED:
            code = order.outcome_code or order.outcome_failure or "error"
            if code not in codes:
                codes.append(code)
    return OrderTotals(
        cancelled=counts[OrderState.SUCCEEDED],
        refused=counts[OrderState.FAILED],
        unknown=counts[OrderState.UNKNOWN],
        unavailable=counts[OrderState.UNAVAILABLE],
        skipped=counts[OrderState.SKIPPED],
        open=counts[OrderState.WAITING] + counts[OrderState.SENDING],
        refused_codes=tuple(codes),
    )


def bulk_status(orders: tuple[OrderItem, ...]) -> RequestStatus:
    """The status of a bulk request once every order of a run has an answer: UNKNOWN while one
    may have reached MouvONE unread, APPROVED (Retry offered) while one surely was not acted on,
    else SUCCEEDED if any order was cancelled, FAILED if none was."""
    totals = order_totals(orders)
    if totals.unknown:
        return RequestStatus.UNKNOWN
    if totals.unavailable or totals.open:
        return RequestStatus.APPROVED
    return RequestStatus.SUCCEEDED if totals.cancelled else RequestStatus.FAILED


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
    # The orders of a bulk request (several orders, one approval), in the order asked; empty
    # for a single-order request, whose order is `order_id` (bot/storage/orders.py).
    orders: tuple[OrderItem, ...] = ()

    @property
    def is_bulk(self) -> bool:
        return bool(self.orders)

    @property
    def order_ids(self) -> tuple[str, ...]:
        return tuple(o.order_id for o in self.orders) if self.orders else (self.order_id,)

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
    # Direct message to the requester: the bot stopped before posting the request, withdrawn.
    DM_NOT_POSTED = "dm_not_posted"
    # A bulk request's one summary reply in its thread: posted once, then edited in place as
    # the orders' answers come in (its ts is stored; see bot/storage/orders.py).
    SUMMARY = "summary"

    @property
    def lane(self) -> str:
        """Effects of one request in the same lane are delivered in order; lanes are not
        ordered against each other (a redraw never waits for a reply, nor a DM for either)."""
        if self is MessageKind.REDRAW:
            return "redraw"
        if self is MessageKind.SUMMARY:
            return "summary"
        return "dm" if self.value.startswith("dm_") else "thread"


# Effects rendered whole from the request's state when sent: of two waiting for the same
# recipient, the older says nothing the newer (of these kinds) does not. REDRAW and SUMMARY have
# their own rule in the store (the newest delivered stands for the older ones).
_REPLIES = frozenset({MessageKind.OUTCOME, MessageKind.UNAVAILABLE})
SAME_WHEN_LATE: dict[MessageKind, frozenset[MessageKind]] = {
    MessageKind.OUTCOME: _REPLIES,
    MessageKind.UNAVAILABLE: _REPLIES,
    MessageKind.DM_FINISHED: frozenset({MessageKind.DM_FINISHED}),
}


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


@dataclass(frozen=True, slots=True)
class Claim:
    """An outbox message taken for sending by this instance.

    `maybe_posted`: an earlier attempt may have reached Slack without its answer being recorded
    (its claim ran out, it was stopped mid-call, or it timed out, lost its connection or got a
    5xx). Such a message is looked for in Slack before it is posted again. For a bulk request's
    summary it covers every summary delivery of the request (any of them may have posted it).
    """

    maybe_posted: bool = False
