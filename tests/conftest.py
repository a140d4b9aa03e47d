"""Shared fixtures. Database tests run on SQLite always, and on PostgreSQL when NVQBOT_TEST_POSTGRES_URL is set."""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.bootstrap import open_database
from bot.domain.banks import Banks
from bot.settings import PROJECT_ROOT, Settings

POSTGRES_URL = os.environ.get("NVQBOT_TEST_POSTGRES_URL")
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason="NVQBOT_TEST_POSTGRES_URL not set"))]


@pytest.fixture(scope="session")
def banks() -> Banks:
    return Banks.load(PROJECT_ROOT / "question_banks")


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path: Path):
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nvqbot.db'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, telegram_token=None, _env_file=None)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, banks: Banks) -> Path:
    """A SQLite database migrated and loaded with the banks once per test process, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "nvqbot.db"
    open_database(Settings(database_url=f"sqlite:///{path}", telegram_token=None, _env_file=None), banks).dispose()
    return path


@pytest.fixture
def engine(settings: Settings, banks: Banks, sqlite_template: Path):
    """The database set up as the bot sets it up (migrations, units), ready for a test."""
    if settings.database_url.startswith("sqlite:///"):
        shutil.copyfile(sqlite_template, settings.database_url.removeprefix("sqlite:///"))
    engine = open_database(settings, banks)
    yield engine
    engine.dispose()


@pytest.fixture
def emulator():
    from bot.devtools.emulator import EmulatorThread

    with EmulatorThread() as emulator:
        yield emulator


@pytest.fixture
def bot(emulator, database_url, engine, tmp_path):
    """The real bot as a separate process against the emulator (not yet started: call .start())."""
    from tests.botprocess import BotProcess

    process = BotProcess(emulator, database_url, tmp_path / "bot.log")
    yield process
    process.stop()
