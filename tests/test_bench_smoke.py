"""The benchmark command keeps working: a quick run of every scenario writes its report.

No timing is asserted here; the figures live in docs/benchmarks.md.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bench import report

REPO_ROOT = Path(__file__).resolve().parent.parent


async def test_quick_bench_run_writes_every_scenario(tmp_path: Path) -> None:
    output = tmp_path / "benchmarks.md"
    output.write_text(f"# Benchmarks\n\nanalysis kept\n\n{report.START}\nold\n{report.END}\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench", "--quick", "--output", str(output),
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()

    text = output.read_text()
    assert "analysis kept" in text  # the hand-written part around the markers stays
    assert "\nold\n" not in text
    headings = (
        *("1. Ack latency", "2. Approve to result", "3. Storage", "4. Memory", "5. Burst"),
        "6. Bulk request",
    )
    for heading in headings:
        assert f"### {heading}" in text
    for row in ("| 20 | new | bot |", "| 20 | new | floor |", "| 20 | keep-alive | bot |"):
        assert row in text
    assert "| `history_of_order` |" in text
    assert "| `unfinished (start)` |" in text
    assert "| 0 (idle after start) |" in text
    assert "| 20 | " in text.split("### 4. Memory")[1]  # the sample after the last batch
    targets = text.split("### Targets")[1]
    assert targets.count("**met**") + targets.count("**missed**") == 12
    burst = text.split("### 5. Burst")[1]
    assert "| 10 approvals | bot |" in burst
    assert "| DELETEs per approved order |" in burst
    assert "Approve → final summary" in text.split("### 6. Bulk request")[1]
    assert "python -m bench --quick" in text


def test_report_replaces_only_the_generated_block(tmp_path: Path) -> None:
    path = tmp_path / "doc.md"
    report.write(path, "first")
    assert report.START in path.read_text()
    path.write_text("intro\n" + path.read_text() + "\nafter\n")

    report.write(path, "second")

    text = path.read_text()
    assert text.startswith("intro\n")
    assert text.rstrip().endswith("after")
    assert "second" in text
    assert "first" not in text


async def test_quick_engines_bench_writes_its_block(
    tmp_path: Path, postgres_server: object
) -> None:
    """`python -m bench.engines --quick` (PostgreSQL against SQLite, replicas) keeps working."""
    output = tmp_path / "benchmarks.md"
    output.write_text("# Benchmarks\n\nanalysis kept\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.engines", "--quick", "--output", str(output),
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()

    text = output.read_text()
    assert "analysis kept" in text
    for row in ("| sqlite |", "| postgresql |", "| 2 |", "| `history_of_order` |"):
        assert row in text
    assert "postgresql://" not in text  # the command is shown without the server's URL
