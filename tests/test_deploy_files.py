"""compose.yaml and deploy/nginx.conf, checked as far as a machine without a Docker engine
allows: PostgreSQL 15 with a health check and a volume, two bot replicas in HTTP mode on
DATABASE_URL that wait for it, health checks on /healthz, a stop grace longer than the drain,
and a load balancer whose upstreams are exactly the bot services, retrying a draining replica's
503 on the other one."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "compose.yaml"
NGINX = ROOT / "deploy" / "nginx.conf"


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _services() -> dict[str, dict[str, Any]]:
    services = _compose()["services"]
    assert isinstance(services, dict)
    return services


def _bots() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _services().items() if s.get("build") == "."}


def _seconds(value: str) -> float:
    """A compose duration (`30s`, `1m30s`, `500ms`) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", value)
    assert parts and "".join(n + u for n, u in parts) == value, value
    return sum(float(n) * units[u] for n, u in parts)


def _healthcheck_test(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def _nginx_blocks(kind: str) -> dict[str, str]:
    """`upstream NAME { … }` bodies of nginx.conf, by name (the file nests no braces in them)."""
    text = NGINX.read_text(encoding="utf-8")
    return dict(re.findall(rf"\b{kind}\s+([\w.-]+)\s*\{{([^{{}}]*)\}}", text))


def _upstream_hosts(body: str) -> list[tuple[str, int]]:
    return [(h, int(p)) for h, p in re.findall(r"^\s*server\s+([\w.-]+):(\d+)", body, re.M)]


def test_postgresql_15_official_image_with_a_health_check_and_a_volume() -> None:
    postgres = _services()["postgres"]
    assert re.fullmatch(r"postgres:15(\.\d+)?(-[a-z0-9]+)?", postgres["image"])
    assert "pg_isready" in _healthcheck_test(postgres)
    [volume] = postgres["volumes"]
    name, target = volume.split(":")[:2]
    assert target == "/var/lib/postgresql/data"
    assert name in _compose()["volumes"]  # a named volume: data outlives the container


def test_two_bot_replicas_in_http_mode_on_the_postgresql_service() -> None:
    bots = _bots()
    postgres = _services()["postgres"]["environment"]
    assert len(bots) == 2
    for name, bot in bots.items():
        assert bot["image"] == "cancel-order-bot:latest"  # one image, built from Dockerfile
        assert "--http" in bot["command"]
        assert bot["env_file"] == ".env"
        assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
        environment = bot["environment"]
        url = urlsplit(environment["DATABASE_URL"])
        assert url.scheme == "postgresql"
        assert url.hostname == "postgres" and url.port == 5432
        assert url.username == postgres["POSTGRES_USER"]
        assert url.path.lstrip("/") == postgres["POSTGRES_DB"]
        assert url.password == "${POSTGRES_PASSWORD}"  # from .env, never written here
        assert environment["INSTANCE_ID"] == name  # /metrics tells the replicas apart
        for variable in ("HOST", "PORT", "SHUTDOWN_GRACE_SECONDS", "INSTANCE_ID"):
            assert variable.lower() in Settings.model_fields
    assert len({b["environment"]["INSTANCE_ID"] for b in bots.values()}) == 2


def test_bot_health_checks_read_healthz_and_the_stop_grace_outlasts_the_drain() -> None:
    for bot in _bots().values():
        port = str(bot["environment"].get("PORT", Settings.model_fields["port"].default))
        assert f"127.0.0.1:{port}/healthz" in _healthcheck_test(bot)
        assert port in [str(p) for p in bot["expose"]]
        grace = float(
            bot["environment"].get(
                "SHUTDOWN_GRACE_SECONDS", Settings.model_fields["shutdown_grace_seconds"].default
            )
        )
        # SIGKILL comes only after stop_grace_period: the drain must fit, with room to close.
        assert _seconds(bot["stop_grace_period"]) >= grace + 5


def test_the_load_balancer_routes_to_exactly_the_bot_services() -> None:
    lb = _services()["lb"]
    assert re.fullmatch(r"nginx:[\w.-]+", lb["image"])  # the official image
    [mount] = lb["volumes"]
    source, target = mount.split(":")[:2]
    assert (ROOT / source).resolve() == NGINX and target == "/etc/nginx/nginx.conf"
    assert {name: d["condition"] for name, d in lb["depends_on"].items()} == dict.fromkeys(
        _bots(), "service_healthy"
    )
    upstreams = _nginx_blocks("upstream")
    bots = _bots()
    ports = {name: int(b["environment"]["PORT"]) for name, b in bots.items()}
    pool = _upstream_hosts(upstreams["bots"])
    assert sorted(pool) == sorted(ports.items())
    for name in bots:  # one upstream per replica, for looking at one of them
        assert _upstream_hosts(upstreams[name]) == [(name, ports[name])]
    # Each upstream re-resolves its names (a recreated container may get a new address).
    for body in upstreams.values():
        assert re.search(r"^\s*zone\s", body, re.M)
        assert all(" resolve" in line for line in body.splitlines() if "server " in line)


def test_slack_requests_retry_a_draining_replica_on_the_other_one() -> None:
    text = NGINX.read_text(encoding="utf-8")
    [events] = re.findall(r"location = /slack/events \{([^}]*)\}", text)
    assert re.search(r"proxy_pass http://bots;", events)
    [next_upstream] = re.findall(r"proxy_next_upstream ([^;]+);", events)
    # A 503 from a draining replica (and a refused connection) did nothing: safe to pass on,
    # POST included. Passive checks: the replica is then left out for fail_timeout.
    assert {"error", "http_503", "non_idempotent"} <= set(next_upstream.split())
    budget = float(re.findall(r"proxy_next_upstream_timeout (\d+)s;", events)[0])
    read_timeout = float(re.findall(r"proxy_read_timeout (\d+)s;", events)[0])
    assert budget < 3  # within Slack's 3 s
    assert read_timeout > budget  # a request a replica may have acted on is never resent
    assert re.search(r"max_fails=\d+ fail_timeout=\d+s", _nginx_blocks("upstream")["bots"])
    # Published: Slack's port to all, the operators' port to the host only.
    lb_ports = _services()["lb"]["ports"]
    assert "3000:3000" in lb_ports
    assert any(p.startswith("127.0.0.1:") and p.endswith(":8081") for p in lb_ports)
    assert re.search(r"listen 3000;", text) and re.search(r"listen 8081;", text)


def test_env_example_names_the_compose_password() -> None:
    assert "POSTGRES_PASSWORD" in (ROOT / ".env.example").read_text(encoding="utf-8")


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker CLI here: compose.yaml checked structurally only")
    plugin = subprocess.run(  # noqa: S603 - fixed arguments
        [docker, "compose", "version"], capture_output=True, text=True, check=False
    )
    if plugin.returncode != 0:
        pytest.skip("no `docker compose` plugin here: compose.yaml checked structurally only")
    # A copy beside an empty .env (the real one holds secrets and is not in the checkout).
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    (tmp_path / "deploy").mkdir()
    shutil.copy(NGINX, tmp_path / "deploy" / "nginx.conf")
    (tmp_path / ".env").write_text("POSTGRES_PASSWORD=checked-only\n", encoding="utf-8")
    checked = subprocess.run(  # noqa: S603 - fixed arguments
        [docker, "compose", "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
