"""Two bot processes on one database, on each engine (a SQLite file; PostgreSQL): approvals
racing across them, requests opened on one and approved on the other, and the instance whose
DELETE is in flight killed with SIGKILL. Each order gets one DELETE and one outcome reply."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.domain.requests import CancelRequest, RequestStatus
from bot.slack.ids import ActionId
from bot.storage.store import Store
from tests import payloads
from tests.conftest import REQUESTER, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.fakes.soget_api import FakeSoget, Fault
from tests.ports import free_port
from tests.test_process_e2e import bot_env, running_bot

APPROVERS = [f"U0APPR{n:04d}" for n in range(50)]


class Replica:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/slack/events"

    async def post(self, http: httpx.AsyncClient, body: str) -> None:
        response = await http.post(
            self.url, content=body, headers=payloads.signed_headers(body, SIGNING_SECRET)
        )
        assert response.status_code == 200

    async def command(self, http: httpx.AsyncClient, order: str, slack: FakeSlack) -> None:
        body = payloads.slash_command(
            f"{order} customer asked", user=REQUESTER, response_url=slack.response_url
        )
        await self.post(http, body)

    async def approve(
        self, http: httpx.AsyncClient, request: CancelRequest, user: str, slack: FakeSlack
    ) -> None:
        assert request.message_ts is not None
        body = payloads.block_action(
            ActionId.APPROVE,
            user=user,
            request_id=request.id,
            message_ts=request.message_ts,
            response_url=slack.response_url,
        )
        await self.post(http, body)


@contextlib.asynccontextmanager
async def two_replicas(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, database: Path | str
) -> AsyncIterator[tuple[list[asyncio.subprocess.Process], list[Replica], Store]]:
    """Two bot processes on `database`, and a Store of the test's own on it (to read)."""
    processes: list[asyncio.subprocess.Process] = []
    replicas: list[Replica] = []
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(2):
            port = free_port()
            env = bot_env(fake_slack, fake_soget, tmp_path, port)
            env["CANCEL_APPROVERS"] = ",".join(APPROVERS)
            # Each instance finds the others' work by its sweep (a kick reaches its own
            # process only): short here, so that a take-over shows within seconds.
            env["SWEEP_INTERVAL_SECONDS"] = "0.5"
            if isinstance(database, str):
                env["DATABASE_URL"] = database
            else:
                env["DATABASE_PATH"] = str(database)
            processes.append(await stack.enter_async_context(running_bot(env, tmp_path)))
            replicas.append(Replica(port))
        store = await Store.open(database)
        stack.push_async_callback(store.close)
        yield processes, replicas, store


@pytest.fixture
def shared_database(db_location: Path | str) -> Path | str:
    return db_location


async def _posted(store: Store, order: str) -> CancelRequest:
    for _ in range(1000):
        history = await store.history_of_order(order)
        if history and history[0].message_ts:
            return history[0]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no approval request was posted for {order}")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), timeout=30)


async def test_fifty_approvals_across_two_replicas_send_one_delete_and_one_reply(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, shared_database: Path | str
) -> None:
    order = "CDE0000000301"
    fake_soget.add(order)
    async with (
        two_replicas(fake_slack, fake_soget, tmp_path, shared_database) as (procs, bots, store),
        httpx.AsyncClient(timeout=30) as http,
    ):
        await bots[0].command(http, order, fake_slack)
        request = await _posted(store, order)

        await asyncio.gather(
            *(
                bots[n % 2].approve(http, request, user, fake_slack)
                for n, user in enumerate(APPROVERS)
            )
        )
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies(request.message_ts)) >= 1,
            timeout=20,
            what="the outcome reply",
        )
        await asyncio.sleep(1.0)  # room for a second DELETE or reply to show up
        done = await store.get(request.id)
        for process in procs:
            await _stop(process)

    assert done is not None and done.status is RequestStatus.SUCCEEDED
    assert len(fake_soget.deletes(order)) == 1
    assert len(fake_slack.thread_replies(request.message_ts)) == 1
    approvals = [e for e in await _events(shared_database, request.id) if e == "approved"]
    assert approvals == ["approved"]


async def _events(database: Path | str, request_id: str) -> list[str]:
    store = await Store.open(database)
    try:
        return [e.kind for e in await store.events_of(request_id)]
    finally:
        await store.close()


async def test_requests_opened_on_one_replica_and_approved_on_the_other_get_one_reply_each(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, shared_database: Path | str
) -> None:
    orders = [f"CDE00000004{n:02d}" for n in range(20)]
    for order in orders:
        fake_soget.add(order)
    async with (
        two_replicas(fake_slack, fake_soget, tmp_path, shared_database) as (procs, bots, store),
        httpx.AsyncClient(timeout=30) as http,
    ):
        await asyncio.gather(*(bots[0].command(http, order, fake_slack) for order in orders))
        requests = [await _posted(store, order) for order in orders]
        await asyncio.gather(
            *(bots[1].approve(http, r, APPROVERS[n], fake_slack) for n, r in enumerate(requests))
        )
        await fake_slack.wait_until(
            lambda: all(fake_slack.thread_replies(r.message_ts) for r in requests),
            timeout=30,
            what="one reply per request",
        )
        await asyncio.sleep(1.0)  # room for a duplicate to show up
        for process in procs:
            await _stop(process)

    for request in requests:
        assert len(fake_slack.thread_replies(request.message_ts)) == 1, request.order_id
        assert len(fake_soget.deletes(request.order_id)) == 1


async def test_killing_the_replica_whose_delete_is_in_flight_never_resends_it(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, shared_database: Path | str
) -> None:
    order = "CDE0000000501"
    fake_soget.add(order)
    answer = asyncio.Event()  # MouvONE takes the DELETE, applies it, and holds its answer
    async with (
        two_replicas(fake_slack, fake_soget, tmp_path, shared_database) as (procs, bots, store),
        httpx.AsyncClient(timeout=30) as http,
    ):
        await bots[0].command(http, order, fake_slack)
        request = await _posted(store, order)
        fake_soget.script(Fault(hold=answer, then_apply=True))
        await bots[0].approve(http, request, APPROVERS[0], fake_slack)
        await fake_soget.wait_until(lambda: len(fake_soget.deletes(order)) == 1, what="DELETE")
        executing = await store.get(request.id)
        assert executing is not None and executing.status is RequestStatus.EXECUTING
        [owner] = {executing.lease_owner}

        procs[0].kill()  # SIGKILL the instance that sent the DELETE: its lease runs out
        await procs[0].wait()
        # The other instance takes the cancel over (LEASE_SECONDS=2), reads the order back
        # (SETTLE_AFTER_SECONDS=1) and finds it cancelled: one reply, no second DELETE.
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies(request.message_ts)) >= 1,
            timeout=30,
            what="the outcome reply from the surviving instance",
        )
        await asyncio.sleep(1.0)
        finished = await store.get(request.id)
        answer.set()  # the first DELETE's answer finally comes back to nobody
        await asyncio.sleep(0.3)
        await _stop(procs[1])

    assert finished is not None and finished.status is RequestStatus.SUCCEEDED
    assert len(fake_soget.deletes(order)) == 1
    assert fake_soget.gets(order)[-1].at > fake_soget.deletes(order)[0].at  # read back first
    [reply] = fake_slack.thread_replies(request.message_ts)
    assert "is cancelled in MouvONE" in str(reply.body.get("text"))
    events = await _events(shared_database, request.id)
    assert "cancel_interrupted" in events and events.count("cancel_sent") == 1
    assert owner is not None


async def test_a_bulk_of_three_approved_across_two_replicas_sends_one_delete_per_order(
    fake_slack: FakeSlack, fake_soget: FakeSoget, tmp_path: Path, shared_database: Path | str
) -> None:
    """Approvals racing on both replicas: one claims the request, each order is claimed once
    under its lease, and the two outboxes post one summary reply between them."""
    orders = ("CDE0000000601", "CDE0000000602", "CDE0000000603")
    for order in orders:
        fake_soget.add(order)
    fake_soget.delay_seconds = 0.2  # the cancels stay in flight while the clicks land
    async with (
        two_replicas(fake_slack, fake_soget, tmp_path, shared_database) as (procs, bots, store),
        httpx.AsyncClient(timeout=30) as http,
    ):
        await bots[0].command(http, " ".join(orders), fake_slack)
        request = await _posted(store, orders[0])
        assert request.order_ids == orders

        await asyncio.gather(
            *(
                bots[n % 2].approve(http, request, user, fake_slack)
                for n, user in enumerate(APPROVERS[:20])
            )
        )
        for _ in range(2000):
            done = await store.get(request.id)
            if done is not None and done.outcome_posted_at is not None:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)  # room for a second DELETE or summary to show up
        summary_ts = await store.summary_ts(request.id)
        for process in procs:
            await _stop(process)

    assert done is not None and done.status is RequestStatus.SUCCEEDED
    assert done.outcome_posted_at is not None
    assert [len(fake_soget.deletes(order)) for order in orders] == [1, 1, 1]
    assert [o.attempts for o in done.orders] == [1, 1, 1]
    [summary] = fake_slack.thread_replies(request.message_ts)
    assert summary_ts is not None
    last = [u.body for u in fake_slack.updates(summary_ts)] or [summary.body]
    assert "3 cancelled" in str(last[-1].get("text"))
    events = await _events(shared_database, request.id)
    assert events.count("approved") == 1 and events.count("cancel_sent") == 1
