"""The commands that start things: the database upgrade, the bot against Telegram, and the terminal demo."""

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import typer

from bot.cli.common import checked_banks, fail, load_settings, open_db, refuse
from bot.rendering import cli_text
from bot.settings import PROJECT_ROOT
from bot.storage.db import DatabaseUnavailable


def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = load_settings()
    open_db(settings)
    typer.echo(cli_text("db_upgraded.txt", url=settings.database_url_for_people()))


def run() -> None:
    """Run the bot against the Telegram Bot API (long polling)."""
    settings = load_settings()
    if not settings.telegram_token:
        refuse("no_token")
    engine, banks = open_db(settings)
    from telegram.error import InvalidToken

    from bot.telegram.app import LostActiveLock, serve

    _configure_logging(logging.INFO)
    try:
        _run_until_stopped(serve(settings, engine, banks))
    except InvalidToken as error:
        refuse("bad_token", detail=error.message)
    except LostActiveLock as error:  # a supervisor restarts it, as a standby
        fail(str(error))


def demo(
    database: Path = typer.Option(
        PROJECT_ROOT / "var" / "demo.db",
        help="SQLite file for the demo, made afresh; a file the demo did not make is refused, never deleted.",
    ),
) -> None:
    """Try nvqbot in this terminal: a local Bot API emulator, the real bot, and you as the candidate."""
    from bot.devtools.demo import DemoRefused, check_demo_database, run_demo

    database = database.absolute()
    try:
        check_demo_database(database)  # before anything is written beside it, even the log
    except DemoRefused as refused:
        refuse(refused.problem, **refused.values)
    _configure_logging(logging.WARNING, database.with_suffix(".log"))
    checked_banks(load_settings())  # bank problems are reported before anything starts
    try:
        _run_until_stopped(run_demo(database))
    except DatabaseUnavailable as error:
        fail(str(error))
    except DemoRefused as refused:
        refuse(refused.problem, **refused.values)


def _configure_logging(level: int, file: Path | None = None) -> None:
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=level, filename=file, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _run_until_stopped(coroutine) -> None:
    """Run until the coroutine ends, Ctrl-C, or SIGTERM."""

    async def main():
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
