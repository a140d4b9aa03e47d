"""The evidence record of one candidate on one unit, as plain data for the documents and the JSON export.

Every answer version with what was asked (as it was asked: its frozen copy), its messages, attachments,
follow-ups, assessor questions, judgments, criteria and the criteria it credits in other units (read in
`evidence_answers.py`); the declarations and decisions; the knowledge evidence record and the criterion
coverage; the unit's audit trail in the record's own references. `record_for` wraps it with its digest
(see `digest.py`).
"""

from datetime import UTC, datetime
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.domain import evidence_sections as sections
from bot.domain.assessment import DomainError
from bot.domain.banks import Banks
from bot.domain.coverage import Counted, UnitCoverage, unit_coverage
from bot.domain.digest import RECORD_FORMAT, seal
from bot.domain.evidence_answers import answer_records, iso_time
from bot.settings import Settings
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import (
    Assessor,
    Candidate,
    Enrolment,
    Submission,
    Unit,
    Witness,
)

# Exports are not evidence: recording one must not change the record's digest.
NOT_EVIDENCE = frozenset({"exported"})


@cache
def centre_timezone() -> str:
    return Settings().timezone


@cache
def software() -> dict[str, str]:
    try:
        return {"name": "nvqbot", "version": version("nvqbot")}
    except PackageNotFoundError:
        return {"name": "nvqbot", "version": "unknown"}


def record_for(
    session: Session, banks: Banks, candidate_telegram_id: int, unit_code: str, timezone: str | None = None
) -> dict[str, Any]:
    """The exportable record: the evidence, its digest, when and by which nvqbot it was made."""
    evidence = evidence_for(session, banks, candidate_telegram_id, unit_code, timezone)
    return {
        "format": RECORD_FORMAT,
        "evidence": evidence,
        "digest": seal(evidence),
        "generated_at": datetime.now(UTC).isoformat(),
        "software": dict(software()),
    }


def evidence_for(
    session: Session, banks: Banks, candidate_telegram_id: int, unit_code: str, timezone: str | None = None
) -> dict[str, Any]:
    """Everything the documents show; `timezone` (default: the centre's setting) gives the record's dates."""
    zone = ZoneInfo(timezone or centre_timezone())
    if banks.unit(unit_code) is None:
        known = ", ".join(sorted(banks.units))
        raise DomainError(f"unknown unit {unit_code!r} (known units: {known})")
    candidate = session.exec(select(Candidate).where(Candidate.telegram_user_id == candidate_telegram_id)).first()
    if candidate is None:
        raise DomainError(f"no candidate with Telegram id {candidate_telegram_id}")
    enrolment = session.exec(
        select(Enrolment).where(Enrolment.candidate_id == candidate.id, Enrolment.unit_code == unit_code)
    ).first()
    if enrolment is None:
        raise DomainError(
            f"{candidate.name} (Telegram id {candidate_telegram_id}) is not enrolled on unit {unit_code!r}"
        )
    unit = stored(session, Unit, unit_code)
    answers = answer_records(session, banks, enrolment)
    submissions = _submissions(session, enrolment, answers)
    coverage = unit_coverage(session, banks, enrolment)
    words = _criterion_words(answers)
    events = [e for e in audit.events(session, stored_id(enrolment)) if e.action not in NOT_EVIDENCE]
    refs = {answer.pop("_id"): answer["ref"] for answer in answers}
    declarations = banks.units[unit_code].unit.declarations
    return {
        "candidate": {"name": candidate.name, "telegram_user_id": candidate.telegram_user_id},
        "unit": {
            "code": unit.code,
            "title": unit.title,
            "level": unit.level,
            "awarding_body": unit.awarding_body,
            "source": unit.source,
            "assessor_statement": declarations.assessor.model_dump() if declarations.assessor else None,
            "assessor_signatories": list(declarations.assessor_signatories),
        },
        "assessor": {"name": stored(session, Assessor, enrolment.assessor_id).name},
        "enrolment": {"deadline": enrolment.deadline.isoformat(), "status": enrolment.status},
        "timezone": zone.key,
        "bank_versions": _bank_versions(banks, unit_code, answers),
        "answers": answers,
        "submissions": submissions,
        **sections.discussions(session, enrolment),
        **sections.observations(session, enrolment),
        **sections.witnesses(session, enrolment, zone),
        "knowledge_record": _knowledge_record(coverage, words, answers, zone),
        "coverage": _coverage(coverage, words),
        "mandatory_methods": [{"kind": m.kind, "code": m.code, "evidenced": m.evidenced} for m in coverage.mandatory],
        "audit_starts_from": events[0].previous_hash if events else audit.GENESIS,
        "audit": [_event(session, event, refs) for event in events],
    }


def _submissions(session: Session, enrolment: Enrolment, answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = session.exec(select(Submission).where(col(Submission.enrolment_id) == enrolment.id).order_by(col(Submission.id)))
    found = []
    for number, s in enumerate(rows, 1):
        ref = f"S{number}"
        found.append(
            {
                "ref": ref,
                "declaration": s.declaration,
                "declaration_source": s.declaration_source,
                "complete_declaration": s.complete_declaration,
                "declared_by": s.declared_by,
                "declared_at": iso_time(s.declared_at),
                "answers": [a["ref"] for a in answers if a["submission"] == ref],
                "signed_off_at": iso_time(s.signed_off_at),
                "signed_off_by": stored(session, Assessor, s.signed_off_by_id).name if s.signed_off_by_id else None,
                "outcome": s.outcome,
                "assessor_statement": s.assessor_statement,
            }
        )
    return found


def _bank_versions(banks: Banks, unit_code: str, answers: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The bank versions the answers were asked under, oldest first; today's when there are no answers."""
    found: dict[str, dict[str, str]] = {}
    for answer in sorted(answers, key=lambda a: a["started_at"] or ""):
        bank = answer["bank"]
        if bank and bank["sha256"] not in found:
            found[bank["sha256"]] = bank
    if found:
        return list(found.values())
    today = banks.version(unit_code)
    return [{"file": today.file, "sha256": today.sha256, "source": today.source}]


def _criterion_words(answers: list[dict[str, Any]]) -> dict[str, str]:
    """Each criterion's words as the latest answer tagged to it was asked with them: a later bank edit of a
    criterion's words never changes a record of evidence given against the old ones."""
    words = {}
    for answer in sorted(answers, key=lambda a: a["started_at"] or ""):
        for criterion in answer["criteria"]:
            words[criterion["ref"]] = criterion["text"]
    return words


def _counted(item: Counted) -> dict[str, Any]:
    return {
        "unit": item.unit_code,
        "ref": item.ref,
        "method": item.method_code,
        "judgment": item.judgment,
        "via": item.via,
        "group": item.group,
        "partial": item.partial,
        "counts": item.counts,
        "confirmed_by": item.confirmed_by,
        "confirmed_at": iso_time(item.confirmed_at),
    }


def _coverage(coverage: UnitCoverage, words: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "ref": c.ref,
            "kind": c.kind,
            "text": words.get(c.ref, c.text),
            "part_of": c.part_of,
            "parts": c.parts,
            "status": c.status,
            "evidence": [_counted(item) for item in c.evidence],
            "credited": [_counted(item) for item in c.credited],
        }
        for c in coverage.criteria
    ]


def _knowledge_record(coverage: UnitCoverage, words, answers, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The awarding body's knowledge evidence record: each knowledge item, its evidence, method and date."""
    completed = {a["ref"]: a["completed_at"] or a["started_at"] for a in answers}

    def entry(item: Counted) -> dict[str, Any]:
        day = datetime.fromisoformat(completed[item.ref]).astimezone(zone).date().isoformat() if item.ref in completed else None
        return {"ref": item.ref, "unit": item.unit_code, "method": item.method_code, "date": day,
                "judgment": item.judgment, "via": item.via, "counts": item.counts}

    return [
        {
            "ref": c.ref,
            "text": words.get(c.ref, c.text),
            "part_of": c.part_of,
            "status": c.status,
            "evidence": [entry(item) for item in c.evidence] + [entry(item) for item in c.credited],
        }
        for c in coverage.criteria
        if c.kind == "knowledge"
    ]


def _actor(session: Session, actor: str) -> str:
    """An audit actor ("assessor:3") as the record names people: "Ann Assessor (assessor)"."""
    role, _, number = actor.partition(":")
    person: Assessor | Candidate | Witness | None = None
    if role == "assessor" and number.isdigit():
        person = session.get(Assessor, int(number))
    elif role == "candidate" and number.isdigit():
        person = session.get(Candidate, int(number))
    elif role == "witness" and number.isdigit():
        person = session.get(Witness, int(number))
    if person is not None:
        return f"{person.name} ({role})"
    return "the command line" if actor == "cli" else actor


def _event(session: Session, event, refs: dict[int, str]) -> dict[str, Any]:
    return {
        "at": iso_time(event.at),
        "actor": _actor(session, event.actor),
        "action": event.action.replace("_", " "),
        "summary": _summary(event.details, refs),
        "previous_hash": event.previous_hash,
        "hash": event.hash,
    }


def _summary(details: dict[str, Any], refs: dict[int, str]) -> str:
    """An event's details in the record's references: answer ids (in events recorded before references
    were kept in the trail) become the answers' references; other internal ids are left out."""
    shown = {}
    for key, value in sorted(details.items()):
        if key == "answer_id":
            shown["answer"] = refs.get(value, "an answer no longer on record")
        elif key == "answers" and all(isinstance(v, int) for v in value):
            shown["answers"] = ", ".join(refs.get(v, "?") for v in value)
        elif key.endswith("_id") or value is None or value == []:
            continue
        else:
            shown[key] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return "; ".join(f"{key.replace('_', ' ')}: {value}" for key, value in shown.items())
