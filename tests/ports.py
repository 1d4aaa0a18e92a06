"""Ports for the processes the tests start (bots, playgrounds), taken below the kernel's
ephemeral range.

A port found free by binding port 0 and closing is free only until someone else binds: the
in-process fakes of every xdist worker bind ephemeral ports all the time, and a bot process
takes a second to start. Below the ephemeral range nothing else picks ports; each worker of a
run counts through its own block (a run's block is picked from its xdist run id, so two runs on
one machine rarely share one, and a port in use is skipped).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import socket

_LOWEST = 10_000
_PER_WORKER = 250
_WORKERS_PER_RUN = 8
_RUN_SLOTS = 10  # 10 runs x 8 workers x 250 ports: 10000-29999, under the ephemeral 32768

_next = itertools.count()


def _block_start() -> int:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or str(os.getppid())
    slot = int(hashlib.sha256(run.encode()).hexdigest(), 16) % _RUN_SLOTS
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    return _LOWEST + (slot * _WORKERS_PER_RUN + worker % _WORKERS_PER_RUN) * _PER_WORKER


def free_port() -> int:
    """A port on 127.0.0.1 that nobody holds now and no other worker of this run will hand out."""
    start = _block_start()
    for _ in range(_PER_WORKER):
        port = start + next(_next) % _PER_WORKER
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError(f"no free port in {start}-{start + _PER_WORKER - 1}")
