"""What every nvqbot command shares: settings, banks, the database, and one clear line on errors."""

from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import ValidationError

from bot.bootstrap import load_checked_banks, open_database
from bot.domain.assessment import Assessment, DomainError
from bot.domain.bank_loading import BanksInvalid
from bot.domain.banks import Banks, load_banks
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.rendering import cli_text
from bot.settings import Settings
from bot.storage.db import DatabaseUnavailable, transaction
from bot.storage.repository import Repository


def refuse(problem: str, code: int = 1, **values) -> NoReturn:
    """One line on stderr (`problem` names its wording in error.txt), then exit with `code`."""
    typer.echo(cli_text("error.txt", problem=problem, **values), err=True)
    raise typer.Exit(code)


def fail(message: str) -> NoReturn:
    """A refusal the domain worded (DomainError, DatabaseUnavailable), as one line."""
    refuse("message", message=message)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = [{"name": "_".join(map(str, e["loc"])).upper(), "msg": e["msg"]} for e in error.errors()]
        refuse("bad_setting", problems=problems)


def checked_banks(settings: Settings, paths: list[Path] | None = None) -> Banks:
    try:
        # An explicit check (`banks check PATH`) always checks; starts reuse banks checked before.
        return load_banks(paths) if paths else load_checked_banks([settings.banks_dir], settings.cache_dir)
    except BanksInvalid as invalid:
        typer.echo(cli_text("banks_invalid.txt", problems=invalid.problems), err=True)
        raise typer.Exit(1) from None


def open_db(settings: Settings):
    loaded = checked_banks(settings)
    try:
        return open_database(settings, loaded), loaded
    except DatabaseUnavailable as error:
        fail(str(error))


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        refuse("bad_date", text_given=text)


def work(engine, banks, action, limits: Limits = DEFAULT_LIMITS):
    """Run `action(assessment, repo)` in one transaction, turning refusals into one clear line."""
    try:
        with transaction(engine) as session:
            repo = Repository(session)
            return action(Assessment(repo, banks, limits=limits), repo)
    except DomainError as error:
        fail(str(error))
