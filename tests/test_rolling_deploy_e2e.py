"""Rolling deploys with real processes on one SQLite file: SIGTERM drains (/healthz 503, new
Slack requests refused, the cancel in flight finished or its lease left to run out, a read-back
handed back at once), exit within SHUTDOWN_GRACE_SECONDS, and a new instance started next to a
draining one is safe. Each instance names itself in /metrics and /healthz."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import ActionId
from bot.storage.store import Store
from tests import payloads
from tests.conftest import APPROVER, REQUESTER, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ports import free_port
from tests.test_process_e2e import _approve_value, bot_env, running_bot


class Instance:
    """One bot process's HTTP side, as Slack and a load balancer see it."""

    def __init__(self, port: str, http: httpx.AsyncClient) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.http = http

    async def post_signed(self, body: str) -> httpx.Response:
        return await self.http.post(
            self.url + "/slack/events",
            content=body,
            headers=payloads.signed_headers(body, SIGNING_SECRET),
        )

    async def command(self, order: str, slack: FakeSlack) -> httpx.Response:
        body = payloads.slash_command(
            f"{order} customer asked", user=REQUESTER, response_url=slack.response_url
        )
        return await self.post_signed(body)

    async def approve(self, request: CancelRequest, slack: FakeSlack) -> httpx.Response:
        assert request.message_ts is not None
        body = payloads.block_action(
            ActionId.APPROVE,
            user=APPROVER,
            request_id=request.id,
            message_ts=request.message_ts,
            response_url=slack.response_url,
        )
        return await self.post_signed(body)

    async def health(self) -> httpx.Response:
        return await self.http.get(self.url + "/healthz")

    async def instance_labels(self) -> set[str]:
        text = (await self.http.get(self.url + "/metrics")).text
        return {
            sample.labels["instance"]
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }


async def stored(database: Path, request_id: str) -> CancelRequest:
    store = await Store.open(database)
    try:
        found = await store.get(request_id)
    finally:
        await store.close()
    assert found is not None
    return found


async def events(database: Path, request_id: str) -> list[tuple[str, datetime]]:
    store = await Store.open(database)
    try:
        return [(e.kind, e.at) for e in await store.events_of(request_id)]
    finally:
        await store.close()


async def posted_request(
    bot: Instance, slack: FakeSlack, database: Path, order: str
) -> CancelRequest:
    """`/cancel-order ORDER` on `bot`, until its approval request is posted and stored."""
    before = len(slack.calls("chat.postMessage"))
    assert (await bot.command(order, slack)).status_code == 200
    await slack.wait_until(
        lambda: any(order in str(c.body) for c in slack.calls("chat.postMessage")[before:]),
        timeout=10,
        what=f"the approval request of {order}",
    )
    post = next(c for c in slack.calls("chat.postMessage")[before:] if order in str(c.body))
    request_id, _ = _approve_value(post.body)
    for _ in range(200):
        request = await stored(database, request_id)
        if request.message_ts:
            return request
        await asyncio.sleep(0.05)
    raise AssertionError("the request's message was never stored")


async def wait_health(bot: Instance, status: int) -> httpx.Response:
    for _ in range(200):
        response = await bot.health()
        if response.status_code == status:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"/healthz never answered {status}")


async def exit_code(process: asyncio.subprocess.Process, timeout: float) -> tuple[int, str]:
    output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_sigterm_mid_delete_drains_then_posts_the_outcome_once_and_exits(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    order, newcomer = "CDE0000000301", "CDE0000000302"
    fake_soget.add(order)
    fake_soget.add(newcomer)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SHUTDOWN_GRACE_SECONDS"] = "15"
    database = Path(env["DATABASE_PATH"])
    answer = asyncio.Event()
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        fake_soget.script(Fault(hold=answer, then_apply=True))  # MouvONE takes its time
        assert (await bot.approve(request, fake_slack)).status_code == 200
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(order)) == 1, what="DELETE")

        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # Draining: the load balancer is told to stop routing here, and a Slack request that
        # still arrives is refused before anything is read, stored or sent.
        health = await wait_health(bot, 503)
        assert health.json()["detail"] == "draining"
        refused = await bot.command(newcomer, fake_slack)
        assert refused.status_code == 503
        assert refused.json() == {"error": "draining"}
        assert fake_slack.thread_replies() == []  # the outcome is not known yet

        answer.set()
        code, log = await exit_code(process, timeout=20)
    elapsed = time.monotonic() - signalled

    assert code == 0, log
    assert elapsed < 15  # within SHUTDOWN_GRACE_SECONDS
    assert "drained in" in log and "Traceback" not in log
    done = await stored(database, request.id)
    assert done.status is RequestStatus.SUCCEEDED
    assert done.outcome_posted_at is not None  # posted by the draining instance itself
    assert done.lease_owner is None
    [reply] = fake_slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in str(reply.body)
    assert len(fake_soget.deletes(order)) == 1
    # The refused command left no trace: no request, no read of the order.
    assert fake_soget.gets(newcomer) == []
    store = await Store.open(database)
    try:
        assert await store.history_of_order(newcomer) == []
    finally:
        await store.close()


async def test_past_the_grace_the_delete_keeps_its_lease_and_is_taken_over_later(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """MouvONE applies the DELETE but never answers: the grace runs out, the process exits
    anyway, the lease is left to run out (the DELETE may still be running at MouvONE), then a
    second instance takes over, reads the order back and posts once; never a second DELETE."""
    order = "CDE0000000311"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env |= {"SHUTDOWN_GRACE_SECONDS": "1", "LEASE_SECONDS": "6"}
    database = Path(env["DATABASE_PATH"])
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        fake_soget.script(Fault(hold=asyncio.Event(), then_apply=True))  # never answered
        await bot.approve(request, fake_slack)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(order)) == 1, what="DELETE")
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        code, log = await exit_code(process, timeout=15)
    elapsed = time.monotonic() - signalled

    assert code == 0, log
    assert elapsed < 1 + 5  # the grace, plus closing
    left = await stored(database, request.id)
    assert left.status is RequestStatus.EXECUTING
    assert left.lease_owner is not None and left.lease_until is not None
    assert left.lease_until > datetime.now(UTC)  # not released: it runs out on its own
    assert fake_slack.thread_replies() == []

    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as second:
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies()) == 1, timeout=20, what="the outcome"
        )
        await asyncio.sleep(0.3)  # room for a wrong second reply or DELETE
        second.send_signal(signal.SIGTERM)
        code, _ = await exit_code(second, timeout=20)

    assert code == 0
    assert len(fake_soget.deletes(order)) == 1
    [reply] = fake_slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in str(reply.body)
    trail = await events(database, request.id)
    [interrupted_at] = [at for kind, at in trail if kind == "cancel_interrupted"]
    assert interrupted_at >= left.lease_until  # taken over only once the lease ran out
    assert (await stored(database, request.id)).status is RequestStatus.SUCCEEDED


async def test_a_read_back_cut_off_by_the_grace_is_handed_back_at_once(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """A read is safe to repeat: at the grace's end it is given back (no waiting for the lease),
    and the next instance reads the order at once."""
    order = "CDE0000000321"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env |= {"SHUTDOWN_GRACE_SECONDS": "1", "LEASE_SECONDS": "30"}
    database = Path(env["DATABASE_PATH"])
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        # A gateway error after MouvONE applied the cancel: the outcome is unknown, read back.
        fake_soget.script(Fault(status=502, then_apply=True))
        await bot.approve(request, fake_slack)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(order)) == 1, what="DELETE")
        reads = len(fake_soget.gets(order))
        fake_soget.script(Fault(method="GET", hold=asyncio.Event()))  # the read-back hangs
        await fake_soget.wait_until(
            lambda: len(fake_soget.gets(order)) > reads, timeout=10, what="the read-back"
        )
        process.send_signal(signal.SIGTERM)
        code, log = await exit_code(process, timeout=15)

    assert code == 0, log
    handed_back = await stored(database, request.id)
    assert handed_back.status is RequestStatus.UNKNOWN
    assert handed_back.lease_owner is None  # not held for LEASE_SECONDS (30 s)
    assert "settle_released" in [kind for kind, _ in await events(database, request.id)]

    env["PORT"] = str(free_port())

    def confirmed() -> list[str]:
        texts = [str(r.body.get("text")) for r in fake_slack.thread_replies(request.message_ts)]
        return [text for text in texts if "is cancelled in MouvONE" in text]

    async with running_bot(env, tmp_path) as second:
        # The first instance may have posted "outcome unknown" before the SIGTERM: the reply
        # that counts is the one the read-back confirms, posted once.
        await fake_slack.wait_until(
            lambda: bool(confirmed()), timeout=10, what="the confirmed outcome"
        )
        second.send_signal(signal.SIGTERM)
        code, _ = await exit_code(second, timeout=20)

    assert code == 0
    assert len(confirmed()) == 1
    assert len(fake_soget.deletes(order)) == 1
    assert (await stored(database, request.id)).status is RequestStatus.SUCCEEDED


async def test_a_new_instance_next_to_a_draining_one_is_safe(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """Rolling deploy: B starts on the same database while A holds a DELETE, then A gets
    SIGTERM. B takes the new work, A finishes its own; each order is cancelled and announced
    once. The two name themselves apart in /metrics and /healthz."""
    held, newcomer = "CDE0000000331", "CDE0000000332"
    fake_soget.add(held)
    fake_soget.add(newcomer)
    env_a = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env_a["SHUTDOWN_GRACE_SECONDS"] = "15"
    env_b = env_a | {"PORT": str(free_port()), "INSTANCE_ID": "bot-b"}
    database = Path(env_a["DATABASE_PATH"])
    answer = asyncio.Event()
    async with (
        running_bot(env_a, tmp_path) as process_a,
        httpx.AsyncClient(timeout=10) as http,
    ):
        a, b = Instance(env_a["PORT"], http), Instance(env_b["PORT"], http)
        first = await posted_request(a, fake_slack, database, held)
        fake_soget.script(Fault(hold=answer, then_apply=True))
        await a.approve(first, fake_slack)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(held)) == 1, what="DELETE")

        async with running_bot(env_b, tmp_path) as process_b:
            labels_a, labels_b = await a.instance_labels(), await b.instance_labels()
            assert labels_b == {"bot-b"}
            assert len(labels_a) == 1 and labels_a != labels_b
            assert (await a.health()).json()["instance"] in labels_a
            assert (await b.health()).json()["instance"] == "bot-b"

            process_a.send_signal(signal.SIGTERM)
            await wait_health(a, 503)
            assert (await a.command(newcomer, fake_slack)).status_code == 503
            # The load balancer sends it to B instead, which does the whole flow.
            second = await posted_request(b, fake_slack, database, newcomer)
            assert (await b.approve(second, fake_slack)).status_code == 200
            await fake_slack.wait_until(
                lambda: len(fake_slack.thread_replies(second.message_ts)) == 1,
                timeout=10,
                what="B's outcome",
            )
            # B runs its sweeps meanwhile and leaves A's cancel in flight alone.
            assert len(fake_soget.deletes(held)) == 1
            assert "cancel_interrupted" not in [k for k, _ in await events(database, first.id)]

            answer.set()
            code, log = await exit_code(process_a, timeout=20)
            assert code == 0, log
            await asyncio.sleep(0.5)  # room for B to post or send anything twice
            process_b.send_signal(signal.SIGTERM)
            code, _ = await exit_code(process_b, timeout=20)
            assert code == 0

    for request in (first, second):
        assert len(fake_soget.deletes(request.order_id)) == 1
        [reply] = fake_slack.thread_replies(request.message_ts)
        assert "is cancelled in MouvONE" in str(reply.body)
        assert (await stored(database, request.id)).status is RequestStatus.SUCCEEDED


async def test_an_approval_under_way_at_sigterm_is_kept_and_sent_by_the_next_instance(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """The drain waits for the Slack request being handled: the approval is recorded, its
    cancel is not started by the draining process but by the next instance, once."""
    order = "CDE0000000341"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SHUTDOWN_GRACE_SECONDS"] = "15"
    database = Path(env["DATABASE_PATH"])
    reread = asyncio.Event()
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        reads = len(fake_soget.gets(order))
        fake_soget.script(Fault(method="GET", hold=reread))  # the re-read at approval waits
        assert (await bot.approve(request, fake_slack)).status_code == 200
        await fake_soget.wait_until(lambda: len(fake_soget.gets(order)) > reads, what="re-read")

        process.send_signal(signal.SIGTERM)
        await wait_health(bot, 503)
        reread.set()
        code, log = await exit_code(process, timeout=20)

    assert code == 0, log
    assert "left to another instance" in log
    assert fake_soget.deletes(order) == []
    kept = await stored(database, request.id)
    assert kept.status is RequestStatus.APPROVED
    assert "click_lost" not in [kind for kind, _ in await events(database, request.id)]

    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as second:
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies(request.message_ts)) == 1,
            timeout=10,
            what="the outcome",
        )
        await asyncio.sleep(0.3)  # room for a wrong second reply or DELETE
        second.send_signal(signal.SIGTERM)
        code, _ = await exit_code(second, timeout=20)
    assert code == 0
    assert len(fake_soget.deletes(order)) == 1
    assert not any("not taken" in str(dm.body) for dm in fake_slack.dms(APPROVER))


async def test_a_second_signal_stops_at_once_leaving_the_lease_to_run_out(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    order = "CDE0000000351"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env |= {"SHUTDOWN_GRACE_SECONDS": "60", "LEASE_SECONDS": "30"}
    database = Path(env["DATABASE_PATH"])
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        fake_soget.script(Fault(hold=asyncio.Event()))  # MouvONE never answers
        await bot.approve(request, fake_slack)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(order)) == 1, what="DELETE")
        process.send_signal(signal.SIGTERM)
        await wait_health(bot, 503)
        process.send_signal(signal.SIGINT)
        code, log = await exit_code(process, timeout=15)  # far less than the 60 s grace

    assert code == 0, log
    assert "second signal" in log
    left = await stored(database, request.id)
    assert left.status is RequestStatus.EXECUTING and left.lease_owner is not None
    assert fake_slack.thread_replies() == []


async def test_http_mode_stops_when_asked_while_slack_is_unreachable_at_start(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """The HTTP server is run by the bot itself (for the drain): a signal during the start
    (auth.test retried while Slack is unreachable) still ends it at once, cleanly."""
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--http", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not any("no connection to Slack" in line for line in lines):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=12)
            assert line, "".join(lines)
            lines.append(line.decode())
        process.send_signal(signal.SIGTERM)
        code, rest = await exit_code(process, timeout=6)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = "".join(lines) + rest
    assert code == 0, log
    assert "Stopping before the start was complete" in log
    assert "Traceback" not in log


async def test_a_slack_message_cut_off_by_the_grace_is_given_back_and_sent_once_more(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path
) -> None:
    """Slack hangs on a message when SIGTERM comes: at the grace's end its claim is given back
    at once (not held for 20 s), this process does not send it again itself, and the next
    instance sends it (the README's at-least-once point: Slack may have taken it)."""
    order = "CDE0000000361"
    fake_soget.add(order)
    env = bot_env(fake_slack, fake_soget, tmp_path, free_port())
    env["SHUTDOWN_GRACE_SECONDS"] = "2"
    database = Path(env["DATABASE_PATH"])
    async with running_bot(env, tmp_path) as process, httpx.AsyncClient(timeout=10) as http:
        bot = Instance(env["PORT"], http)
        request = await posted_request(bot, fake_slack, database, order)
        fake_slack.delay("chat.postMessage", 60)  # Slack takes messages, never answers
        await bot.approve(request, fake_slack)
        # The requester's "approved" direct message is the first one under way.
        await fake_slack.wait_until(
            lambda: len(fake_slack.dms(REQUESTER)) == 1, timeout=10, what="the DM under way"
        )
        process.send_signal(signal.SIGTERM)
        code, log = await exit_code(process, timeout=15)

    assert code == 0, log
    assert len(fake_slack.dms(REQUESTER)) == 1  # not sent again by the drain
    store = await Store.open(database)
    try:
        rows = await store._db.execute_fetchall(
            "SELECT kind, claimed_until FROM outbox WHERE delivered_at IS NULL AND request_id = ?",
            (request.id,),
        )
    finally:
        await store.close()
    assert "dm_decided" in [kind for kind, _ in rows]
    assert all(claimed is None for _, claimed in rows)  # given back, free for the next one

    fake_slack.delay("chat.postMessage", 0)
    env["PORT"] = str(free_port())
    async with running_bot(env, tmp_path) as second:
        await fake_slack.wait_until(
            lambda: (
                len(fake_slack.thread_replies(request.message_ts)) == 1
                and len(fake_slack.dms(REQUESTER)) == 3
            ),  # decided (twice), finished
            timeout=10,
            what="the outcome and the direct messages",
        )
        await asyncio.sleep(0.3)  # room for a wrong second reply
        second.send_signal(signal.SIGTERM)
        code, _ = await exit_code(second, timeout=20)
    assert code == 0
    assert len(fake_slack.thread_replies(request.message_ts)) == 1
    assert (await stored(database, request.id)).outcome_posted_at is not None
