"""`python -m bot.playground [--port PORT]` serves the playground (as `cancel-order-bot
--playground`); `python -m bot.playground screenshot PATH` runs the core flow in headless
Chromium and saves the page as PATH (docs/playground.png; needs the dev extra: Playwright)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bot.playground.browser import run_core_flow
from bot.playground.run import DEFAULT_PORT, running_playground, serve


async def screenshot(path: Path) -> None:
    async with running_playground() as slack:
        await run_core_flow(slack.url + "/", screenshot=path)
    print(f"Saved {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.playground")
    parser.add_argument("command", nargs="?", choices=("serve", "screenshot"), default="serve")
    parser.add_argument("path", nargs="?", type=Path, default=Path("docs/playground.png"))
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    if args.command == "screenshot":
        asyncio.run(screenshot(args.path))
    else:
        asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
