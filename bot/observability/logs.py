"""Logging: plain text or one JSON object a line, every line tagged with what it is about.

Two context variables travel with the work (asyncio tasks copy them when created):
`trace_id`, one per Slack request the bot receives (set by a Bolt middleware), and `request_id`,
the cancel request being handled (set once known: by the middleware for clicks and modals, by
the command handler after opening a request, by the runner for background cancels).
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Literal

_trace_id: ContextVar[str | None] = ContextVar("trace_id", default=None)
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_trace() -> str:
    """Start a new trace in the current context and return its id."""
    trace = uuid.uuid4().hex[:12]
    _trace_id.set(trace)
    return trace


def bind_request(request_id: str | None) -> None:
    """Tag the rest of the current task's log lines with this cancel request id."""
    _request_id.set(request_id or None)


@contextmanager
def request_context(request_id: str) -> Iterator[None]:
    """Tag the lines logged inside the block only."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


def current_ids() -> tuple[str | None, str | None]:
    """(request id, trace id) of the current context."""
    return _request_id.get(), _trace_id.get()


class ContextFilter(logging.Filter):
    """Adds `request_id` and `trace_id` to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id, record.trace_id = current_ids()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "trace_id"):
            value = getattr(record, key, None)
            if value:
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        tags = [
            f"{name}={value}"
            for name, value in (
                ("request", getattr(record, "request_id", None)),
                ("trace", getattr(record, "trace_id", None)),
            )
            if value
        ]
        if not tags:
            return text
        first, newline, rest = text.partition("\n")
        return f"{first} [{' '.join(tags)}]{newline}{rest}"


def make_handler(
    log_format: Literal["text", "json"], stream: IO[str] | None = None
) -> logging.Handler:
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(
    level: str, log_format: Literal["text", "json"], stream: IO[str] | None = None
) -> None:
    """Once, at start: one handler on the root logger, replacing any other."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(make_handler(log_format, stream))
    root.setLevel(level)
