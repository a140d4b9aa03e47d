"""`python -m bot.devtools.emulator`: run the emulator on its own, for a bot started elsewhere."""

import argparse
import asyncio
import contextlib
import logging

from bot.devtools.emulator.server import BotApiEmulator


async def _serve(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(args.host, args.port, args.bot_username)
    await emulator.start()
    print(
        f"Bot API emulator running (Ctrl-C stops)\n"
        f"  base_url:      {emulator.base_url}\n"
        f"  base_file_url: {emulator.base_file_url}\n"
        f"  control_url:   {emulator.control_url}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bot.devtools.emulator", description="Run the Telegram Bot API emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="nvqbot_demo_bot")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every API call")
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
