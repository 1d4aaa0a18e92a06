"""Identifiers shared by the Block Kit builders, the listener registrations and manifest.yml."""

from __future__ import annotations

from enum import StrEnum

SLASH_COMMAND = "/cancel-order"


class ActionId(StrEnum):
    APPROVE = "cancel-order-approve"
    REJECT = "cancel-order-reject"
    WITHDRAW = "cancel-order-withdraw"
    RETRY = "cancel-order-retry"
    SEND_ANYWAY = "cancel-order-send-anyway"  # approve although a re-read predicts a refusal


class CallbackId(StrEnum):
    REJECT_MODAL = "cancel-order-reject-modal"
    REQUEST_MODAL = "cancel-order-request-modal"


class BlockId(StrEnum):
    DECISION = "cancel-order-decision"
    REJECT_REASON = "cancel-order-reject-reason"
    REQUEST_ORDER = "cancel-order-request-order"
    REQUEST_CATEGORY = "cancel-order-request-category"
    REQUEST_REASON = "cancel-order-request-reason"


class InputActionId(StrEnum):
    REJECT_REASON = "reject-reason-input"
    REQUEST_ORDER = "request-order-input"
    REQUEST_CATEGORY = "request-category-input"
    REQUEST_REASON = "request-reason-input"
