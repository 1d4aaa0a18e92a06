"""The burst promises over Socket Mode (issue 10, the socket's side of `bench/burst.py`): 300
`/cancel-order` commands delivered at once, then 300 approvals at once, to the real bot
process. Each envelope is acknowledged within 3 s of the moment the fake Slack sent it (the
times the fake recorded, not the test's own waits), each approved order gets one DELETE and
each request one outcome reply. The second test cuts the socket in the middle of the approvals:
Slack redelivers what it saw no ack for on the new connection, and still nothing is lost and
nothing is done twice.

The fake Slack never waits for the bot to read (its sends go through an outbox) and the bot's
output is read as it comes: either one blocking, and a burst stalls on the test's side, not the
bot's (tests/fakes/socket_mode.py, `BotProcess`).
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path
from typing import Any

from tests.fakes.server import wait_until
from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.fakes.soget_api import FakeSoget
from tests.test_process_e2e import _approve_value
from tests.test_socket_mode_e2e import (
    approve_payload,
    bot_process,
    command_payload,
    settled,
    socket_env,
    socket_mode,  # noqa: F401 (the fixture)
    stop_with,
)

ACK_LIMIT_S = 3.0
BURST = 300
SOGET_DELAY = 0.3


def ack_delays(server: FakeSocketMode, envelopes: list[str]) -> list[float]:
    """Per envelope, seconds from its first delivery to its first ack (inf if none came)."""
    return [
        server.acked_at[e][0] - server.sent_at[e][0] if e in server.acked_at else float("inf")
        for e in envelopes
    ]


async def requests_posted(
    fake_slack: FakeSlack, server: FakeSocketMode, orders: list[str]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Deliver one command per order at once; (their envelope ids, order → the approval an
    approver's click on its message sends)."""
    envelopes = [
        await server.deliver("slash_commands", command_payload(f"{o} wrong data", fake_slack))
        for o in orders
    ]
    await fake_slack.wait_until(
        lambda: len(fake_slack.channel_posts()) == len(orders), timeout=60, what="the requests"
    )
    approvals: dict[str, dict[str, Any]] = {}
    for message in fake_slack.messages:
        order = next((o for o in orders if o in str(message.blocks)), None)
        if order is None or message.thread_ts or message.ephemeral_for:
            continue
        request_id, _ = _approve_value({"blocks": message.blocks})
        approval = approve_payload(request_id, fake_slack)
        approval["container"]["message_ts"] = approval["message"]["ts"] = message.ts
        approvals[order] = approval
    assert len(approvals) == len(orders)
    return envelopes, approvals


def assert_each_cancelled_once(
    fake_slack: FakeSlack, fake_soget: FakeSoget, orders: list[str]
) -> None:
    assert [o for o in orders if len(fake_soget.deletes(o)) != 1] == []
    replies = Counter(str(r.body["thread_ts"]) for r in fake_slack.thread_replies())
    assert len(replies) == len(orders) and set(replies.values()) == {1}
    assert all("is cancelled in MouvONE" in str(r.body) for r in fake_slack.thread_replies())
    assert len(fake_slack.channel_posts()) == len(orders)


def fresh_id(order: str) -> str:
    return f"env-approve-{order}"


def assert_no_error_logged(log: str) -> None:
    assert [line for line in log.splitlines() if " ERROR " in line] == []


async def test_a_burst_over_the_socket_is_acknowledged_within_3_s_and_cancels_once(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,  # noqa: F811
    tmp_path: Path,
) -> None:
    orders = [f"CDE{7000000000 + n}" for n in range(BURST)]
    for order in orders:
        fake_soget.add(order)
    # As in bench/burst.py: MouvONE answers after the preview has given up, every preview read
    # (at the command and at the approval) times out, and the DELETEs wait as long.
    fake_soget.delay_seconds = SOGET_DELAY
    env = socket_env(fake_slack, fake_soget, tmp_path)
    env["PREVIEW_TIMEOUT_SECONDS"] = str(SOGET_DELAY / 2)
    async with bot_process(env, tmp_path) as process:
        await socket_mode.wait_connected()
        commands, posted = await requests_posted(fake_slack, socket_mode, orders)
        approvals = [await socket_mode.deliver("interactive", posted[o]) for o in orders]
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies()) >= BURST, timeout=90, what="the outcomes"
        )
        await settled(fake_slack)
        log = await stop_with(process, signal.SIGTERM)

    for phase in (commands, approvals):
        late = [d for d in ack_delays(socket_mode, phase) if d > ACK_LIMIT_S]
        assert late == [], f"{len(late)} of {len(phase)} acks over 3 s, worst {max(late):.1f} s"
        assert all(len(socket_mode.acked_at[e]) == 1 for e in phase)
    assert len(socket_mode.connections) == 1  # the socket was not given up under the load
    assert_each_cancelled_once(fake_slack, fake_soget, orders)
    assert_no_error_logged(log)


async def test_a_socket_cut_mid_burst_loses_nothing_and_doubles_nothing(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,  # noqa: F811
    tmp_path: Path,
) -> None:
    orders = [f"CDE{7100000000 + n}" for n in range(BURST // 3)]
    for order in orders:
        fake_soget.add(order)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        first = await socket_mode.wait_connected()
        _, posted = await requests_posted(fake_slack, socket_mode, orders)
        # The socket is cut as the first approval's ack comes: the bot has taken (some of) the
        # others, their acks are lost, and those still in flight to the bot are lost too.
        approvals = [fresh_id(order) for order in orders]
        socket_mode.cut_on_first_ack(approvals)
        for order, envelope in zip(orders, approvals, strict=True):
            await socket_mode.deliver("interactive", posted[order], envelope_id=envelope)
        await wait_until(lambda: first.socket.closed, what="the cut")
        await socket_mode.wait_connected(2, timeout=15)
        # Slack delivers again what it saw no ack for; then every approval once more, as an
        # ack lost on the cut socket looks to Slack like no ack.
        unacked = await socket_mode.redeliver_unacked()
        for order, envelope in zip(orders, approvals, strict=True):
            await socket_mode.deliver("interactive", posted[order], envelope_id=envelope)
        await fake_slack.wait_until(
            lambda: len(fake_slack.thread_replies()) >= len(orders), timeout=60, what="outcomes"
        )
        await wait_until(lambda: all(e in socket_mode.acked_at for e in approvals), timeout=10)
        await settled(fake_slack)
        log = await stop_with(process, signal.SIGTERM)

    assert 0 < len(unacked) < len(approvals)  # cut in the middle of the approvals' acks
    # Every approval was acknowledged on the new connection (redelivered: acknowledged only).
    second = socket_mode.connections[1]
    assert {a["envelope_id"] for a in second.received} >= set(approvals)
    assert_each_cancelled_once(fake_slack, fake_soget, orders)
    assert "delivered again, acknowledged only" in log
    assert len(socket_mode.connections) == 2
    assert_no_error_logged(log)
