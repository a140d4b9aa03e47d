"""Start-up shared by the CLI commands and the bot: database, migrations and question banks."""

from sqlalchemy import Engine

from bot.domain.banks import Banks
from bot.domain.catalogue import sync_units
from bot.settings import Settings
from bot.storage.db import check_connection, make_engine, transaction, upgrade
from bot.storage.locks import startup_lock
from bot.storage.repository import Repository


def open_database(settings: Settings, banks: Banks) -> Engine:
    """Connect, apply migrations and load the banks' units; raises DatabaseUnavailable with one clear line."""
    engine = make_engine(settings.database_url)
    check_connection(engine)
    with startup_lock(engine):  # two processes starting at once take turns
        upgrade(engine)
        with transaction(engine) as session:
            sync_units(Repository(session), banks)
    return engine
