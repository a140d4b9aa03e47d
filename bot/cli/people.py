"""The commands about people: assessors, invites, and candidates' deadlines and time zones."""

import asyncio

import typer

from bot.cli.common import load_settings, open_db, parse_date, refuse, work
from bot.domain.limits import Limits
from bot.domain.sittings import Sittings
from bot.rendering import cli_text
from bot.settings import Settings
from bot.storage.ids import stored_id
from bot.storage.repository import Repository


def assessor_add(
    telegram_id: int = typer.Option(..., help="The assessor's Telegram user id."),
    name: str = typer.Option(..., help="The assessor's name as it appears on records."),
    admin: bool = typer.Option(False, "--admin", help="A centre admin, who may also invite assessors."),
) -> None:
    """Register an assessor."""
    engine, banks = open_db(load_settings())
    assessor = work(engine, banks, lambda assessment, _: assessment.add_assessor(telegram_id, name, admin))
    typer.echo(cli_text("assessor_added.txt", assessor=assessor))


def invite(
    unit: str = typer.Option(None, help="Unit code, e.g. cg-310."),
    assessor: int = typer.Option(None, help="The assessor's Telegram user id."),
    deadline: str = typer.Option(None, help="Assessment deadline, YYYY-MM-DD."),
    revoke: str = typer.Option(None, help="Revoke this unused code (a candidate's or an assessor's) instead.",
                               metavar="CODE"),
) -> None:
    """Make a one-use enrolment code and its Telegram link (it works for NVQBOT_INVITE_VALID_DAYS), or revoke one."""
    settings = load_settings()
    if revoke is not None:
        if unit or assessor or deadline:
            refuse("revoke_alone")
        engine, banks = open_db(settings)
        revoked = work(engine, banks, lambda assessment, _: assessment.revoke_invite(revoke))
        typer.echo(cli_text("invite_revoked.txt", invite=revoked))
        return
    if None in (unit, assessor, deadline):
        refuse("invite_needs")
    due = parse_date(deadline)
    engine, banks = open_db(settings)
    limits = Limits.from_settings(settings)
    created = work(engine, banks, lambda assessment, _: assessment.create_invite(unit, assessor, due), limits)
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


def deadline(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    unit: str = typer.Option(..., help="Unit code."),
    date_: str = typer.Option(..., "--date", help="The new deadline, YYYY-MM-DD."),
) -> None:
    """Move a candidate's assessment deadline (their reminders follow it)."""
    due = parse_date(date_)
    engine, banks = open_db(load_settings())
    enrolment = work(engine, banks, lambda assessment, _: assessment.change_deadline(candidate, unit, due))
    typer.echo(cli_text("deadline_changed.txt", enrolment=enrolment))


def timezone(
    candidate: int = typer.Option(..., help="The candidate's Telegram user id."),
    zone: str = typer.Option(..., help="An IANA time zone, e.g. Europe/London or America/New_York."),
) -> None:
    """Set a candidate's time zone (their reminders keep quiet hours there)."""
    engine, banks = open_db(load_settings())
    changed = work(engine, banks, lambda assessment, _: assessment.set_timezone(candidate, zone))
    typer.echo(cli_text("timezone_set.txt", candidate=changed))


def candidates() -> None:
    """List candidates: one line per unit, with its status, questions answered and deadline."""
    engine, banks = open_db(load_settings())

    def rows(_, repo: Repository) -> list[dict]:
        sittings = Sittings(repo, banks)
        listed = []
        for candidate in repo.candidates():
            for enrolment in repo.enrolments(stored_id(candidate)):
                progress = sittings.unit_progress(enrolment) if banks.unit(enrolment.unit_code) else None
                listed.append({"candidate": candidate, "enrolment": enrolment, "progress": progress})
        return listed

    typer.echo(cli_text("candidates.txt", rows=work(engine, banks, rows)))
