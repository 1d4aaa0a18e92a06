"""The failures of a SOGET call, and the failure kind each one is shown as.

Catch at the level you need:

    SogetError
    ├── SogetApiError          documented body {timestamp, code, message}: a business answer
    ├── SogetHttpError         non-2xx without the documented body (gateway 401/403, 404, 5xx…)
    ├── SogetInvalidResponse   an answer we cannot read (not JSON, wrong shape)
    ├── SogetUnreachable       the request never reached the API (connect, TLS): nothing done
    ├── SogetTimeout           the request was sent but no answer came: the outcome is unknown
    └── SogetTokenError        the token endpoint issued no token: nothing was sent
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import ValidationError

from bot.i18n.catalogue import FailureKind
from bot.soget.models import ApiErrorBody


class SogetError(Exception):
    """Base of every failure of a SOGET call. Messages never carry credentials."""

    failure_kind: FailureKind = FailureKind.UNEXPECTED_STATUS
    http_status: int | None = None


class SogetApiError(SogetError):
    """The API answered with its documented error body."""

    def __init__(
        self, *, http_status: int, code: str, message: str | None, timestamp: str | None
    ) -> None:
        super().__init__(f"SOGET answered {http_status} {code}")
        self.http_status = http_status
        self.code = code
        self.api_message = message
        self.api_timestamp = timestamp
        self.failure_kind = FailureKind.UNKNOWN_CODE


class SogetHttpError(SogetError):
    """A non-2xx answer without the documented body, classified by status."""

    def __init__(
        self,
        http_status: int,
        retry_after: float | None = None,
        gateway_message: str | None = None,
    ) -> None:
        super().__init__(f"SOGET answered HTTP {http_status} without an error code")
        self.http_status = http_status
        self.retry_after = retry_after
        # The API gateway's own `message` (e.g. "invalid subscription key"), for the log only.
        self.gateway_message = gateway_message
        self.failure_kind = _kind_for_status(http_status)


class SogetInvalidResponse(SogetError):
    failure_kind = FailureKind.INVALID_BODY

    def __init__(self, http_status: int, detail: str) -> None:
        super().__init__(f"SOGET answered HTTP {http_status} with a body we cannot read: {detail}")
        self.http_status = http_status


class SogetUnreachable(SogetError):
    """Nothing reached the API, so nothing was changed."""

    def __init__(self, detail: str, *, tls: bool = False) -> None:
        super().__init__(f"SOGET could not be reached: {detail}")
        self.failure_kind = FailureKind.TLS_FAILURE if tls else FailureKind.CONNECTION_FAILED


class SogetTimeout(SogetError):
    """The call was sent and no answer came in time: it may or may not have been applied."""

    failure_kind = FailureKind.TIMEOUT


class SogetTokenError(SogetError):
    """The token endpoint refused to issue a token, or answered something unreadable.

    Nothing was sent to the customer-orders API, so nothing was changed.
    """

    def __init__(self, http_status: int | None, detail: str, kind: FailureKind) -> None:
        super().__init__(f"SOGET's token endpoint: {detail}")
        self.http_status = http_status
        self.failure_kind = kind


def _kind_for_status(status: int) -> FailureKind:
    if status == 401:
        return FailureKind.GATEWAY_UNAUTHORIZED
    if status == 403:
        return FailureKind.GATEWAY_FORBIDDEN
    if status == 404:
        return FailureKind.ENDPOINT_NOT_FOUND
    if status == 408:
        return FailureKind.REQUEST_TIMEOUT_STATUS
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status >= 500:
        return FailureKind.SERVER_ERROR
    return FailureKind.UNEXPECTED_STATUS


def error_from(response: httpx.Response) -> SogetError:
    """The error a non-2xx answer stands for: the documented body when it has one, else the HTTP
    status (docs/soget-api.md §5)."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "code" in body:
        try:
            parsed = ApiErrorBody.model_validate(body)
        except ValidationError:
            return SogetInvalidResponse(response.status_code, "error body without a usable code")
        return SogetApiError(
            http_status=response.status_code,
            code=parsed.code,
            message=parsed.message,
            timestamp=parsed.timestamp,
        )
    if response.status_code == 400:
        # A 400 must carry the documented body; anything else is unreadable.
        return SogetInvalidResponse(400, "not the documented error body")
    gateway_message = body.get("message") if isinstance(body, dict) else None
    return SogetHttpError(
        response.status_code,
        _retry_after(response),
        gateway_message[:200] if isinstance(gateway_message, str) else None,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
