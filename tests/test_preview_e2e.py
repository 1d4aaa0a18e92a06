"""The order preview over signed HTTP: what approvers see before deciding, and what stops a
doomed request before anyone is asked."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.domain.requests import CancelRequest
from bot.i18n.catalogue import CATALOGUE, FAILURES, FailureKind, Language
from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    REQUESTER,
    SIGNING_SECRET,
    SOGET_KEY,
    SOGET_TOKEN,
    BotUnderTest,
    make_settings,
    serve_bot,
)
from tests.fakes.server import RecordedRequest
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget, Fault

ORDER = "CDE0000000007"


def _shown(body: dict[str, Any]) -> str:
    blocks = body.get("blocks")
    return (
        json.dumps(blocks, ensure_ascii=False) if not isinstance(blocks, str) else blocks
    ) + str(body.get("text"))


@asynccontextmanager
async def custom_bot(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, **overrides: Any
) -> AsyncIterator[BotUnderTest]:
    settings = make_settings(fake_slack, fake_soget, tmp_path / "custom.sqlite3", **overrides)
    runner, under_test = await serve_bot(settings, fake_slack, fake_soget)
    try:
        yield under_test
    finally:
        await under_test.http.aclose()
        await runner.cleanup()


async def _withdrawn_reply(bot: BotUnderTest, order_id: str = ORDER) -> tuple[CancelRequest, str]:
    """Send the command and wait for the private reply of a request the preview stopped."""
    response = await bot.command(f"{order_id} customer asked")
    assert response.status_code == 200
    await bot.slack.wait_until(lambda: bool(bot.slack.webhooks()), what="private reply")
    [reply] = bot.slack.webhooks()
    assert reply.body["response_type"] == "ephemeral"
    [stored] = await bot.runtime.store.history_of_order(order_id)
    return stored, _shown(reply.body)


# -- an order that can be cancelled ---------------------------------------------------------


async def test_preview_shows_what_approvers_need(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER, transport_order_number="TOC-99-01", container_reference="MSCU1234565")

    request = await bot.request_posted_for(ORDER)

    [get] = bot.soget.gets(ORDER)
    assert get.path == f"/customer-orders/v1/customer-orders/{ORDER}"
    assert get.headers["Authorization"] == f"Bearer {SOGET_TOKEN}"
    assert get.headers["Ocp-Apim-Subscription-Key"] == SOGET_KEY
    [post] = bot.slack.channel_posts()
    shown = _shown(post.body)
    for label, value in [
        ("Type", "Master"),
        ("Status", "Valid"),
        ("Transport order", "TOC-99-01"),
        ("Container", "MSCU1234565 (45G1)"),
        ("Carrier", "Carrier One (CAR01)"),
        ("Contractor", "Forwarder One (FWD01)"),
        ("Client reference", "REF-42"),
    ]:
        assert f"*{label}*\\n{value}" in shown, label
    assert "*Order date*\\n<!date^1795161600^" in shown  # 2026-11-20T08:00:00Z
    assert "will refuse" not in shown and "Preview unavailable" not in shown
    assert ActionId.APPROVE.value in shown
    assert request.preview_state == "ready"
    assert request.preview_order is not None
    assert request.preview_order.transport_order_number == "TOC-99-01"
    assert bot.soget.deletes() == []
    events = [e.kind for e in await bot.runtime.store.events_of(request.id)]
    assert events[:3] == ["requested", "previewed", "posted"]


async def test_preview_survives_the_request_lifecycle(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    request = await bot.request_posted_for(ORDER)

    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    await bot.wait_posted(request.id)
    await bot.wait_delivered(request.id)  # the final redraw is a delivery of its own

    final = _shown(bot.slack.updates(request.message_ts)[-1].body)
    assert "Cancelled in MouvONE" in final
    assert "TOC-02-03-2022" in final  # the redrawn message keeps what the approver saw


async def test_hostile_order_fields_cannot_mention_or_format(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER, transport_order_number="<!channel> *bold* <@U0OUTSIDE1>")

    await bot.request_posted_for(ORDER)

    shown = _shown(bot.slack.channel_posts()[0].body)
    assert "<!channel>" not in shown and "<@U0OUTSIDE1>" not in shown
    assert "&lt;!channel&gt;" in shown


# -- type or status forbids the cancel: posted with a warning --------------------------------


@pytest.mark.parametrize(
    ("fields", "code", "why"),
    [
        ({"type": "Elementary"}, "CANNOT_CANCEL_NOT_MASTER_ORDER", "This is a Elementary order"),
        ({"type": "SegmentTransfer"}, "CANNOT_CANCEL_NOT_MASTER_ORDER", "only cancels Master"),
        ({"status": "Submitted"}, "R0008", "The order's status is Submitted"),
        ({"status": "InProcess"}, "R0008", "The order's status is InProcess"),
    ],
)
async def test_forbidden_type_or_status_is_posted_with_a_warning(
    bot: BotUnderTest, fields: dict[str, Any], code: str, why: str
) -> None:
    bot.soget.add(ORDER, **fields)

    request = await bot.request_posted_for(ORDER)

    shown = _shown(bot.slack.channel_posts()[0].body)
    assert ":warning: *MouvONE will refuse this cancel" in shown
    assert f"(`{code}`)" in shown
    assert CATALOGUE[code].text(Language.EN).title in shown
    assert why in shown
    assert ActionId.APPROVE.value in shown and ActionId.REJECT.value in shown
    assert (request.status.value, request.preview_state, request.preview_code) == (
        "pending",
        "warning",
        code,
    )

    # The approver may still send it; the API then answers what the warning said.
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)
    assert (done.status.value, done.outcome_code) == ("failed", code)


# -- nothing to approve: private reply, no approval request -----------------------------------


async def test_unknown_order_gets_a_private_reply_and_no_request(bot: BotUnderTest) -> None:
    stored, shown = await _withdrawn_reply(bot)  # the fake has no such order

    explanation = CATALOGUE["CUSTOMER_ORDER_NOT_FOUND"].text(Language.EN)
    assert "No approval request was posted" in shown
    assert explanation.title in shown and explanation.next_step in shown
    assert "`CUSTOMER_ORDER_NOT_FOUND`" in shown
    assert "Commande introuvable" in shown  # the API's own message, quoted
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.soget.deletes() == []
    assert stored.status.value == "withdrawn"
    assert stored.decision_note == "preview blocked: CUSTOMER_ORDER_NOT_FOUND"
    assert stored.preview_state == "blocked"


async def test_already_cancelled_order_gets_a_private_reply(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER, status="Cancelled")

    stored, shown = await _withdrawn_reply(bot)

    assert CATALOGUE["ORDER_ALREADY_CANCELED"].text(Language.EN).title in shown
    assert "`ORDER_ALREADY_CANCELED`" in shown
    assert bot.slack.calls("chat.postMessage") == []
    assert bot.soget.deletes() == []
    assert stored.status.value == "withdrawn"
    assert stored.preview_order is not None and stored.preview_order.status == "Cancelled"


async def test_wrong_format_gets_a_private_reply(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    # A looser ORDER_ID_PATTERN lets through an id that MouvONE calls malformed.
    async with custom_bot(fake_slack, fake_soget, tmp_path, order_id_pattern=r"[A-Z]{3}\d+") as bot:
        stored, shown = await _withdrawn_reply(bot, "CDE12")

    assert "`WRONG_FORMAT`" in shown
    assert CATALOGUE["WRONG_FORMAT"].text(Language.EN).next_step in shown
    assert stored.status.value == "withdrawn"
    assert fake_slack.calls("chat.postMessage") == []


async def test_private_reply_follows_the_requesters_language(bot: BotUnderTest) -> None:
    bot.slack.locales[REQUESTER] = "fr-FR"
    bot.soget.add(ORDER, status="Cancelled")

    _stored, shown = await _withdrawn_reply(bot)

    french = CATALOGUE["ORDER_ALREADY_CANCELED"].text(Language.FR)
    assert french.title in shown and french.meaning in shown and french.next_step in shown
    assert "Aucune demande d'approbation" in shown
    assert "No approval request" not in shown
    [info] = bot.slack.calls("users.info")
    assert info.body["user"] == REQUESTER


# -- the preview fails: the request is posted anyway, marked as such --------------------------

UNAVAILABLE = [
    (Fault(method="GET", status=500, body="<html>oops</html>", content_type="text/html"),
     "server_error"),
    (Fault(method="GET", status=503, body=""), "server_error"),
    (Fault(method="GET", status=502, body="", headers={"Retry-After": "1"}), "server_error"),
    (Fault(method="GET", status=429, body='{"statusCode": 429, "message": "Rate limit"}'),
     "rate_limited"),
    (Fault(method="GET", status=408, body=""), "request_timeout_status"),
    (Fault(method="GET", status=401, body='{"statusCode": 401, "message": "Invalid JWT."}'),
     "gateway_unauthorized"),
    (Fault(method="GET", status=403, body='{"statusCode": 403, "message": "Forbidden"}'),
     "gateway_forbidden"),
    (Fault(method="GET", status=404, body="Resource not found", content_type="text/plain"),
     "endpoint_not_found"),
    (Fault(method="GET", status=200, body="<html>portal</html>", content_type="text/html"),
     "invalid_body"),
    (Fault(method="GET", status=200, body='{"items": []}'), "invalid_body"),
    (Fault(method="GET", status=400, body='{"error": "bad"}'), "invalid_body"),
    (Fault(method="GET", status=400, body='{"code": "ORGANIZATION_NOT_FOUND"}'),
     "ORGANIZATION_NOT_FOUND"),
    (Fault(method="GET", status=400, body='{"code": "NEW_CODE_2027", "message": "Nouveau"}'),
     "NEW_CODE_2027"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "shown_code"), UNAVAILABLE, ids=[f"{f.status}-{c}" for f, c in UNAVAILABLE]
)
async def test_failed_preview_still_posts_the_request(
    bot: BotUnderTest, fault: Fault, shown_code: str
) -> None:
    bot.soget.add(ORDER)
    bot.soget.script(fault)

    request = await bot.request_posted_for(ORDER)

    shown = _shown(bot.slack.channel_posts()[0].body)
    assert "*Preview unavailable*" in shown
    assert f"`{shown_code}`" in shown
    assert "Check the order in MouvONE before approving" in shown
    assert ActionId.APPROVE.value in shown
    assert "<html>" not in shown and "Traceback" not in shown
    assert len(bot.soget.gets(ORDER)) == 1  # the preview is never retried
    assert request.status.value == "pending" and request.preview_state == "unavailable"

    # The cancel itself is unaffected by a failed preview.
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    assert (await bot.wait_posted(request.id)).status.value == "succeeded"


async def test_preview_timeout_posts_the_request_unavailable(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    fake_soget.add(ORDER)
    never = asyncio.Event()  # released when the fake stops
    fake_soget.script(Fault(method="GET", hold=never))
    async with custom_bot(fake_slack, fake_soget, tmp_path, preview_timeout_seconds=0.2) as bot:
        request = await bot.request_posted_for(ORDER)

        shown = _shown(fake_slack.channel_posts()[0].body)
        assert "*Preview unavailable*" in shown and "`timeout`" in shown
        assert FAILURES[FailureKind.TIMEOUT].text(Language.EN).title in shown
        assert request.preview_failure == "timeout"
        assert len(fake_soget.gets(ORDER)) == 1


async def test_the_ack_does_not_wait_for_the_preview(bot: BotUnderTest) -> None:
    bot.soget.add(ORDER)
    release = asyncio.Event()
    bot.soget.script(Fault(method="GET", hold=release, status=200, body="{}"))

    response = await bot.command(f"{ORDER} customer asked")

    # Slack got its answer while MouvONE had not answered the preview yet.
    assert response.status_code == 200
    await bot.soget.wait_until(lambda: bool(bot.soget.gets(ORDER)), what="the preview GET")
    assert not release.is_set()
    assert bot.slack.channel_posts() == []

    release.set()
    await bot.slack.wait_until(lambda: bool(bot.slack.channel_posts()), what="the request")
    assert "*Preview unavailable*" in _shown(bot.slack.channel_posts()[0].body)


async def test_unreachable_api_posts_the_request_unavailable(bot: BotUnderTest) -> None:
    await bot.soget.stop()  # nothing listens on the port any more

    await bot.request_posted_for(ORDER)

    shown = _shown(bot.slack.channel_posts()[0].body)
    assert "*Preview unavailable*" in shown and "`connection_failed`" in shown


async def test_tls_failure_is_explained_for_preview_and_cancel(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An https URL on a plain-HTTP port: the TLS handshake fails.
    fake_soget.add(ORDER)
    url = fake_soget.api_url.replace("http://", "https://")
    caplog.set_level(logging.INFO)
    async with custom_bot(fake_slack, fake_soget, tmp_path, soget_api_url=url) as bot:
        request = await bot.request_posted_for(ORDER)
        assert "`tls_failure`" in _shown(fake_slack.channel_posts()[0].body)

        await bot.click(ActionId.APPROVE, request, user=APPROVER)
        done = await bot.wait_posted(request.id)

    assert (done.status.value, done.outcome_failure) == ("failed", "tls_failure")
    [reply] = fake_slack.thread_replies(request.message_ts)
    assert FAILURES[FailureKind.TLS_FAILURE].text(Language.EN).title in _shown(reply.body)
    assert any(r.levelno == logging.ERROR and "TLS" in r.getMessage() for r in caplog.records)


# -- gateway credentials: the channel is told an administrator is needed, the log says which ----


@pytest.mark.parametrize(
    ("status", "gateway_message", "named"),
    [
        (401, "Access denied due to invalid subscription key.", "SOGET_API_KEY"),
        (401, "Invalid JWT.", "SOGET_ACCESS_TOKEN"),
        (401, None, "SOGET_ACCESS_TOKEN) or the subscription key (SOGET_API_KEY"),
        (403, "Forbidden", "subscription behind SOGET_API_KEY"),
    ],
)
async def test_gateway_refusal_logs_which_credential_without_values(
    bot: BotUnderTest,
    caplog: pytest.LogCaptureFixture,
    status: int,
    gateway_message: str | None,
    named: str,
) -> None:
    caplog.set_level(logging.INFO)
    body = json.dumps({"statusCode": status, "message": gateway_message}) if gateway_message else ""
    bot.soget.add(ORDER)
    # The preview, the re-read at approval, then the cancel.
    bot.soget.script(*[Fault(method="*", status=status, body=body)] * 3)

    request = await bot.request_posted_for(ORDER)
    await bot.click(ActionId.APPROVE, request, user=APPROVER)
    done = await bot.wait_posted(request.id)

    kind = FailureKind.GATEWAY_UNAUTHORIZED if status == 401 else FailureKind.GATEWAY_FORBIDDEN
    assert done.outcome_failure == kind.value
    [reply] = bot.slack.thread_replies(request.message_ts)
    assert "administrators" in FAILURES[kind].text(Language.EN).next_step
    assert FAILURES[kind].text(Language.EN).next_step in _shown(reply.body)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len([e for e in errors if named in e]) == 3  # preview, re-read, cancel
    everything = "\n".join(r.getMessage() for r in caplog.records) + _all_slack_text(bot)
    for secret in (SOGET_TOKEN, SOGET_KEY, BOT_TOKEN, SIGNING_SECRET):
        assert secret not in everything


async def test_wrong_credentials_against_the_real_gateway_check(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    fake_soget.add(ORDER)
    async with custom_bot(
        fake_slack, fake_soget, tmp_path, soget_api_key="not-the-subscription-key"
    ) as bot:
        request = await bot.request_posted_for(ORDER)

    assert request.preview_failure == "gateway_unauthorized"
    assert "MouvONE rejected the bot" in _shown(fake_slack.channel_posts()[0].body)


def _all_slack_text(bot: BotUnderTest) -> str:
    requests: list[RecordedRequest] = bot.slack.requests
    return "\n".join(r.raw for r in requests)
