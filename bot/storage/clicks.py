"""The click log: each decision click is stored before Slack gets its answer, and clicks
arriving together share one transaction (group commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from bot.domain.events import EventKind
from bot.domain.requests import MessageKind
from bot.storage.core import Clock, StoreCore
from bot.storage.engine import Database
from bot.storage.rows import iso

logger = logging.getLogger(__name__)


class ClickLog(StoreCore):
    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        # Clicks waiting to be written together (see `record_click`), with their futures.
        self._click_rows: list[tuple[tuple[str, ...], asyncio.Future[int]]] = []
        self._handled_clicks: list[int] = []
        self._click_flusher: asyncio.Task[None] | None = None

    async def record_click(
        self, request_id: str, user_id: str, action: str, channel_id: str
    ) -> int:
        """Store a decision click before Slack gets its answer; `click_handled` once done.

        Clicks arriving together are written in one transaction (one fsync for a burst, not one
        each), so storing them before the ack keeps the ack well inside Slack's 3 s.
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        row = (request_id, user_id, action, channel_id, iso(self._clock()))
        self._click_rows.append((row, future))
        self._flush_clicks_soon()
        return await future

    async def click_handled(self, click_id: int) -> None:
        """Mark a click handled; written with the next batch of clicks (a lost mark only makes
        the start-up check look at the audit trail, which shows the click was taken)."""
        self._handled_clicks.append(click_id)
        self._flush_clicks_soon()

    def _flush_clicks_soon(self) -> None:
        if self._click_flusher is None or self._click_flusher.done():
            self._click_flusher = asyncio.create_task(self._flush_clicks(), name="click-log")

    async def _flush_clicks(self) -> None:
        while self._click_rows or self._handled_clicks:
            rows, self._click_rows = self._click_rows, []
            handled, self._handled_clicks = self._handled_clicks, []
            ids: list[int] = []
            try:
                async with self._transaction():
                    for row, _future in rows:
                        inserted = await self._db.execute_fetchall(
                            "INSERT INTO clicks (request_id, user_id, action, channel_id,"
                            " received_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                            row,
                        )
                        ids.append(int(inserted[0][0]))
                    now = iso(self._clock())
                    await self._db.executemany(
                        "UPDATE clicks SET handled_at = ? WHERE id = ? AND handled_at IS NULL",
                        [(now, click_id) for click_id in handled],
                    )
            except Exception as exc:
                logger.warning("could not write %d click(s): %s", len(rows), type(exc).__name__)
                for _row, future in rows:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_row, future), click_id in zip(rows, ids, strict=True):
                if not future.done():
                    future.set_result(click_id)

    async def drop_unhandled_clicks(self, received_before: datetime) -> int:
        """Clicks acknowledged to Slack but never handled (the process died in between): each
        clicker gets a direct message saying their click was not taken. Returns how many."""
        now = iso(self._clock())
        async with self._transaction():
            # Two instances sweeping at once: the second waits, then finds them handled.
            await self._db.serialize("lost clicks")
            before = iso(received_before)
            rows = list(
                await self._db.execute_fetchall(
                    # A click whose effect is in the audit trail was taken: only its done mark
                    # was lost with the process.
                    "SELECT c.id, c.request_id, c.user_id FROM clicks c JOIN requests r"
                    " ON r.id = c.request_id WHERE c.handled_at IS NULL AND c.received_at < ?"
                    " AND NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = c.request_id"
                    " AND e.at >= c.received_at AND (e.actor = c.user_id OR (c.action = 'retry'"
                    " AND e.kind IN ('cancel_sent', 'cancel_settling'))))",
                    (before,),
                )
            )
            await self._db.execute(
                "UPDATE clicks SET handled_at = ? WHERE handled_at IS NULL AND received_at < ?",
                (now, before),
            )
            for row in rows:
                await self._add_event(
                    row["request_id"], now, EventKind.CLICK_LOST, row["user_id"], None
                )
                await self._enqueue(
                    row["request_id"], (MessageKind.DM_CLICK_LOST,), now, recipient=row["user_id"]
                )
        if rows:
            self._enqueued()
        return len(rows)

    async def _finish_clicks(self) -> None:
        """Let the clicks being written reach the file (at close)."""
        if self._click_flusher is not None and not self._click_flusher.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._click_flusher, timeout=5)
