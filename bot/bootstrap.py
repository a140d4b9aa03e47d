"""Start-up shared by the CLI commands and the bot: database, migrations and question banks."""

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import Engine

from bot.domain.bank_loading import bank_files
from bot.domain.banks import Banks, load_banks
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


log = logging.getLogger(__name__)
_DOMAIN_CODE = Path(__file__).resolve().parent / "domain"
# Libraries whose behaviour the checks depend on (validation, YAML, stems, reading age).
_CHECKING_LIBRARIES = ("pydantic", "PyYAML", "snowballstemmer", "textstat", "pyphen")


def load_checked_banks(paths: Iterable[Path], cache_dir: Path | None) -> Banks:
    """`load_banks`, remembered: banks checked before, byte for byte, by the same checking code and libraries,
    are read back from `cache_dir` rather than parsed and linted again (about half a second of every start).
    Raises BanksInvalid as `load_banks` does; only banks that passed are kept."""
    paths = list(paths)
    if cache_dir is None:
        return load_banks(paths)
    cached = cache_dir / f"banks-{_banks_key(paths)}.pickle"
    try:
        return pickle.loads(cached.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass  # not there yet (or from another version of the code): check them
    banks = load_banks(paths)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, delete=False) as file:
            file.write(pickle.dumps(banks, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(file.name, cached)  # whole or not at all, whoever else is starting
        for older in cache_dir.glob("banks-*.pickle"):
            if older != cached:
                older.unlink(missing_ok=True)  # banks or code since changed
    except OSError as error:
        log.debug("question banks not cached: %s", error)
    return banks


def _banks_key(paths: list[Path]) -> str:
    digest = hashlib.sha256(sys.version.encode())
    for library in _CHECKING_LIBRARIES:
        digest.update(version(library).encode())
    for file in [*sorted(_DOMAIN_CODE.glob("*.py")), *bank_files(paths)]:
        digest.update(str(file).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:32]
