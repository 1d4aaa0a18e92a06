"""An order's past, as the audit views show it: each request with its audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.requests import CancelRequest, RequestEvent


@dataclass(frozen=True, slots=True)
class RequestHistory:
    request: CancelRequest
    events: list[RequestEvent]
