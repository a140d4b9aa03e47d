"""The commands about records: exporting evidence, verifying an exported record, and checking the audit trail."""

import json
from pathlib import Path

import typer
from sqlalchemy import func
from sqlmodel import select

from bot.cli.common import fail, load_settings, open_db, refuse, work
from bot.domain.assessment import DomainError
from bot.domain.banks import Banks
from bot.rendering import cli_text
from bot.storage.ids import stored_id
from bot.storage.repository import Repository

EXPORT_FORMATS = ("html", "pdf", "json")


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
        refuse("unknown_format", format=unknown[0])
    files = [f for f in formats if f != "json"]
    if out is None and files:
        refuse("export_needs_out", formats=files, candidate=candidate, unit=unit)
    if out is not None and unit is None:
        refuse("out_needs_unit", candidate=candidate, out=out)
    engine, banks = open_db(load_settings())
    from bot.documents import render_json, write_exports

    if out is None:
        typer.echo(render_json(_records(engine, banks, candidate, unit)))
        return
    assert unit is not None, "--out without --unit is refused above"
    try:
        written = write_exports(engine, banks, candidate, unit, formats, out)
    except DomainError as error:
        fail(str(error))
    work(engine, banks, lambda assessment, _: assessment.record_export(candidate, unit, formats))
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

    records = work(engine, banks, gather)
    if records is None:
        refuse("no_candidate", candidate=candidate)
    return records


def verify(
    file: Path = typer.Argument(..., help="An evidence record as nvqbot export wrote it (JSON)."),
) -> None:
    """Recompute an exported record's digest: "intact", or what differs (exit 1)."""
    from bot.domain.digest import RECORD_FORMAT, differences

    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        refuse("unreadable", 2, path=file, reason="missing")
    except IsADirectoryError:
        refuse("unreadable", 2, path=file, reason="folder")
    except UnicodeDecodeError:
        refuse("not_json", 2, path=file, reason="not_text")
    except OSError as error:
        refuse("unreadable", 2, path=file, reason="os", detail=error.strerror or error)
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        refuse("not_json", 2, path=file, reason="syntax", line=error.lineno, column=error.colno, detail=error.msg)
    records = loaded if isinstance(loaded, list) else [loaded]  # `nvqbot export` without --unit prints a list
    if not records:
        refuse("not_a_record", 2, path=file, reason="empty")
    results = []
    for record in records:
        problem = _not_a_record(record, RECORD_FORMAT)
        if problem:
            refuse("not_a_record", 2, path=file, **problem)
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


def audit_verify() -> None:
    """Check the whole audit trail's hash chain: "intact", or which events were changed (exit 1)."""
    engine, banks = open_db(load_settings())
    from bot.storage import audit
    from bot.storage.models import AuditEvent

    def check(_, repo: Repository) -> dict:
        session = repo.session
        broken = audit.broken_links(session)
        return {
            "total": session.exec(select(func.count()).select_from(AuditEvent)).one(),
            "broken": [session.get(AuditEvent, event_id) for event_id in broken],
        }

    checked = work(engine, banks, check)
    typer.echo(cli_text("audit_verified.txt", **checked))
    if checked["broken"]:
        raise typer.Exit(1)
