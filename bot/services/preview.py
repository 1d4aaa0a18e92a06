"""The order preview: read the order before anyone approves, with a hard time limit.

What the read means (ready, warning, blocked, unavailable) is `bot.domain.preview`.
"""

from __future__ import annotations

import asyncio
import logging

from bot.domain.preview import Preview, PreviewState, preview_of
from bot.i18n.catalogue import FailureKind
from bot.soget.client import NO_RETRY, SogetClient
from bot.soget.diagnostics import log_soget_failure
from bot.soget.errors import SogetError, SogetTimeout

logger = logging.getLogger(__name__)


class OrderPreviewer:
    """Reads an order with a hard time limit; never raises, never retries.

    The limit bounds the whole read (httpx's own timeout is per network operation), so a
    preview never holds the flow longer than `timeout_seconds`. Giving up only stops the
    waiting: SogetClient lets the read end on httpx's timeouts (the same `timeout_seconds`),
    since cancelling it inside httpx's pool could lose a connection for good.
    """

    def __init__(self, soget: SogetClient, *, timeout_seconds: float) -> None:
        self._soget = soget
        self._timeout = timeout_seconds

    async def preview(self, order_id: str) -> Preview:
        try:
            async with asyncio.timeout(self._timeout):
                order = await self._soget.get_order(order_id, timeout=self._timeout, retry=NO_RETRY)
        except SogetError as exc:
            log_soget_failure("preview", order_id, exc)
            return preview_of(exc)
        except TimeoutError:
            error = SogetTimeout(f"no answer within the preview's {self._timeout:g}s")
            log_soget_failure("preview", order_id, error)
            return preview_of(error)
        except Exception:
            logger.exception("preview of %s failed inside the bot", order_id)
            return Preview(PreviewState.UNAVAILABLE, failure=FailureKind.UNEXPECTED_STATUS)
        preview = preview_of(order)
        logger.info("preview of %s: %s", order_id, preview.note())
        return preview
