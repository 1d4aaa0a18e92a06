"""Scenario 3: the store with up to 1,000,000 historical requests (and their events).

The history is bulk-loaded through the bot's own schema (`Store.open` creates it), in big
transactions with the stdlib driver; the timed calls then go through `Store`, as the bot
makes them (aiosqlite, WAL, synchronous=FULL). Sizes grow in steps on one file, so each
step shows how the same calls scale.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.stats import percentile
from bot.domain.events import EventKind
from bot.domain.requests import RequestStatus
from bot.storage.store import Store

# The fate of historical requests: most are cancelled, and few stay pending (0.1 %).
_FATES = (
    (RequestStatus.SUCCEEDED, 0.82),
    (RequestStatus.FAILED, 0.08),
    (RequestStatus.REJECTED, 0.08),
    (RequestStatus.WITHDRAWN, 0.019),
    (RequestStatus.PENDING, 0.001),
)
_EVENTS = {
    RequestStatus.PENDING: ("requested", "posted"),
    RequestStatus.WITHDRAWN: ("requested", "withdrawn"),
    RequestStatus.REJECTED: ("requested", "posted", "rejected"),
}
_DEFAULT_EVENTS = ("requested", "posted", "approved", "cancel_sent", "outcome", "outcome_posted")
REQUESTS_PER_ORDER = 3
_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 50_000


@dataclass(frozen=True, slots=True)
class Timing:
    median_ms: float
    p95_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        ms = [s * 1000 for s in seconds]
        return cls(statistics.median(ms), percentile(ms, 95))

    def show(self) -> str:
        return f"{self.median_ms:.3f} ({self.p95_ms:.3f})"


@dataclass(frozen=True, slots=True)
class StorageStep:
    requests: int
    events: int
    build_rate: float  # rows (requests + events) per second in the bulk load of this step
    file_mib: float
    timings: dict[str, Timing]
    plans: dict[str, str]


@dataclass
class StorageResult:
    steps: list[StorageStep] = field(default_factory=list)
    calls_per_query: int = 0


# The timed calls, by name; `plans` shows how SQLite runs the SQL behind each.
QUERIES = {
    "history_of_order": (
        "SELECT * FROM requests WHERE order_id = ?"
        " UNION ALL SELECT r.* FROM request_orders o JOIN requests r ON r.id = o.request_id"
        " WHERE o.order_id = ? AND r.order_id <> ?"
        " ORDER BY created_at DESC LIMIT ?"
    ),
    # One order's arm of the duplicate guard (bot/storage/orders.py), run once per order.
    "guard + open (20 orders, fsync)": (
        "SELECT r.id, r.created_at FROM requests r WHERE r.order_id = ? AND"
        " (r.status IN (?, ?, ?, ?) OR (r.status = 'succeeded' AND r.outcome_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM request_orders x WHERE x.request_id = r.id"
        " AND x.order_id = ? AND x.state <> 'succeeded')))"
        " UNION ALL SELECT r.id, r.created_at FROM request_orders o"
        " JOIN requests r ON r.id = o.request_id WHERE o.order_id = ? AND"
        " (r.status IN (?, ?, ?, ?) OR (r.status = 'succeeded' AND r.outcome_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM request_orders x WHERE x.request_id = r.id"
        " AND x.order_id = ? AND x.state <> 'succeeded')))"
        " ORDER BY 2 DESC LIMIT 1"
    ),
    "with_status(pending)": "SELECT * FROM requests WHERE status IN (?) ORDER BY created_at",
    "unfinished (start)": "SELECT * FROM requests WHERE status IN (?, ?) ORDER BY created_at",
    "get": "SELECT * FROM requests WHERE id = ?",
}


class _History:
    """Generates the historical rows, deterministically."""

    def __init__(self, seed: int = 4) -> None:
        self._rng = random.Random(seed)
        self.count = 0
        self.ids: list[str] = []  # a sample, for lookups

    def rows(self, count: int) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        requests: list[tuple[object, ...]] = []
        events: list[tuple[object, ...]] = []
        statuses = [status for status, _share in _FATES]
        weights = [share for _status, share in _FATES]
        for index in range(self.count, self.count + count):
            request_id = uuid.UUID(int=self._rng.getrandbits(128)).hex
            status = self._rng.choices(statuses, weights)[0]
            created = _EPOCH + timedelta(minutes=index)
            at = created.isoformat(timespec="microseconds")
            later = (created + timedelta(minutes=3)).isoformat(timespec="microseconds")
            done = status not in (RequestStatus.PENDING, RequestStatus.WITHDRAWN)
            cancelled = status in (RequestStatus.SUCCEEDED, RequestStatus.FAILED)
            requests.append(
                (
                    request_id,
                    f"CDE{index // REQUESTS_PER_ORDER:010d}",
                    "C0CHANNEL1",
                    "U0REQUEST1",
                    "customer asked to cancel",
                    status.value,
                    at,
                    later if done else at,
                    f"{1700000000 + index}.000100",
                    "U0APPROVE1" if done else None,
                    later if done else None,
                    "R0008" if status is RequestStatus.FAILED else None,
                    (400 if status is RequestStatus.FAILED else 200) if cancelled else None,
                    later if cancelled else None,
                    later if cancelled else None,
                    1 if cancelled else 0,
                )
            )
            for kind in _EVENTS.get(status, _DEFAULT_EVENTS):
                events.append((request_id, at, kind, None, None))
            if self._rng.random() < 0.01 and len(self.ids) < 5000:
                self.ids.append(request_id)
        self.count += count
        return requests, events


_INSERT_REQUEST = (
    "INSERT INTO requests (id, order_id, channel_id, requester_id, reason, status, created_at,"
    " updated_at, message_ts, decided_by, decided_at, outcome_code, outcome_http_status,"
    " outcome_at, outcome_posted_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " ?, ?, ?)"
)
_INSERT_EVENT = "INSERT INTO events (request_id, at, kind, actor, detail) VALUES (?, ?, ?, ?, ?)"


def _bulk_load(path: Path, history: _History, count: int) -> tuple[int, float]:
    """Append `count` requests and their events; (events added, seconds)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")  # a bulk load, not the bot's own writes
    added_events = 0
    started = time.perf_counter()
    for chunk in _chunks(count, BATCH):
        requests, events = history.rows(chunk)
        db.execute("BEGIN")
        db.executemany(_INSERT_REQUEST, requests)
        db.executemany(_INSERT_EVENT, events)
        db.execute("COMMIT")
        added_events += len(events)
    elapsed = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return added_events, elapsed


def _chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size


def _plans(path: Path) -> dict[str, str]:
    db = sqlite3.connect(path)
    try:
        plans = {}
        for name, sql in QUERIES.items():
            parameters = (None,) * sql.count("?")
            rows = db.execute("EXPLAIN QUERY PLAN " + sql, parameters).fetchall()
            plans[name] = "; ".join(str(row[-1]) for row in rows)
        return plans
    finally:
        db.close()


async def _time(call: Callable[[], Awaitable[object]], repeat: int) -> Timing:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return Timing.of(samples)


async def _time_calls(path: Path, history: _History, repeat: int) -> dict[str, Timing]:
    store = await Store.open(path)
    rng = random.Random(history.count)
    try:
        orders = history.count // REQUESTS_PER_ORDER
        timings = {
            "history_of_order": await _time(
                lambda: store.history_of_order(f"CDE{rng.randrange(orders):010d}"), repeat
            ),
            "with_status(pending)": await _time(
                lambda: store.with_status(RequestStatus.PENDING), max(3, repeat // 10)
            ),
            "unfinished (start)": await _time(
                lambda: store.with_status(RequestStatus.APPROVED, RequestStatus.EXECUTING),
                repeat,
            ),
            "get": await _time(lambda: store.get(rng.choice(history.ids)), repeat),
        }
        created: list[str] = []

        async def create() -> None:
            request = await store.create_request(
                order_id="CDE9999999999", channel_id="C0CHANNEL1", requester_id="U0R", reason=""
            )
            created.append(request.id)

        timings["create_request (fsync)"] = await _time(create, repeat)

        async def open_bulk() -> None:
            await store.create_for_orders(
                order_ids=[f"CDE{rng.randrange(orders):010d}" for _ in range(20)],
                channel_id="C0CHANNEL1",
                requester_id="U0R",
                reason="",
                active=(
                    RequestStatus.PENDING,
                    RequestStatus.APPROVED,
                    RequestStatus.EXECUTING,
                    RequestStatus.UNKNOWN,
                ),
                succeeded_since=datetime.now(UTC) - timedelta(days=1),
            )

        timings["guard + open (20 orders, fsync)"] = await _time(open_bulk, max(3, repeat // 4))
        pending = iter(created)

        async def transition() -> None:
            moved = await store.transition(
                next(pending),
                expected=RequestStatus.PENDING,
                target=RequestStatus.REJECTED,  # terminal: leaves `unfinished` as it was
                actor="U0APPROVE1",
                event=EventKind.REJECTED,
            )
            assert moved is not None

        timings["transition (fsync)"] = await _time(transition, repeat)
        return timings
    finally:
        await store.close()


async def run_storage(workdir: Path, sizes: tuple[int, ...], repeat: int) -> StorageResult:
    path = workdir / "history.sqlite3"
    _remove_database(path)
    await (await Store.open(path)).close()  # the bot's schema, indexes and pragmas
    history = _History()
    result = StorageResult(calls_per_query=repeat)
    total_events = 0
    for size in sorted(sizes):
        added = size - history.count
        events, seconds = await asyncio.to_thread(_bulk_load, path, history, added)
        total_events += events
        timings = await _time_calls(path, history, repeat)
        result.steps.append(
            StorageStep(
                requests=history.count,
                events=total_events,
                build_rate=(added + events) / seconds,
                file_mib=_size_mib(path),
                timings=timings,
                plans=_plans(path),
            )
        )
    _remove_database(path)
    return result


def _remove_database(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()


def _size_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
