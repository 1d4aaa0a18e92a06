"""The README's shell blocks marked `<!-- runnable expect="…" -->` work as written from a fresh
copy of the repository: each runs with bash in a copy of the checkout's files (what git tracks,
and new files it does not ignore), whose `.venv` reuses this checkout's installed packages, and
must exit 0 and print the expected text."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK_SECONDS = 25
# A runnable block: the marker, then a fenced sh block.
RUNNABLE = re.compile(
    r'^<!-- runnable expect="(?P<expect>[^"]*)" -->\n```sh\n(?P<script>.*?)^```$',
    re.MULTILINE | re.DOTALL,
)
# A block that serves on a fixed port gets a free one instead (nothing else on the machine
# may hold the README's port while the tests run).
PLAYGROUND_PORT = "8025"


def runnable_blocks() -> list[tuple[str, str]]:
    return [(m["script"], m["expect"]) for m in RUNNABLE.finditer(README.read_text("utf-8"))]


def fresh_copy(destination: Path) -> Path:
    """The checkout's files as a clone would have them, with a `.venv` of symlinks to this
    checkout's (no install), stamped as installed for this pyproject.toml."""
    git = shutil.which("git") or "git"
    listed = subprocess.run(  # noqa: S603 - our own git, fixed arguments
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # a deleted, not yet committed file is listed too
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    venv = destination / ".venv"
    venv.mkdir()
    for entry in (ROOT / ".venv").iterdir():
        if not entry.name.startswith(".installed"):
            (venv / entry.name).symlink_to(entry)
    digest = hashlib.sha256((destination / "pyproject.toml").read_bytes()).hexdigest()
    for stamp in (".installed-run", ".installed-dev"):
        (venv / stamp).write_text(digest + "\n")
    return destination


def test_the_readme_marks_its_first_commands_runnable() -> None:
    blocks = runnable_blocks()
    assert len(blocks) >= 2
    assert any("--help" in script for script, _ in blocks)
    assert any("--playground" in script for script, _ in blocks)
    assert all(expect for _, expect in blocks)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="no .venv")
@pytest.mark.parametrize(("script", "expect"), runnable_blocks())
def test_a_runnable_readme_block_works_from_a_fresh_copy(
    tmp_path: Path, script: str, expect: str
) -> None:
    checkout = fresh_copy(tmp_path / "clone")
    script = script.replace(PLAYGROUND_PORT, str(free_port()))
    # The copy's code is what runs (the editable install would import this checkout's).
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep} | {"PYTHONPATH": str(checkout)}
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run(  # noqa: S603 - the README's own block, which is the point
        [bash, "-euo", "pipefail", "-c", script],
        cwd=checkout, env=env, capture_output=True, text=True, timeout=BLOCK_SECONDS,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert expect in output, output
    assert "Traceback" not in output, output
    # Nothing was installed: the copy's stamps still match, no new package was built.
    assert not list(checkout.glob("*.egg-info"))


def test_a_newcomer_reads_the_two_commands_then_the_playground_then_the_workspace() -> None:
    """The README opens with how to run and test, then the playground, then a real workspace;
    what the bot does comes after."""
    text = README.read_text("utf-8")
    sections = re.findall(r"^(#{2,3}) (.+)$", text, re.MULTILINE)
    assert sections[0] == ("##", "Quick start"), sections[:3]
    quick_start = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    positions = [
        quick_start.find(marker)
        for marker in ("./scripts/run.sh", "./scripts/test.sh", "### The playground", "### Then in")
    ]
    assert -1 not in positions, positions
    assert positions == sorted(positions), positions
