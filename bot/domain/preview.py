"""What the order preview means: whether a cancel of the order read before anyone approves can work.

`predicted_refusal` applies only the documented rules (docs/soget-api.md §4): the server's
answer to the DELETE stays final, since some refusals (R0009, a booked container) depend on data
the preview does not show. Reading the order is `bot.services.preview`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.i18n.catalogue import FailureKind
from bot.soget.errors import SogetApiError, SogetError
from bot.soget.models import CustomerOrder

ALREADY_CANCELLED = "ORDER_ALREADY_CANCELED"
NOT_MASTER = "CANNOT_CANCEL_NOT_MASTER_ORDER"
IN_PROGRESS = "R0008"
# Answers to the GET that mean there is nothing to cancel under this id.
NO_SUCH_ORDER_CODES = frozenset({"CUSTOMER_ORDER_NOT_FOUND", "WRONG_FORMAT"})
# "InProgress" is how R0008's description names InProcess; accept both spellings.
_IN_PROGRESS_STATUSES = frozenset({"submitted", "inprocess", "inprogress"})


class PreviewState(StrEnum):
    READY = "ready"  # the order was read and no documented rule forbids the cancel
    WARNING = "warning"  # the order was read and the API would refuse with `code`
    BLOCKED = "blocked"  # no such order, or cancelled already: nothing for anyone to approve
    UNAVAILABLE = "unavailable"  # the order could not be read; the request is posted anyway


def predicted_refusal(order: CustomerOrder) -> str | None:
    """The code the API would return to a cancel of `order`, by the documented rules, or None."""
    status = order.status.strip().casefold()
    if status == "cancelled":
        return ALREADY_CANCELLED
    if order.type.strip().casefold() != "master":
        return NOT_MASTER
    if status in _IN_PROGRESS_STATUSES:
        return IN_PROGRESS
    return None


@dataclass(frozen=True, slots=True)
class Preview:
    state: PreviewState
    order: CustomerOrder | None = None
    code: str | None = None  # the predicted refusal, or the API's code when the read failed
    failure: FailureKind | None = None  # why the read failed, outside the documented body
    api_message: str | None = None  # the API's own message, when it sent one

    @property
    def blocked(self) -> bool:
        return self.state is PreviewState.BLOCKED

    def columns(self, at: datetime) -> dict[str, Any]:
        """The snapshot stored with the request (see Store's preview_* columns)."""
        return {
            "preview_state": self.state.value,
            "preview_code": self.code,
            "preview_failure": self.failure.value if self.failure else None,
            "preview_order": (
                self.order.model_dump_json(by_alias=True) if self.order is not None else None
            ),
            "preview_at": at,
        }

    def note(self) -> str:
        """One line for the audit trail and the withdrawn request's note."""
        what = self.code or (self.failure.value if self.failure else "")
        return f"preview {self.state.value}" + (f": {what}" if what else "")


def preview_of(result: CustomerOrder | SogetError) -> Preview:
    """Classify what the GET gave: pure, so every branch is tested without HTTP."""
    if isinstance(result, CustomerOrder):
        code = predicted_refusal(result)
        if code is None:
            return Preview(PreviewState.READY, order=result)
        state = PreviewState.BLOCKED if code == ALREADY_CANCELLED else PreviewState.WARNING
        return Preview(state, order=result, code=code)
    if isinstance(result, SogetApiError):
        state = (
            PreviewState.BLOCKED if result.code in NO_SUCH_ORDER_CODES else PreviewState.UNAVAILABLE
        )
        return Preview(state, code=result.code, api_message=result.api_message)
    return Preview(PreviewState.UNAVAILABLE, failure=result.failure_kind)
