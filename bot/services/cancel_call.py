"""The SOGET calls of a cancel, for the single and the bulk cancel alike: the DELETE, and the
read-back of an order whose cancel may have reached MouvONE. Failures come back as values, so
the caller records an outcome whatever happened (never a traceback to the user)."""

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


async def read_status(soget: SogetClient, order_id: str) -> str | None:
    """The order's status as MouvONE reads it now; None when the read failed (logged)."""
    try:
        order = await soget.get_order(order_id)
    except SogetError as exc:
        log_soget_failure("settle", order_id, exc)
        return None
    except Exception:
        logger.exception("settle read of %s failed inside the bot", order_id)
        return None
    return order.status
