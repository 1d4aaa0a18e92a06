"""The playground's core flow by clicks, in headless Chromium driven by Playwright: the browser
test runs it, and `python -m bot.playground screenshot PATH` runs it to picture the page.

Playwright (a dev dependency) drives Debian's `chromium` (`/usr/bin/chromium`); Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.playground.page import APPROVER, CHANNEL_ID, OUTSIDER, REQUESTER, PlayUser
from bot.slack.ids import ActionId

if TYPE_CHECKING:
    from playwright.async_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ORDER = "CDE0000000001"
SECOND_ORDER = "CDE0000000003"  # a Submitted order: the request warns that MouvONE will refuse
WAIT_MS = 15_000


@dataclass(frozen=True, slots=True)
class FlowSeen:
    """What the page showed at each step, as rendered text."""

    request_message: str  # the approval request in the channel, as the requester sees it
    confirm_dialog: str  # the Approve button's confirm dialog
    outsider_reply: str  # the ephemeral refusal the outsider got
    outsider_sees_refusal_only_to_them: bool  # the requester's page does not show it
    thread: str  # the thread pane after the approval
    redrawn_message: str  # the request message after the outcome


async def _as(page: Page, user: PlayUser) -> None:
    await page.click(f'.user-chip[data-user="{user.id}"]')
    await page.wait_for_selector(f'.user-chip.active[data-user="{user.id}"]')


def _request_message() -> str:
    return f'#timeline .message[data-channel="{CHANNEL_ID}"]:not(.ephemeral)'


async def run_core_flow(url: str, screenshot: Path | None = None) -> FlowSeen:
    """Requester types the command, the outsider's click is refused privately, approver 1
    approves and confirms, the outcome appears in the thread; optionally a screenshot."""
    from playwright.async_api import async_playwright

    approve = f'button[data-action-id="{ActionId.APPROVE.value}"]'
    with tempfile.TemporaryDirectory(prefix="playground-chromium-") as profile:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1360, "height": 860},
            )
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.set_default_timeout(WAIT_MS)
                await page.goto(url)
                await page.wait_for_selector(".user-chip")

                await _as(page, REQUESTER)
                await page.fill(
                    "#composer-input", f"/cancel-order {ORDER} customer asked to cancel"
                )
                await page.press("#composer-input", "Enter")
                posted = page.locator(_request_message()).filter(has=page.locator(approve))
                await posted.locator(approve).wait_for()
                # The message by its ts: its buttons go once it is decided.
                message = page.locator(
                    f'#timeline .message[data-ts="{await posted.get_attribute("data-ts")}"]'
                )
                request_message = await message.inner_text()

                await _as(page, OUTSIDER)
                await message.locator(approve).click()
                await page.wait_for_selector("#confirm-dialog")
                confirm_dialog = await page.inner_text("#confirm-dialog")
                await page.click("#confirm-ok")
                refusal = page.locator("#timeline .message.ephemeral").last
                await refusal.wait_for()
                outsider_reply = await refusal.inner_text()
                await _as(page, REQUESTER)
                await page.wait_for_selector(approve)
                private = await page.locator("#timeline .message.ephemeral").count() == 0

                await _as(page, APPROVER)
                await message.locator(approve).click()
                await page.click("#confirm-ok")
                summary = message.locator(".thread-summary")
                await summary.wait_for()
                await summary.click()
                await page.wait_for_selector("#thread-body .message >> text=is cancelled")
                thread = await page.inner_text("#thread-body")
                await message.locator(approve).wait_for(state="detached")
                redrawn = await message.inner_text()
                if screenshot is not None:
                    # A second request, still waiting: the picture shows the buttons too.
                    await _as(page, REQUESTER)
                    await page.fill("#composer-input", f"/cancel-order {SECOND_ORDER} duplicate")
                    await page.press("#composer-input", "Enter")
                    await page.locator(approve).wait_for()
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    await page.screenshot(path=str(screenshot))
            finally:
                await context.close()
    return FlowSeen(
        request_message=request_message,
        confirm_dialog=confirm_dialog,
        outsider_reply=outsider_reply,
        outsider_sees_refusal_only_to_them=private,
        thread=thread,
        redrawn_message=redrawn,
    )
