"""The bot and the floor app, each in its own process, as `python -m bot --http` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx

from tests.conftest import APPROVER, BOT_TOKEN, SIGNING_SECRET, SOGET_KEY, SOGET_TOKEN
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget

REPO_ROOT = Path(__file__).resolve().parent.parent
BOT_MODULE = "bot"
FLOOR_MODULE = "bench.floor_app"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_files_limit() -> int:
    """1000 concurrent connections need more descriptors than some shells allow by default."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def server_env(slack: FakeSlack, soget: FakeSoget, workdir: Path, port: int) -> dict[str, str]:
    """What the bot (and the floor app, which reads the same Settings) get as configuration."""
    keep = ("PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    return env | {
        "PYTHONPATH": str(REPO_ROOT),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "SOGET_API_URL": soget.api_url,
        "SOGET_ACCESS_TOKEN": SOGET_TOKEN,
        "SOGET_API_KEY": SOGET_KEY,
        "CANCEL_APPROVERS": APPROVER,
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }


@dataclass
class Served:
    """A server process listening on 127.0.0.1."""

    name: str
    process: asyncio.subprocess.Process
    url: str
    database: Path

    def rss_mib(self) -> float:
        """Resident set size (VmRSS) of the process, from /proc."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")

    def cpu_seconds(self) -> float:
        """CPU time of all the process's threads so far (schedstat: nanoseconds)."""
        total = 0
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    async def settle(self, window: float = 0.2, timeout: float = 120.0) -> None:
        """Wait until the process is idle (under 2 % CPU): its background work is done."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(window)
            now = self.cpu_seconds()
            if now - before < window * 0.02:
                return
            before = now
        raise TimeoutError(f"{self.name} stayed busy for {timeout} s")


@asynccontextmanager
async def serve(
    name: str, module: str, env: Mapping[str, str], workdir: Path
) -> AsyncIterator[Served]:
    """Start `python -m module --http`, wait for /healthz, stop it with SIGTERM at the end."""
    url = f"http://127.0.0.1:{env['PORT']}"
    # The server logs at INFO as in production; to a file, so a full pipe never blocks it.
    with _log_file(workdir, name) as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, "--http",
            cwd=workdir, env=dict(env), stdout=log, stderr=log,
        )  # fmt: skip
    served = Served(name, process, url, Path(env["DATABASE_PATH"]))
    try:
        await _wait_healthy(served)
        yield served
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


def _log_file(workdir: Path, name: str) -> BinaryIO:
    workdir.mkdir(parents=True, exist_ok=True)
    return (workdir / f"{name}.log").open("ab")


async def _wait_healthy(served: Served) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(400):
            try:
                if (await http.get(served.url + "/healthz")).is_success:
                    return
            except httpx.TransportError:
                pass
            if served.process.returncode is not None:
                raise RuntimeError(f"{served.name} exited at start; see {served.name}.log")
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{served.name} did not start listening")
