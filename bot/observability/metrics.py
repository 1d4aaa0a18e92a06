"""Prometheus metrics of one bot process, served at GET /metrics in HTTP mode.

One `Metrics` per runtime with its own registry (no global default registry), fed by the store's
change listener (requests, decisions, outcomes) and by the SOGET client's observer (latency,
errors by code, retries, token fetches). Every sample carries an `instance` label naming the
process (INSTANCE_ID), so the replicas behind one load balancer can be told apart.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bot.domain.requests import CancelRequest, RequestStatus
from bot.i18n.catalogue import CATALOGUE
from bot.soget.errors import SogetApiError, SogetError, SogetTimeout, SogetUnreachable

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Statuses that are not an outcome yet: a request passes through them on its way.
_IN_PROGRESS = frozenset({RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.EXECUTING})
_DECISIONS = {RequestStatus.APPROVED: "approved", RequestStatus.REJECTED: "rejected"}
# Up to the longest SOGET timeout we allow (SOGET_TIMEOUT_SECONDS ≤ 300 s, 20 s by default).
_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)


INSTANCE_LABEL = "instance"


class Metrics:
    def __init__(self, instance: str = "") -> None:
        self.instance = instance
        self.registry = CollectorRegistry()
        self.requests_opened = Counter(
            "cancel_order_requests_opened",
            "Cancel requests opened with /cancel-order",
            registry=self.registry,
        )
        self.request_outcomes = Counter(
            "cancel_order_request_outcomes",
            "Cancel requests reaching an outcome, by outcome (a request whose outcome was "
            "unknown and is resent counts again when its final outcome is known)",
            ["outcome"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "cancel_order_decisions",
            "Decisions taken by approvers",
            ["decision"],
            registry=self.registry,
        )
        self.api_latency = Histogram(
            "soget_api_request_duration_seconds",
            "Time of each call to SOGET's customer-orders API, by method and HTTP status "
            "(or timeout / unreachable)",
            ["method", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.api_errors = Counter(
            "soget_api_errors",
            "Failed calls to SOGET's API, by documented error code or failure kind",
            ["code"],
            registry=self.registry,
        )
        self.api_retries = Counter(
            "soget_api_retries",
            "Calls to SOGET's API sent again after a failure where the API did not act",
            ["method", "reason"],
            registry=self.registry,
        )
        self.token_fetches = Counter(
            "soget_token_fetches",
            "Requests to SOGET's token endpoint, by result",
            ["result"],
            registry=self.registry,
        )
        # Known series start at 0, so dashboards and rate() see them before the first event.
        for status in RequestStatus:
            if status not in _IN_PROGRESS:
                self.request_outcomes.labels(status.value)
        for decision in _DECISIONS.values():
            self.decisions.labels(decision)

    def render(self) -> bytes:
        if not self.instance:
            return generate_latest(self.registry)
        exposed = CollectorRegistry()
        exposed.register(_Labelled(self.registry, {INSTANCE_LABEL: self.instance}))
        return generate_latest(exposed)

    # -- the store's change listener ---------------------------------------------------------

    def on_change(self, request: CancelRequest, event: str) -> None:
        if event == "requested":
            self.requests_opened.inc()
            return
        decision = _DECISIONS.get(request.status)
        if decision is not None and event == decision:  # not a re-entry after "unavailable"
            self.decisions.labels(decision).inc()
        if request.status not in _IN_PROGRESS:
            self.request_outcomes.labels(request.status.value).inc()

    # -- the SOGET client's observer -----------------------------------------------------------

    def observe_attempt(
        self, method: str, seconds: float, status: int | None, error: SogetError | None
    ) -> None:
        self.api_latency.labels(method, _status_label(status, error)).observe(seconds)
        if error is not None:
            self.api_errors.labels(error_code_label(error)).inc()

    def observe_retry(self, method: str, error: SogetError) -> None:
        self.api_retries.labels(method, _status_label(error.http_status, error)).inc()

    def observe_token_fetch(self, result: str) -> None:
        self.token_fetches.labels(result).inc()


def error_code_label(error: SogetError) -> str:
    """The documented code, or our failure kind; unknown codes are folded to keep labels few."""
    if isinstance(error, SogetApiError):
        return error.code if error.code in CATALOGUE else "unknown_code"
    return error.failure_kind.value


def _status_label(status: int | None, error: SogetError | None) -> str:
    if status is not None:
        return str(status)
    if isinstance(error, SogetTimeout):
        return "timeout"
    if isinstance(error, SogetUnreachable):
        return "unreachable"
    return "error"


class _Labelled(Collector):
    """A registry's samples with constant labels added (prometheus_client has no const labels)."""

    def __init__(self, registry: CollectorRegistry, labels: dict[str, str]) -> None:
        self._registry = registry
        self._labels = labels

    def collect(self) -> Iterator[Metric]:
        for family in self._registry.collect():
            family.samples = [
                sample._replace(labels={**sample.labels, **self._labels})
                for sample in family.samples
            ]
            yield family
