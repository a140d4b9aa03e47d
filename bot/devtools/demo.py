"""`make demo`: the emulator, the real bot and a terminal chat in which you are the candidate."""

import asyncio
from datetime import timedelta
from pathlib import Path

from bot.bootstrap import open_database
from bot.devtools.chat import run_terminal_chat
from bot.devtools.emulator import BotApiEmulator
from bot.domain.assessment import Assessment
from bot.domain.banks import load_banks
from bot.rendering import cli_text
from bot.settings import Settings
from bot.storage.db import transaction
from bot.storage.models import utcnow
from bot.storage.repository import Repository
from bot.telegram.app import serve

DEMO_ASSESSOR_ID = 1000
DEMO_CANDIDATE_ID = 2000
DEMO_UNIT = "cg-310"


async def run_demo(database: Path) -> None:
    """A fresh demo database every time, so the demo never touches real records."""
    for leftover in database.parent.glob(database.name + "*"):
        leftover.unlink()
    emulator = BotApiEmulator()
    await emulator.start()
    try:
        settings = Settings(
            telegram_token="123456:DEMO",
            telegram_api_url=emulator.base_url,
            telegram_file_url=emulator.base_file_url,
            database_url=f"sqlite:///{database}",
        )
        banks = load_banks([settings.banks_dir])
        engine = open_database(settings, banks)
        code = _seed(engine, banks)
        started = asyncio.Event()
        bot = asyncio.create_task(serve(settings, engine, banks, started))
        await started.wait()
        print(cli_text("demo_intro.txt", unit=banks.unit(DEMO_UNIT).unit, code=code))
        try:
            await run_terminal_chat(emulator.control_url, DEMO_CANDIDATE_ID, "Sam", first_text=f"/start {code}")
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)
    finally:
        await emulator.stop()


def _seed(engine, banks) -> str:
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(DEMO_ASSESSOR_ID, "Demo Assessor")
        invite = assessment.create_invite(DEMO_UNIT, DEMO_ASSESSOR_ID, utcnow().date() + timedelta(days=30))
        return invite.code
