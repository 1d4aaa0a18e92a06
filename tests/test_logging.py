"""Structured logs: one JSON object a line, each line of a request carrying its ids."""

from __future__ import annotations

import contextvars
import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.observability.logs import (
    bind_request,
    configure_logging,
    make_handler,
    new_trace,
    request_context,
)
from bot.slack.ids import ActionId
from tests.conftest import APPROVER, SOGET_KEY, SOGET_TOKEN, BotUnderTest
from tests.fakes.soget_api import Fault

ORDER = "CDE0000000061"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = make_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_every_line_of_a_request_carries_its_request_id(
    bot: BotUnderTest, json_log: io.StringIO
) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(
        Fault(status=429, body="", headers={"Retry-After": "0"})
    )  # a retry logs from the background task
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)

    lines = _lines(json_log)
    about = [line for line in lines if line.get("request_id") == request.id]
    messages = [line["message"] for line in about]
    assert any("asks to cancel" in m for m in messages)  # the slash command
    assert any("approved by" in m for m in messages)  # the click
    assert any("retrying" in m for m in messages)  # the background cancel
    asked = next(line for line in about if "asks to cancel" in line["message"])
    approved = next(line for line in about if "approved by" in line["message"])
    assert asked["trace_id"] and approved["trace_id"]
    assert asked["trace_id"] != approved["trace_id"]  # two Slack requests, two traces
    for line in lines:
        assert set(line) >= {"time", "level", "logger", "message"}
        if ORDER in line["message"] or request.id in line["message"]:
            assert line.get("request_id") == request.id, line
    text = json_log.getvalue()
    assert SOGET_TOKEN not in text and SOGET_KEY not in text


def test_json_lines_carry_exceptions_on_one_line() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.logging.json")
    handler = make_handler("json", stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with request_context("abc123"):
            try:
                raise ValueError("boom")
            except ValueError:
                logger.exception("it failed: %s", "badly")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True

    first, second = stream.getvalue().splitlines()
    failed = json.loads(first)
    assert failed["message"] == "it failed: badly"
    assert failed["level"] == "ERROR" and failed["request_id"] == "abc123"
    assert "ValueError: boom" in failed["exception"]
    assert "request_id" not in json.loads(second)


def test_text_lines_end_with_the_ids() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = list(root.handlers), root.level

    def log_in_a_fresh_context() -> str:
        trace = new_trace()
        bind_request("req42")
        logging.getLogger("bot.test").info("hello %s", "there")
        return trace

    try:
        configure_logging("INFO", "text", stream)
        trace = contextvars.Context().run(log_in_a_fresh_context)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])

    assert (
        stream.getvalue().rstrip().endswith(f"bot.test: hello there [request=req42 trace={trace}]")
    )
