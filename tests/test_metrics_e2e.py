"""GET /healthz and GET /metrics of the HTTP mode, after real flows over signed HTTP."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from bot.slack.ids import ActionId
from tests.conftest import (
    APPROVER,
    BOT_TOKEN,
    SIGNING_SECRET,
    SOGET_KEY,
    SOGET_TOKEN,
    BotUnderTest,
)
from tests.fakes.soget_api import Fault

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _metrics(bot: BotUnderTest) -> Samples:
    response = await bot.http.get(bot.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            # Every sample names its process (tests/test_rolling_deploy_e2e.py checks more).
            labels = dict(sample.labels)
            assert labels.pop("instance") == bot.runtime.instance
            samples[(sample.name, frozenset(labels.items()))] = sample.value
    return samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_healthz_says_what_works_without_secrets(bot: BotUnderTest) -> None:
    response = await bot.http.get(bot.url + "/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "detail": "ok",
        "database": "ok",
        "configuration": "loaded",
        "sandbox": False,
        "instance": bot.runtime.instance,
    }
    for secret in (BOT_TOKEN, SIGNING_SECRET, SOGET_TOKEN, SOGET_KEY):
        assert secret not in response.text


async def test_healthz_fails_when_the_database_is_gone(bot: BotUnderTest) -> None:
    await bot.runtime.store.close()

    response = await bot.http.get(bot.url + "/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_metrics_count_requests_decisions_calls_errors_and_retries(
    bot: BotUnderTest,
) -> None:
    before = await _metrics(bot)
    assert _value(before, "cancel_order_request_outcomes_total", outcome="succeeded") == 0
    assert _value(before, "cancel_order_decisions_total", decision="approved") == 0

    bot.soget.add("CDE0000000041")
    bot.soget.add("CDE0000000042", status="Submitted")
    bot.soget.add("CDE0000000043")
    ok = await bot.request_posted_for("CDE0000000041")
    refused = await bot.request_posted_for("CDE0000000042")
    rejected = await bot.request_posted_for("CDE0000000043")
    await bot.click(ActionId.APPROVE, ok, user=APPROVER)
    await bot.wait_posted(ok.id)
    bot.soget.script(
        Fault(status=429, body="", headers={"Retry-After": "0"})
    )  # the refused one is retried once first
    await bot.click(ActionId.APPROVE, refused, user=APPROVER)
    await bot.wait_posted(refused.id)
    await bot.submit_reject(rejected, user=APPROVER, reason=None)
    await bot.wait_status(rejected.id, "rejected")

    after = await _metrics(bot)
    assert _value(after, "cancel_order_requests_opened_total") == 3
    assert _value(after, "cancel_order_decisions_total", decision="approved") == 2
    assert _value(after, "cancel_order_decisions_total", decision="rejected") == 1
    assert _value(after, "cancel_order_request_outcomes_total", outcome="succeeded") == 1
    assert _value(after, "cancel_order_request_outcomes_total", outcome="failed") == 1
    assert _value(after, "cancel_order_request_outcomes_total", outcome="rejected") == 1
    latency = "soget_api_request_duration_seconds_count"
    assert _value(after, latency, method="DELETE", status="200") == 1
    assert _value(after, latency, method="DELETE", status="400") == 1
    assert _value(after, latency, method="DELETE", status="429") == 1
    assert _value(after, "soget_api_errors_total", code="R0008") == 1
    assert _value(after, "soget_api_errors_total", code="rate_limited") == 1
    assert _value(after, "soget_api_retries_total", method="DELETE", reason="429") == 1
    for secret in (SOGET_TOKEN, SOGET_KEY, BOT_TOKEN):
        assert secret not in str(after)
