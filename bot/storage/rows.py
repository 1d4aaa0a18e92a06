"""How rows become requests and times become text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.requests import CancelRequest, OrderItem, OrderState, RequestStatus
from bot.soget.models import CustomerOrder
from bot.storage.engine import Row
from bot.storage.schema import ADDED_COLUMNS

DATETIME_COLUMNS = (
    "created_at",
    "updated_at",
    "decided_at",
    "outcome_at",
    "outcome_posted_at",
    "preview_at",
    "reminded_at",
    "lease_until",
    "settle_at",
)
UPDATABLE_COLUMNS = frozenset(
    {
        "message_ts",
        "decided_by",
        "decided_at",
        "decision_note",
        "outcome_code",
        "outcome_failure",
        "outcome_message",
        "outcome_timestamp",
        "outcome_http_status",
        "outcome_note",
        "outcome_at",
        "outcome_posted_at",
        *(name for name, _type in ADDED_COLUMNS),
    }
)


def first(rows: Iterable[Row]) -> Row | None:
    return next(iter(rows), None)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def to_request(row: Row) -> CancelRequest:
    data = dict(row)
    for column in DATETIME_COLUMNS:
        if data[column] is not None:
            data[column] = datetime.fromisoformat(data[column])
    data["status"] = RequestStatus(data["status"])
    if data["preview_order"] is not None:
        data["preview_order"] = CustomerOrder.model_validate_json(data["preview_order"])
    return CancelRequest(**data)


def to_order(row: Row) -> OrderItem:
    data = dict(row)
    data.pop("request_id", None)
    data["state"] = OrderState(data["state"])
    if data["outcome_at"] is not None:
        data["outcome_at"] = datetime.fromisoformat(data["outcome_at"])
    if data["preview_order"] is not None:
        data["preview_order"] = CustomerOrder.model_validate_json(data["preview_order"])
    return OrderItem(**data)
