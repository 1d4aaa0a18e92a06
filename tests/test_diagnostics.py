"""Tests for bot.diagnostics: which setting the log names, at which level, and no secret."""

from __future__ import annotations

import logging

import pytest

from bot.soget.diagnostics import credential_hint, log_soget_failure
from bot.soget.errors import (
    SogetApiError,
    SogetError,
    SogetHttpError,
    SogetInvalidResponse,
    SogetTimeout,
    SogetUnreachable,
)


@pytest.mark.parametrize(
    ("status", "said", "named", "not_named"),
    [
        (401, "Access denied due to missing subscription key.", "SOGET_API_KEY", "ACCESS_TOKEN"),
        (401, "Access denied due to invalid subscription key.", "SOGET_API_KEY", "ACCESS_TOKEN"),
        (401, "Invalid JWT.", "SOGET_ACCESS_TOKEN", "API_KEY"),
        (401, "Unauthorized. Access token is missing or invalid.", "SOGET_ACCESS_TOKEN", "API_KEY"),
        (401, None, "SOGET_ACCESS_TOKEN", None),
        (401, "denied", "SOGET_API_KEY", None),
        (403, "Out of call volume quota.", "SOGET_API_KEY", None),
    ],
)
def test_credential_hint(status: int, said: str | None, named: str, not_named: str | None) -> None:
    hint = credential_hint(SogetHttpError(status, gateway_message=said))
    assert hint is not None and named in hint
    if not_named:
        assert not_named not in hint


def test_no_hint_for_other_statuses() -> None:
    assert credential_hint(SogetHttpError(500)) is None


@pytest.mark.parametrize(
    ("error", "level", "words"),
    [
        (SogetHttpError(401, gateway_message="Invalid JWT."), logging.ERROR, "SOGET_ACCESS_TOKEN"),
        (SogetHttpError(403), logging.ERROR, "does not allow this API"),
        (SogetHttpError(404), logging.ERROR, "SOGET_API_URL"),
        (SogetUnreachable("ConnectError", tls=True), logging.ERROR, "TLS"),
        (
            SogetApiError(
                http_status=400, code="ORGANIZATION_NOT_FOUND", message=None, timestamp=None
            ),
            logging.ERROR,
            "needs an administrator",
        ),
        (
            SogetApiError(http_status=400, code="R0008", message=None, timestamp=None),
            logging.INFO,
            "R0008",
        ),
        (
            SogetApiError(http_status=400, code="BRAND_NEW", message=None, timestamp=None),
            logging.WARNING,
            "not in the catalogue",
        ),
        (SogetHttpError(503), logging.WARNING, "503"),
        (SogetTimeout("no answer"), logging.WARNING, "no answer"),
        (SogetUnreachable("ConnectError"), logging.WARNING, "could not be reached"),
        (SogetInvalidResponse(200, "not JSON"), logging.WARNING, "not JSON"),
    ],
)
def test_log_level_and_words(
    caplog: pytest.LogCaptureFixture, error: SogetError, level: int, words: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.soget.diagnostics")
    log_soget_failure("cancel", "CDE0000000001", error)
    [record] = caplog.records
    assert record.levelno == level
    assert words in record.getMessage() and "CDE0000000001" in record.getMessage()


def test_opaque_values_in_a_gateway_message_are_cut_out(caplog: pytest.LogCaptureFixture) -> None:
    key = "0123456789abcdef0123456789abcdef"
    error = SogetHttpError(401, gateway_message=f"Access denied for subscription key {key}.")
    log_soget_failure("preview", "CDE0000000001", error)
    [record] = caplog.records
    assert key not in record.getMessage()
    assert "[redacted]" in record.getMessage()
