"""`python -m bench`: every scenario on 127.0.0.1, results written to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.ack import run_ack
from bench.approve import run_approve
from bench.bulk import run_bulk
from bench.burst import run_burst
from bench.flows import running_fakes
from bench.memory import run_memory
from bench.processes import REPO_ROOT, raise_open_files_limit
from bench.storage import run_storage

SCENARIOS = ("ack", "approve", "storage", "memory", "burst", "bulk")
DEFAULT_OUTPUT = REPO_ROOT / "docs" / "benchmarks.md"


@dataclass(frozen=True, slots=True)
class Plan:
    ack_sizes: tuple[int, ...]
    ack_repetitions: int
    approve_rounds: int
    approve_flows: int
    soget_delay: float
    storage_sizes: tuple[int, ...]
    storage_calls: int
    memory_flows: int
    memory_batch: int
    memory_concurrency: int
    burst_size: int
    burst_soget_delay: float  # longer than the preview waits: every read times out
    burst_preview_timeout: float
    bulk_rounds: int
    bulk_orders: int
    bulk_concurrency: int
    bulk_soget_delay: float


FULL = Plan(
    ack_sizes=(50, 200, 1000),
    ack_repetitions=6,
    approve_rounds=5,
    approve_flows=10,
    soget_delay=0.050,
    storage_sizes=(10_000, 100_000, 1_000_000),
    storage_calls=200,
    memory_flows=10_000,
    memory_batch=1_000,
    memory_concurrency=8,
    burst_size=300,
    burst_soget_delay=4.0,
    burst_preview_timeout=3.0,  # the default PREVIEW_TIMEOUT_SECONDS
    bulk_rounds=5,
    bulk_orders=20,
    bulk_concurrency=4,  # the default BULK_CONCURRENCY
    bulk_soget_delay=0.200,
)
QUICK = Plan(
    ack_sizes=(5, 20),
    ack_repetitions=2,
    approve_rounds=2,
    approve_flows=2,
    soget_delay=0.005,
    storage_sizes=(300, 900),
    storage_calls=5,
    memory_flows=20,
    memory_batch=10,
    memory_concurrency=4,
    burst_size=10,
    burst_soget_delay=0.3,
    burst_preview_timeout=0.2,
    bulk_rounds=2,
    bulk_orders=6,
    bulk_concurrency=2,
    bulk_soget_delay=0.02,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke run of every scenario"
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="Markdown file to write the results into (default: docs/benchmarks.md; "
        "with --quick, standard output)",
    )
    parser.add_argument(
        "--only", choices=SCENARIOS, action="append", help="run only this scenario (repeatable)"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where databases and server logs go (default: a temp dir)"
    )
    return parser.parse_args(argv)


def machine() -> list[str]:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    return [
        f"Machine: {os.cpu_count()} cores ({cpu}), {memory} memory, {platform.system()} "
        f"{platform.release()}; shared with other work",
        f"Python {platform.python_version()}",
    ]


async def run(args: argparse.Namespace, workdir: Path, command: str) -> report.Results:
    plan = QUICK if args.quick else FULL
    chosen = args.only or list(SCENARIOS)
    results = report.Results(
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        command=command,
    )
    started = time.monotonic()
    async with running_fakes() as fakes:
        if "ack" in chosen:
            _say("ack latency")
            results.ack = await run_ack(
                fakes, workdir / "ack", plan.ack_sizes, plan.ack_repetitions
            )
        if "approve" in chosen:
            _say("approve to result")
            results.approve = await run_approve(
                fakes,
                workdir / "approve",
                rounds=plan.approve_rounds,
                flows_per_round=plan.approve_flows,
                soget_delay=plan.soget_delay,
            )
        if "memory" in chosen:
            _say("memory")
            results.memory = await run_memory(
                fakes,
                workdir / "memory",
                flows=plan.memory_flows,
                batch=plan.memory_batch,
                concurrency=plan.memory_concurrency,
            )
        if "burst" in chosen:
            _say("burst")
            results.burst = await run_burst(
                fakes,
                workdir / "burst",
                size=plan.burst_size,
                soget_delay=plan.burst_soget_delay,
                preview_timeout=plan.burst_preview_timeout,
            )
        if "bulk" in chosen:
            _say("bulk request")
            results.bulk = await run_bulk(
                fakes,
                workdir / "bulk",
                rounds=plan.bulk_rounds,
                orders=plan.bulk_orders,
                concurrency=plan.bulk_concurrency,
                soget_delay=plan.bulk_soget_delay,
            )
    if "storage" in chosen:
        _say("storage")
        results.storage = await run_storage(
            workdir / "storage", plan.storage_sizes, plan.storage_calls
        )
    results.duration_s = time.monotonic() - started
    return results


def _say(what: str) -> None:
    print(f"bench: {what}…", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    raise_open_files_limit()
    with tempfile.TemporaryDirectory(prefix="bench-") as temp:
        workdir = args.workdir or Path(temp)
        results = asyncio.run(run(args, workdir, command))
    output: Path | None = args.output or (None if args.quick else DEFAULT_OUTPUT)
    if output is None:
        print(report.render(results))
        return
    report.write(output, report.render(results))
    print(f"bench: results written to {output}", file=sys.stderr)


if __name__ == "__main__":
    main()
