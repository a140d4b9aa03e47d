"""`make demo`: the emulator, the real bot and a terminal chat in which you are the candidate.

The demo makes its own SQLite database afresh each time, and deletes only a database it made itself:
it marks each one it makes with DEMO_APPLICATION_ID in the SQLite header (`PRAGMA application_id`),
and refuses a --database path that exists without that mark. When it ends it prints the commands that
read its records with the nvqbot command line.
"""

import asyncio
import os
import shlex
import sqlite3
import sys
from contextlib import closing
from datetime import timedelta
from pathlib import Path

from bot.bootstrap import load_checked_banks, open_database
from bot.devtools.chat import run_terminal_chat
from bot.devtools.emulator import BotApiEmulator
from bot.domain.assessment import Assessment
from bot.rendering import cli_text
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import transaction
from bot.storage.models import utcnow
from bot.storage.repository import Repository
from bot.telegram.app import serve
from bot.web.links import console_link

DEMO_ASSESSOR_ID = 1000
DEMO_CANDIDATE_ID = 2000
DEMO_UNIT = "cg-310"
DEFAULT_DATABASE = PROJECT_ROOT / "var" / "demo.db"
# "NVQD" in the SQLite file header (offset 68): this database was made by the demo.
DEMO_APPLICATION_ID = 0x4E565144
_SQLITE_MAGIC = b"SQLite format 3\x00"
# The files SQLite keeps beside a database while it works on it.
_SIDE_FILES = ("-journal", "-wal", "-shm")


class DemoRefused(Exception):
    """The demo will not use this path; `problem` and `values` are the wording in cli/error.txt."""

    def __init__(self, problem: str, **values):
        super().__init__(problem)
        self.problem, self.values = problem, values


def made_by_demo(path: Path) -> bool:
    """Whether `path` is a SQLite database that the demo made (read from its header; the file is not opened as a database)."""
    try:
        with path.open("rb") as file:
            header = file.read(100)
    except OSError:
        return False
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        return False
    return int.from_bytes(header[68:72], "big") == DEMO_APPLICATION_ID or _made_by_an_earlier_demo(path)


def _made_by_an_earlier_demo(path: Path) -> bool:
    """A demo database from before the mark: its only assessor is the demo's, and its only candidate (if any) the demo's."""
    try:
        with closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as db:
            assessors = db.execute("SELECT telegram_user_id, name FROM assessor").fetchall()
            candidates = {row[0] for row in db.execute("SELECT telegram_user_id FROM candidate")}
    except sqlite3.Error:
        return False
    return assessors == [(DEMO_ASSESSOR_ID, "Demo Assessor")] and candidates <= {DEMO_CANDIDATE_ID}


def _side_files(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in _SIDE_FILES]


def check_demo_database(database: Path) -> None:
    """Raise DemoRefused unless the demo may (re)make its database at this path."""
    if database.exists() or database.is_symlink():
        if database.is_symlink() or not made_by_demo(database):
            raise DemoRefused("demo_not_ours", path=database, default=DEFAULT_DATABASE)
        return
    leftover = next((side for side in _side_files(database) if side.exists()), None)
    if leftover is not None:
        raise DemoRefused("demo_leftover", path=database, leftover=leftover)


def fresh_demo_database(database: Path) -> None:
    """Delete the demo's previous database (only if the demo made it) and make an empty one, marked as the demo's."""
    check_demo_database(database)
    if database.exists():
        for made in [database, *_side_files(database)]:
            made.unlink(missing_ok=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(database)) as db:
        db.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        db.commit()


def reading_commands(database: Path) -> dict[str, str]:
    """The shell commands that point the nvqbot command line at the demo's database."""
    url = f"sqlite:///{database.absolute()}"
    script = Path(sys.executable).parent / "nvqbot"
    program = _shown(script) if script.exists() else f"{_shown(Path(sys.executable))} -m bot"
    prefix = f"NVQBOT_DATABASE_URL={shlex.quote(url)} {program}"
    return {
        "candidates": f"{prefix} candidates",
        "export": f"{prefix} export --candidate {DEMO_CANDIDATE_ID} --unit {DEMO_UNIT}",
    }


def _shown(path: Path) -> str:
    """A path as short as it can be written from the current folder, quoted for the shell."""
    absolute = Path(os.path.abspath(path))
    try:
        return shlex.quote(str(absolute.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(absolute))


async def run_demo(database: Path) -> None:
    """A fresh demo database every time, so the demo never touches real records."""
    fresh_demo_database(database)
    emulator = BotApiEmulator()
    await emulator.start()
    try:
        settings = Settings(
            telegram_token="123456:DEMO",
            telegram_api_url=emulator.base_url,
            telegram_file_url=emulator.base_file_url,
            database_url=f"sqlite:///{database}",
        )
        banks = load_checked_banks([settings.banks_dir], settings.cache_dir)
        engine = open_database(settings, banks)
        code = _seed(engine, banks)
        started = asyncio.Event()
        bot = asyncio.create_task(serve(settings, engine, banks, started))
        await started.wait()
        console = _console_link(engine, settings)
        print(cli_text("demo_intro.txt", unit=banks.units[DEMO_UNIT].unit, code=code, database=database, console=console))
        try:
            await run_terminal_chat(emulator.control_url, DEMO_CANDIDATE_ID, "Sam", first_text=f"/start {code}")
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)
            print("\n" + cli_text("demo_done.txt", database=database, commands=reading_commands(database)), flush=True)
    finally:
        await emulator.stop()


def _console_link(engine, settings: Settings) -> str:
    """A link that signs the demo's assessor in to the web console (as /console would send them)."""
    with transaction(engine) as session:
        assessor = Repository(session).assessor_by_telegram_id(DEMO_ASSESSOR_ID)
        assert assessor is not None, "the demo's assessor is seeded first"
        return console_link(session, assessor, utcnow(), settings)[0]


def _seed(engine, banks) -> str:
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(DEMO_ASSESSOR_ID, "Demo Assessor")
        invite = assessment.create_invite(DEMO_UNIT, DEMO_ASSESSOR_ID, utcnow().date() + timedelta(days=30))
        return invite.code
