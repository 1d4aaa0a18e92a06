"""The fuzz of `test_inbound_fuzz_e2e.py` over Socket Mode: the same broken payloads, delivered in
envelopes by the WebSocket. Each is acknowledged (Slack would deliver it again otherwise) unless
Bolt has no listener for it (as over HTTP, where it answers 404); none
logs an error or a traceback, none decides anything, and the connection keeps serving."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.fakes.slack_api import FakeSlack
from tests.fakes.socket_mode import FakeSocketMode
from tests.fakes.soget_api import FakeSoget
from tests.test_inbound_fuzz_e2e import JSON, genuine_payloads, mutants
from tests.test_socket_mode_e2e import (
    ORDER,
    approve_payload,
    bot_process,
    request_posted,
    settled,
    socket_env,
    socket_mode,  # noqa: F401 (the fixture)
    stop_with,
)

# The HTTP fuzz walks every kind through the handlers; here what Socket Mode adds is checked (the
# door in front of Bolt, the acks) with a click and a submission. All their mutants are sent at
# once, and each refused click is answered privately: every kind would make over a thousand
# Slack calls, a burst of its own (tests/test_burst_e2e.py).
KINDS = ("click approve", "reject submission")


async def test_broken_payloads_over_the_socket_are_acknowledged_and_decide_nothing(
    fake_slack: FakeSlack,
    fake_soget: FakeSoget,
    socket_mode: FakeSocketMode,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake_soget.add(ORDER)
    async with bot_process(socket_env(fake_slack, fake_soget, tmp_path), tmp_path) as process:
        await socket_mode.wait_connected()
        _, request_id = await request_posted(fake_slack, socket_mode)
        message_ts = next(m.ts for m in fake_slack.messages if m.thread_ts is None)
        genuine = genuine_payloads(request_id, message_ts, fake_slack.response_url)
        envelopes: list[str] = []
        for kind in KINDS:
            payload, content_type = genuine[kind]
            envelope_type = "events_api" if content_type == JSON else "interactive"
            for _what, mutant in mutants(payload):
                envelopes.append(await socket_mode.deliver(envelope_type, mutant))
        await settled(fake_slack)
        assert fake_soget.deletes() == []
        assert fake_slack.thread_replies() == [] and fake_slack.updates() == []

        # Still serving on the same connection: a genuine approval goes through.
        approve = approve_payload(request_id, fake_slack)
        approve["container"]["message_ts"] = approve["message"]["ts"] = message_ts
        await socket_mode.wait_ack(await socket_mode.deliver("interactive", approve))
        await fake_slack.wait_until(lambda: len(fake_slack.thread_replies()) == 1, timeout=20)
        log = await stop_with(process, signal.SIGTERM)

    assert len(envelopes) > 400
    # Each was acknowledged, but for those Bolt found no listener for (a click without its type,
    # say): Bolt leaves them unacknowledged, as over HTTP it answers them 404.
    acked = sum(1 for envelope in envelopes if socket_mode.acks_for(envelope))
    unhandled = log.count("Unsuccessful Bolt execution result (status: 404")
    assert acked + unhandled == len(envelopes)
    assert acked > unhandled
    assert len(socket_mode.connections) == 1
    assert len(fake_soget.deletes(ORDER)) == 1
    assert [line for line in log.splitlines() if " ERROR " in line] == []
    assert "ignored a malformed" in log  # the door's refusals, one line each
