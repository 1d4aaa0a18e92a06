"""One log line per failed SOGET call, at the level an operator needs.

The line names the setting to check, never its value. Users see the catalogue's explanation;
this is for whoever runs the bot.
"""

from __future__ import annotations

import logging
import re

from bot.i18n.catalogue import CATALOGUE, ErrorCategory, FailureKind, is_documented
from bot.soget.errors import SogetApiError, SogetError, SogetHttpError

logger = logging.getLogger(__name__)

# Long opaque runs (keys, tokens, JWTs) are cut out of a gateway message before it is logged.
_OPAQUE = re.compile(r"[A-Za-z0-9+/=._\-]{20,}")


def credential_hint(error: SogetHttpError) -> str | None:
    """Which credential a gateway 401/403 points at, in words naming the variables."""
    said = (error.gateway_message or "").lower()
    if error.http_status == 401:
        if "subscription" in said or "key" in said:
            return "the subscription key (SOGET_API_KEY) is missing or invalid"
        if any(word in said for word in ("token", "jwt", "bearer", "authorization")):
            return "the bearer token (SOGET_ACCESS_TOKEN) is missing, invalid or expired"
        return (
            "the bearer token (SOGET_ACCESS_TOKEN) or the subscription key (SOGET_API_KEY) "
            "is missing, invalid or expired"
        )
    if error.http_status == 403:
        return (
            "the credentials were accepted but the subscription behind SOGET_API_KEY does not "
            "allow this API (check the subscription on SOGET's API portal)"
        )
    return None


def log_soget_failure(operation: str, order_id: str, error: SogetError) -> None:
    kind = error.failure_kind
    if isinstance(error, SogetHttpError) and kind in (
        FailureKind.GATEWAY_UNAUTHORIZED,
        FailureKind.GATEWAY_FORBIDDEN,
    ):
        said = _OPAQUE.sub("[redacted]", error.gateway_message or "")
        logger.error(
            "SOGET %s of %s: HTTP %s from the API gateway, an administrator must fix the bot's "
            "credentials: %s%s",
            operation,
            order_id,
            error.http_status,
            credential_hint(error),
            f" (gateway said: {said!r})" if said else "",
        )
    elif kind is FailureKind.ENDPOINT_NOT_FOUND:
        logger.error(
            "SOGET %s of %s: HTTP 404 without an error code, the URL does not exist: "
            "check SOGET_API_URL",
            operation,
            order_id,
        )
    elif kind is FailureKind.TLS_FAILURE:
        logger.error(
            "SOGET %s of %s: the TLS connection failed (certificate or protocol): check "
            "SOGET_API_URL and the machine's CA certificates: %s",
            operation,
            order_id,
            error,
        )
    elif isinstance(error, SogetApiError) and not is_documented(error.code):
        logger.warning(
            "SOGET %s of %s: code %r is not in the catalogue; users see it raw",
            operation,
            order_id,
            error.code,
        )
    elif (
        isinstance(error, SogetApiError) and CATALOGUE[error.code].category is ErrorCategory.ACCOUNT
    ):
        logger.error(
            "SOGET %s of %s: %s, the bot's SOGET account needs an administrator",
            operation,
            order_id,
            error.code,
        )
    elif isinstance(error, SogetApiError) and CATALOGUE[error.code].category in (
        ErrorCategory.REFUSED,
        ErrorCategory.ALREADY_DONE,
    ):
        # A business answer about this order, explained to the user: nothing for the admins.
        logger.info("SOGET %s of %s: %s", operation, order_id, error.code)
    else:
        logger.warning("SOGET %s of %s: %s", operation, order_id, error)
