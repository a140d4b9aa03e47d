"""The nvqbot command line."""

import asyncio
import json
import logging
import signal
from datetime import date
from pathlib import Path

import typer
from pydantic import ValidationError

from bot.bootstrap import open_database
from bot.domain.assessment import Assessment, DomainError
from bot.domain.banks import Banks, BanksInvalid, describe_banks, load_banks
from bot.domain.transcript import candidate_transcript
from bot.rendering import cli_text
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import DatabaseUnavailable, transaction
from bot.storage.repository import Repository

app = typer.Typer(help="nvqbot: evidence for NVQ units, gathered in Telegram.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
assessor_app = typer.Typer(help="Assessors.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(assessor_app, name="assessor")
banks_app = typer.Typer(help="The question banks: units, criteria, questions and the cross-unit mapping.", no_args_is_help=True)
app.add_typer(banks_app, name="banks")


def _fail(message: str) -> None:
    typer.echo(cli_text("error.txt", message=message), err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(f"NVQBOT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors())
        _fail(f"bad setting: {problems}")


def _banks(settings: Settings, paths: list[Path] | None = None) -> Banks:
    try:
        return load_banks(paths or [settings.banks_dir])
    except BanksInvalid as invalid:
        typer.echo(cli_text("banks_invalid.txt", problems=invalid.problems), err=True)
        raise typer.Exit(1)


def _database(settings: Settings):
    banks = _banks(settings)
    try:
        return open_database(settings, banks), banks
    except DatabaseUnavailable as error:
        _fail(str(error))


def _deadline(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        _fail(f"the deadline {text!r} is not a date in the form YYYY-MM-DD")


def _work(engine, banks, action):
    """Run `action(assessment, repo)` in one transaction, turning refusals into one clear line."""
    try:
        with transaction(engine) as session:
            repo = Repository(session)
            return action(Assessment(repo, banks), repo)
    except DomainError as error:
        _fail(str(error))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = _settings()
    _database(settings)
    typer.echo(cli_text("db_upgraded.txt", url=settings.database_url))


@banks_app.command("check")
def banks_check(
    paths: list[Path] = typer.Argument(None, help="Bank files or folders (default: the ones the bot loads)."),
) -> None:
    """Check bank files; prints file:line: message for each problem and exits 1 if there are any."""
    settings = _settings()
    banks = _banks(settings, paths)
    typer.echo(cli_text("banks_ok.txt", banks=banks))


@banks_app.command("list")
def banks_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every unit with its criteria, their question counts and mapped criteria."""
    catalogue = describe_banks(_banks(_settings()))
    if as_json:
        typer.echo(json.dumps(catalogue, indent=2, ensure_ascii=False))
    else:
        typer.echo(cli_text("banks_list.txt", units=catalogue))


@assessor_app.command("add")
def assessor_add(
    telegram_id: int = typer.Option(..., help="The assessor's Telegram user id."),
    name: str = typer.Option(..., help="The assessor's name as it appears on records."),
    admin: bool = typer.Option(False, "--admin", help="A centre admin, who may also invite assessors."),
) -> None:
    """Register an assessor."""
    engine, banks = _database(_settings())
    assessor = _work(engine, banks, lambda assessment, _: assessment.add_assessor(telegram_id, name, admin))
    typer.echo(cli_text("assessor_added.txt", assessor=assessor))


@app.command()
def invite(
    unit: str = typer.Option(..., help="Unit code, e.g. cg-310."),
    assessor: int = typer.Option(..., help="The assessor's Telegram user id."),
    deadline: str = typer.Option(..., help="Assessment deadline, YYYY-MM-DD."),
) -> None:
    """Make a one-use enrolment code and its Telegram link."""
    due = _deadline(deadline)
    settings = _settings()
    engine, banks = _database(settings)
    created = _work(engine, banks, lambda assessment, _: assessment.create_invite(unit, assessor, due))
    username = settings.bot_username or asyncio.run(_bot_username(settings))
    typer.echo(cli_text("invite.txt", invite=created, username=username))


async def _bot_username(settings: Settings) -> str | None:
    """Ask the Bot API who the bot is; None when there is no token or no answer."""
    if not settings.telegram_token:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.telegram_token, base_url=settings.telegram_api_url) as bot:
            return bot.username
    except TelegramError:
        return None


@app.command()
def deadline(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    unit: str = typer.Option(..., help="Unit code."),
    date_: str = typer.Option(..., "--date", help="The new deadline, YYYY-MM-DD."),
) -> None:
    """Move a candidate's assessment deadline (their reminders follow it)."""
    due = _deadline(date_)
    engine, banks = _database(_settings())
    enrolment = _work(engine, banks, lambda assessment, _: assessment.change_deadline(candidate, unit, due))
    typer.echo(cli_text("deadline_changed.txt", enrolment=enrolment))


@app.command()
def timezone(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    zone: str = typer.Option(..., help="An IANA time zone, e.g. Europe/London or America/New_York."),
) -> None:
    """Set a candidate's time zone (their reminders keep quiet hours there)."""
    engine, banks = _database(_settings())
    changed = _work(engine, banks, lambda assessment, _: assessment.set_timezone(candidate, zone))
    typer.echo(cli_text("timezone_set.txt", candidate=changed))


@app.command()
def candidates() -> None:
    """List candidates and their units."""
    engine, banks = _database(_settings())
    rows = _work(
        engine,
        banks,
        lambda _, repo: [(c, [e.unit_code for e in repo.enrolments(c.id)]) for c in repo.candidates()],
    )
    typer.echo(cli_text("candidates.txt", rows=rows))


@app.command()
def export(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    unit: str | None = typer.Option(None, help="Unit code; needed with --out."),
    format: list[str] = typer.Option(["json"], help="html, pdf or json; repeat for several."),
    out: Path | None = typer.Option(None, help="Write the evidence records to this folder."),
) -> None:
    """Print a candidate's transcript as JSON, or write their evidence records (--unit, --out)."""
    unknown = [f for f in format if f not in ("html", "pdf", "json")]
    if unknown:
        _fail(f"unknown format {unknown[0]!r}; use html, pdf or json")
    engine, banks = _database(_settings())
    if out is None:
        transcript = _work(engine, banks, lambda _, repo: candidate_transcript(repo, banks, candidate))
        typer.echo(json.dumps(transcript, indent=2, ensure_ascii=False))
        return
    if unit is None:
        _fail("--out needs --unit: the evidence records are per unit")
    from bot.documents import write_exports

    try:
        written = write_exports(engine, banks, candidate, unit, list(format), out)
    except DomainError as error:
        _fail(str(error))
    _work(engine, banks, lambda assessment, _: assessment.record_export(candidate, unit, list(format)))
    typer.echo(cli_text("exported.txt", paths=written))


@app.command()
def run() -> None:
    """Run the bot against the Telegram Bot API (long polling)."""
    settings = _settings()
    if not settings.telegram_token:
        _fail("NVQBOT_TELEGRAM_TOKEN is not set: give the bot token from @BotFather (or try 'make demo')")
    engine, banks = _database(settings)
    from bot.telegram.app import serve

    _configure_logging(logging.INFO)
    _run_until_stopped(serve(settings, engine, banks))


@app.command()
def demo(
    database: Path = typer.Option(PROJECT_ROOT / "var" / "demo.db", help="SQLite file for the demo, made afresh."),
) -> None:
    """Try nvqbot in this terminal: a local Bot API emulator, the real bot, and you as the candidate."""
    from bot.devtools.demo import run_demo

    _configure_logging(logging.WARNING, database.with_suffix(".log"))
    _banks(_settings())  # bank problems are reported before anything starts
    try:
        _run_until_stopped(run_demo(database))
    except DatabaseUnavailable as error:
        _fail(str(error))


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
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())


def main() -> None:
    app(prog_name="nvqbot")
