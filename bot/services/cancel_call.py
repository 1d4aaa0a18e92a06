"""The one DELETE of an order, for the single and the bulk cancel alike: its failure comes back
as a value, so the caller records an outcome whatever happened (never a traceback to the user)."""

from __future__ import annotations

import logging

from bot.soget.client import SogetClient
from bot.soget.diagnostics import log_soget_failure
from bot.soget.errors import SogetError, SogetTimeout

logger = logging.getLogger(__name__)


async def send_cancel(soget: SogetClient, order_id: str) -> SogetError | None:
    """`DELETE /customer-orders/{order_id}` once; None when MouvONE accepted it."""
    try:
        await soget.cancel_order(order_id)
    except SogetError as exc:
        log_soget_failure("cancel", order_id, exc)
        return exc
    except Exception:
        # A bug of ours after the request may have left: treated like a timeout (read back).
        logger.exception("unexpected error while cancelling %s", order_id)
        return SogetTimeout("internal error while sending the cancel")
    return None
