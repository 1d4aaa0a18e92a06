"""What one answer to a cancel means for the request. No Slack in here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.requests import MessageKind, RequestStatus
from bot.i18n.catalogue import FailureKind
from bot.i18n.phrases import NOTE_ALREADY_CANCELLED, NOTE_EARLIER_ATTEMPT
from bot.soget.client import (
    SogetApiError,
    SogetError,
    SogetHttpError,
    SogetTimeout,
    SogetUnreachable,
)
from bot.soget.tokens import SogetTokenError

ALREADY_CANCELLED_CODE = "ORDER_ALREADY_CANCELED"


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What one cancel attempt means for the request."""

    status: RequestStatus
    code: str | None = None
    failure: FailureKind | None = None
    api_message: str | None = None
    api_timestamp: str | None = None
    http_status: int | None = None
    note: str | None = None

    @property
    def message(self) -> MessageKind:
        return (
            MessageKind.UNAVAILABLE
            if self.status is RequestStatus.APPROVED
            else MessageKind.OUTCOME
        )


def outcome_of(error: SogetError | None, *, resent: bool) -> CancelOutcome:
    """Classify the answer to a DELETE. `resent`: an earlier attempt may have gone through.

    Only an answer that proves the backend did not act (no connection, a 429 from the gateway,
    no token) leaves the approval standing for a Retry. A 5xx, a 408 or no answer at all may
    come after MouvONE applied the cancel: the outcome is UNKNOWN until the order is read back.
    """
    if error is None:
        return CancelOutcome(status=RequestStatus.SUCCEEDED, http_status=200)
    if isinstance(error, SogetApiError):
        status = RequestStatus.FAILED
        note = None
        if error.code == ALREADY_CANCELLED_CODE:
            status = RequestStatus.SUCCEEDED
            note = NOTE_EARLIER_ATTEMPT if resent else NOTE_ALREADY_CANCELLED
        return CancelOutcome(
            status=status,
            code=error.code,
            api_message=error.api_message,
            api_timestamp=error.api_timestamp,
            http_status=error.http_status,
            note=note,
        )
    return CancelOutcome(
        status=_status_after(error), failure=error.failure_kind, http_status=error.http_status
    )


def _status_after(error: SogetError) -> RequestStatus:
    """The request's status after a DELETE failed without the documented error body."""
    if isinstance(error, SogetTokenError):
        # No token, so no DELETE went out; the token endpoint may recover.
        retryable = error.http_status is None or error.http_status >= 500
        return RequestStatus.APPROVED if retryable else RequestStatus.FAILED
    if isinstance(error, SogetUnreachable):
        connect = error.failure_kind is FailureKind.CONNECTION_FAILED
        return RequestStatus.APPROVED if connect else RequestStatus.FAILED
    if isinstance(error, SogetTimeout):
        return RequestStatus.UNKNOWN
    if isinstance(error, SogetHttpError):
        if error.http_status == 429:
            return RequestStatus.APPROVED  # the gateway turned it away before the backend
        if error.http_status is not None and (error.http_status >= 500 or error.http_status == 408):
            return RequestStatus.UNKNOWN
    return RequestStatus.FAILED


def settle_note(found_status: str | None) -> str:
    """What the read after an unanswered cancel found, stored in `outcome_note`."""
    if found_status is None:
        return "the order could not be read"
    return f"the order's status is {found_status}"
