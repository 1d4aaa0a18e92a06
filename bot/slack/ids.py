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
    CHOOSE_ORDERS = "cancel-order-choose-orders"  # a search's result: open the choice of orders


class CallbackId(StrEnum):
    REJECT_MODAL = "cancel-order-reject-modal"
    REQUEST_MODAL = "cancel-order-request-modal"
    CHOICE_MODAL = "cancel-order-choice-modal"  # the orders a search found, to choose from


class BlockId(StrEnum):
    DECISION = "cancel-order-decision"
    REJECT_REASON = "cancel-order-reject-reason"
    REQUEST_ORDER = "cancel-order-request-order"
    REQUEST_CATEGORY = "cancel-order-request-category"
    REQUEST_REASON = "cancel-order-request-reason"
    # The choice modal's checkboxes, 10 a block: `cancel-order-choice-orders-1`, `-2`…
    CHOICE_ORDERS = "cancel-order-choice-orders"


class InputActionId(StrEnum):
    REJECT_REASON = "reject-reason-input"
    REQUEST_ORDER = "request-order-input"
    REQUEST_CATEGORY = "request-category-input"
    REQUEST_REASON = "request-reason-input"
    CHOICE_ORDERS = "choice-orders-input"
