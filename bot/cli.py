"""The nvqbot command line."""

import asyncio
import contextlib
import json
import logging
import signal
from datetime import date
from pathlib import Path
from typing import NoReturn

import typer
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import select

from bot.bootstrap import load_checked_banks, open_database
from bot.domain.assessment import Assessment, DomainError
from bot.domain.bank_loading import BanksInvalid
from bot.domain.banks import Banks, describe_banks, load_banks
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.domain.sittings import Sittings
from bot.rendering import cli_text
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import DatabaseUnavailable, transaction
from bot.storage.ids import stored_id
from bot.storage.repository import Repository

app = typer.Typer(help="nvqbot: evidence for NVQ units, gathered in Telegram.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
assessor_app = typer.Typer(help="Assessors.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(assessor_app, name="assessor")
banks_app = typer.Typer(help="The question banks: units, criteria, questions and the cross-unit mapping.", no_args_is_help=True)
app.add_typer(banks_app, name="banks")
audit_app = typer.Typer(help="The audit trail of judgments, decisions and exports.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

EXPORT_FORMATS = ("html", "pdf", "json")


def _refuse(problem: str, code: int = 1, **values) -> NoReturn:
    """One line on stderr (`problem` names its wording in error.txt), then exit with `code`."""
    typer.echo(cli_text("error.txt", problem=problem, **values), err=True)
    raise typer.Exit(code)


def _fail(message: str) -> NoReturn:
    """A refusal the domain worded (DomainError, DatabaseUnavailable), as one line."""
    _refuse("message", message=message)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        problems = [{"name": "_".join(map(str, e["loc"])).upper(), "msg": e["msg"]} for e in error.errors()]
        _refuse("bad_setting", problems=problems)


def _banks(settings: Settings, paths: list[Path] | None = None) -> Banks:
    try:
        # An explicit check (`banks check PATH`) always checks; starts reuse banks checked before.
        return load_banks(paths) if paths else load_checked_banks([settings.banks_dir], settings.cache_dir)
    except BanksInvalid as invalid:
        typer.echo(cli_text("banks_invalid.txt", problems=invalid.problems), err=True)
        raise typer.Exit(1) from None


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
        _refuse("bad_date", text_given=text)


def _work(engine, banks, action, limits: Limits = DEFAULT_LIMITS):
    """Run `action(assessment, repo)` in one transaction, turning refusals into one clear line."""
    try:
        with transaction(engine) as session:
            repo = Repository(session)
            return action(Assessment(repo, banks, limits=limits), repo)
    except DomainError as error:
        _fail(str(error))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = _settings()
    _database(settings)
    typer.echo(cli_text("db_upgraded.txt", url=settings.database_url_for_people()))


@banks_app.command("check")
def banks_check(
    paths: list[Path] = typer.Argument(None, help="Bank files or folders (default: the ones the bot loads)."),
) -> None:
    """Check bank files; prints file:line: message for each problem and exits 1 if there are any."""
    settings = _settings()
    banks = _banks(settings, paths or [settings.banks_dir])
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
    unit: str = typer.Option(None, help="Unit code, e.g. cg-310."),
    assessor: int = typer.Option(None, help="The assessor's Telegram user id."),
    deadline: str = typer.Option(None, help="Assessment deadline, YYYY-MM-DD."),
    revoke: str = typer.Option(None, help="Revoke this unused code (a candidate's or an assessor's) instead.",
                               metavar="CODE"),
) -> None:
    """Make a one-use enrolment code and its Telegram link (it works for NVQBOT_INVITE_VALID_DAYS), or revoke one."""
    settings = _settings()
    if revoke is not None:
        if unit or assessor or deadline:
            _refuse("revoke_alone")
        engine, banks = _database(settings)
        revoked = _work(engine, banks, lambda assessment, _: assessment.revoke_invite(revoke))
        typer.echo(cli_text("invite_revoked.txt", invite=revoked))
        return
    if None in (unit, assessor, deadline):
        _refuse("invite_needs")
    due = _deadline(deadline)
    engine, banks = _database(settings)
    limits = Limits.from_settings(settings)
    created = _work(engine, banks, lambda assessment, _: assessment.create_invite(unit, assessor, due), limits)
    username = settings.bot_username or asyncio.run(_bot_username(settings))
    expires = created.expires_at.astimezone(settings.tz)
    typer.echo(cli_text("invite.txt", invite=created, username=username, expires=expires, timezone=settings.timezone))


async def _bot_username(settings: Settings) -> str | None:
    """Ask the Bot API who the bot is; None when there is no token or no answer."""
    if not settings.telegram_token:
        return None
    from telegram import Bot
    from telegram.error import TelegramError

    try:
        async with Bot(settings.token(), base_url=settings.telegram_api_url) as bot:
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
    """List candidates: one line per unit, with its status, questions answered and deadline."""
    engine, banks = _database(_settings())

    def rows(_, repo: Repository) -> list[dict]:
        sittings = Sittings(repo, banks)
        listed = []
        for candidate in repo.candidates():
            for enrolment in repo.enrolments(stored_id(candidate)):
                progress = sittings.unit_progress(enrolment) if banks.unit(enrolment.unit_code) else None
                listed.append({"candidate": candidate, "enrolment": enrolment, "progress": progress})
        return listed

    typer.echo(cli_text("candidates.txt", rows=_work(engine, banks, rows)))


@app.command()
def export(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    unit: str | None = typer.Option(None, help="Unit code; needed with --out. Without it, every unit the candidate is on."),
    format: list[str] = typer.Option(["json"], help="html, pdf or json; repeat for several. html and pdf need --out."),
    out: Path | None = typer.Option(None, help="Write the evidence records to this folder."),
) -> None:
    """Print a candidate's evidence records as JSON, or write them as files (--unit, --out).

    The JSON printed for --unit is the record --out writes to <unit>_<id>_evidence.json; without
    --unit it is a JSON array of those records, one per unit the candidate is enrolled on."""
    formats = list(dict.fromkeys(format))
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        _refuse("unknown_format", format=unknown[0])
    files = [f for f in formats if f != "json"]
    if out is None and files:
        _refuse("export_needs_out", formats=files, candidate=candidate, unit=unit)
    if out is not None and unit is None:
        _refuse("out_needs_unit", candidate=candidate, out=out)
    engine, banks = _database(_settings())
    from bot.documents import render_json, write_exports

    if out is None:
        typer.echo(render_json(_records(engine, banks, candidate, unit)))
        return
    assert unit is not None, "--out without --unit is refused above"
    try:
        written = write_exports(engine, banks, candidate, unit, formats, out)
    except DomainError as error:
        _fail(str(error))
    _work(engine, banks, lambda assessment, _: assessment.record_export(candidate, unit, formats))
    typer.echo(cli_text("exported.txt", paths=written))


def _records(engine, banks: Banks, candidate: int, unit: str | None):
    """The record of one unit, or (no unit) a list of the records of every unit the candidate is on."""
    from bot.domain.evidence import record_for

    def gather(_, repo: Repository):
        if unit is not None:
            return record_for(repo.session, banks, candidate, unit)
        person = repo.candidate_by_telegram_id(candidate)
        if person is None:
            return None
        return [record_for(repo.session, banks, candidate, e.unit_code) for e in repo.enrolments(stored_id(person))]

    records = _work(engine, banks, gather)
    if records is None:
        _refuse("no_candidate", candidate=candidate)
    return records


@app.command()
def verify(
    file: Path = typer.Argument(..., help="An evidence record as nvqbot export wrote it (JSON)."),
) -> None:
    """Recompute an exported record's digest: "intact", or what differs (exit 1)."""
    from bot.domain.digest import RECORD_FORMAT, differences

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        _refuse("unreadable", 2, path=file, reason="missing")
    except IsADirectoryError:
        _refuse("unreadable", 2, path=file, reason="folder")
    except UnicodeDecodeError:
        _refuse("not_json", 2, path=file, reason="not_text")
    except OSError as error:
        _refuse("unreadable", 2, path=file, reason="os", detail=error.strerror or error)
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        _refuse("not_json", 2, path=file, reason="syntax", line=error.lineno, column=error.colno, detail=error.msg)
    records = loaded if isinstance(loaded, list) else [loaded]  # `nvqbot export` without --unit prints a list
    if not records:
        _refuse("not_a_record", 2, path=file, reason="empty")
    results = []
    for record in records:
        problem = _not_a_record(record, RECORD_FORMAT)
        if problem:
            _refuse("not_a_record", 2, path=file, **problem)
        unit_given, candidate_given = record["evidence"].get("unit"), record["evidence"].get("candidate")
        results.append(
            {
                "unit": unit_given.get("code") if isinstance(unit_given, dict) else None,
                "candidate": candidate_given if isinstance(candidate_given, dict) else None,
                "digest": record["digest"],
                "differences": differences(record),
            }
        )
    typer.echo(cli_text("verified.txt", path=file, results=results))
    if any(result["differences"] for result in results):
        raise typer.Exit(1)


def _not_a_record(record, record_format: str) -> dict | None:
    """Why this is not something `verify` can check (the values for error.txt), or None."""
    if not isinstance(record, dict):
        return {"reason": "not_object"}
    if "format" in record and record["format"] != record_format:
        return {"reason": "format", "found": record["format"], "known": record_format}
    if not isinstance(record.get("evidence"), dict):
        return {"reason": "no_evidence"}
    if not isinstance(record.get("digest"), dict) or not isinstance(record["digest"].get("value"), str):
        return {"reason": "no_digest"}
    return None


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole audit trail's hash chain: "intact", or which events were changed (exit 1)."""
    engine, banks = _database(_settings())
    from bot.storage import audit
    from bot.storage.models import AuditEvent

    def check(_, repo: Repository) -> dict:
        session = repo.session
        broken = audit.broken_links(session)
        return {
            "total": session.exec(select(func.count()).select_from(AuditEvent)).one(),
            "broken": [session.get(AuditEvent, event_id) for event_id in broken],
        }

    checked = _work(engine, banks, check)
    typer.echo(cli_text("audit_verified.txt", **checked))
    if checked["broken"]:
        raise typer.Exit(1)


@app.command()
def run() -> None:
    """Run the bot against the Telegram Bot API (long polling)."""
    settings = _settings()
    if not settings.telegram_token:
        _refuse("no_token")
    engine, banks = _database(settings)
    from telegram.error import InvalidToken

    from bot.telegram.app import LostActiveLock, serve

    _configure_logging(logging.INFO)
    try:
        _run_until_stopped(serve(settings, engine, banks))
    except InvalidToken as error:
        _refuse("bad_token", detail=error.message)
    except LostActiveLock as error:  # a supervisor restarts it, as a standby
        _fail(str(error))


@app.command()
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
        _refuse(refused.problem, **refused.values)
    _configure_logging(logging.WARNING, database.with_suffix(".log"))
    _banks(_settings())  # bank problems are reported before anything starts
    try:
        _run_until_stopped(run_demo(database))
    except DatabaseUnavailable as error:
        _fail(str(error))
    except DemoRefused as refused:
        _refuse(refused.problem, **refused.values)


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


def main() -> None:
    app(prog_name="nvqbot")
