"""`cancel-order-bot check`: validate the configuration and reach Slack and SOGET, one line per
check; exit 0 when everything works, 1 otherwise. Never prints a secret."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from dataclasses import dataclass
from typing import TextIO

import aiohttp
import aiosqlite
import asyncpg
from pydantic import SecretStr, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings, describe_settings_error
from bot.i18n.catalogue import Language, entry_for_code
from bot.runtime import soget_tokens
from bot.soget.client import NO_RETRY, SogetClient
from bot.soget.errors import SogetApiError, SogetError
from bot.soget.sandbox import SogetStandIn
from bot.soget.tokens import StaticToken, TokenProvider
from bot.storage.engine import DATABASE_ERRORS, redacted

# An id no order has: a documented "not found" answer proves the credentials were accepted.
PROBE_ORDER_ID = "CDE0000000000"
_ACCEPTED_CODES = frozenset({"CUSTOMER_ORDER_NOT_FOUND", "WRONG_FORMAT"})


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def describe_settings(settings: Settings) -> CheckResult:
    groups = sum(1 for a in settings.cancel_approvers if a.startswith("S"))
    users = len(settings.cancel_approvers) - groups
    parts = [
        "Socket Mode" if settings.socket_mode else "HTTP mode",
        f"{users} approver(s) and {groups} user group(s)",
    ]
    if settings.sandbox:
        parts.append("SANDBOX (built-in SOGET stand-in)")
    elif settings.soget_uses_client_credentials:
        parts.append("SOGET token from the client-credentials grant")
    else:
        parts.append("fixed SOGET_ACCESS_TOKEN")
    if settings.approval_channel:
        parts.append(f"approval channel {settings.approval_channel}")
    if settings.allowed_channels:
        parts.append(f"allowed in {len(settings.allowed_channels)} channel(s)")
    if not settings.socket_mode and settings.slack_signing_secret is None:
        return CheckResult("settings", False, "SLACK_SIGNING_SECRET is missing (HTTP mode)")
    return CheckResult("settings", True, "loaded: " + ", ".join(parts))


async def check_database(settings: Settings) -> CheckResult:
    if settings.database_url is not None:
        return await _check_postgres(settings.database_url.get_secret_value())
    path = settings.database_path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(path), isolation_level=None) as db:
            # A write that leaves nothing behind: proves the file and its folder are writable.
            await db.execute("BEGIN IMMEDIATE")
            await db.execute("CREATE TABLE IF NOT EXISTS cancel_order_bot_check (x INTEGER)")
            await db.execute("ROLLBACK")
    except (OSError, sqlite3.Error) as exc:
        return CheckResult("database", False, f"{path} is not writable: {exc}")
    return CheckResult("database", True, f"{path} is writable")


async def _check_postgres(url: str) -> CheckResult:
    where = redacted(url)
    try:
        connection = await asyncpg.connect(url, timeout=10)
        try:
            version = await connection.fetchval("SHOW server_version")
            # A write that leaves nothing behind (rolled back): proves the role may create.
            async with connection.transaction():
                await connection.execute("CREATE TABLE cancel_order_bot_check (x INTEGER)")
                await connection.execute("DROP TABLE cancel_order_bot_check")
        finally:
            await connection.close()
    except DATABASE_ERRORS as exc:
        reason = " ".join(str(exc).split()).replace(url, where) or type(exc).__name__
        return CheckResult("database", False, f"{where} is not usable: {reason}")
    return CheckResult("database", True, f"{where} is writable (PostgreSQL {version})")


async def check_slack(settings: Settings) -> CheckResult:
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=15,
    )
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        return CheckResult("slack", False, f"auth.test refused: {exc.response.get('error')}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        return CheckResult("slack", False, f"Slack's Web API unreachable ({type(exc).__name__})")
    return CheckResult(
        "slack",
        True,
        f"auth.test: connected to {answer.get('team')} as {answer.get('user')} "
        f"({answer.get('user_id')})",
    )


async def check_soget(settings: Settings) -> list[CheckResult]:
    stand_in: SogetStandIn | None = None
    if settings.sandbox:
        stand_in = SogetStandIn.seeded()
        await stand_in.start()
        base_url, api_key = stand_in.api_url, SecretStr(stand_in.api_key)
        tokens: TokenProvider = StaticToken(SecretStr(stand_in.access_token))
    else:
        assert settings.soget_api_key is not None
        base_url, api_key = settings.soget_api_url, settings.soget_api_key
        tokens = soget_tokens(settings)
    where = "sandbox stand-in" if stand_in else base_url
    client = SogetClient.create(
        base_url,
        tokens=tokens,
        api_key=api_key,
        connect_timeout=settings.soget_connect_timeout_seconds,
        timeout=settings.soget_timeout_seconds,
        retry=NO_RETRY,
    )
    results: list[CheckResult] = []
    try:
        if tokens.refreshable:
            try:
                await tokens.token()
                results.append(CheckResult("soget token", True, "the token endpoint issued one"))
            except SogetError as exc:
                results.append(CheckResult("soget token", False, str(exc)))
                return results
        results.append(await _probe(client, where))
    finally:
        await client.aclose()
        if stand_in is not None:
            await stand_in.stop()
    return results


async def _probe(client: SogetClient, where: str) -> CheckResult:
    try:
        await client.get_order(PROBE_ORDER_ID)
    except SogetApiError as exc:
        if exc.code in _ACCEPTED_CODES:
            return CheckResult(
                "soget api",
                True,
                f"{where}: credentials accepted (GET {PROBE_ORDER_ID} answered {exc.code})",
            )
        title = entry_for_code(exc.code).text(Language.EN).title
        return CheckResult("soget api", False, f"{where}: answered {exc.code}: {title}")
    except SogetError as exc:
        hint = " (check SOGET_API_KEY and the token)" if exc.http_status in (401, 403) else ""
        return CheckResult("soget api", False, f"{where}: {exc}{hint}")
    return CheckResult("soget api", True, f"{where}: credentials accepted (GET answered 200)")


async def run_checks(settings: Settings) -> list[CheckResult]:
    results = [describe_settings(settings), await check_database(settings)]
    results.append(await check_slack(settings))
    results.extend(await check_soget(settings))
    return results


def print_results(results: list[CheckResult], out: TextIO) -> None:
    for result in results:
        print(f"{'ok' if result.ok else 'FAIL':<5} {result.name:<12} {result.detail}", file=out)
    failed = sum(1 for r in results if not r.ok)
    print("All checks passed." if not failed else f"{failed} check(s) failed.", file=out)


def run_check(*, sandbox: bool, out: TextIO = sys.stdout) -> int:
    """The `check` command: 0 if every check passed, 1 otherwise."""
    try:
        settings = Settings(sandbox=True) if sandbox else Settings()
    except ValidationError as error:
        print_results([CheckResult("settings", False, "invalid (details below)")], out)
        print(describe_settings_error(error), file=out)
        return 1
    results = asyncio.run(run_checks(settings))
    print_results(results, out)
    return 0 if all(r.ok for r in results) else 1
