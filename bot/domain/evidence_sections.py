"""The sections of an evidence record about records other than answers: the professional discussions held, the
direct observations and the witness list. Each is a key of the record only when there is something in it, so that
older records keep their digest (bot/domain/evidence.py puts them together)."""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.domain.coverage import answer_ref
from bot.domain.discussion_records import held_for
from bot.domain.evidence_answers import iso_time
from bot.domain.witnesses import LISTED
from bot.storage.models import Answer, Assessor, Discussion, Enrolment, Observation, Witness


def discussions(session: Session, enrolment: Enrolment) -> dict[str, Any]:
    """The enrolment's professional discussions held (as a key only when there are some, so that older records
    keep their digest): each with its plan, when it was held, for how long, and what happened when."""
    held = session.exec(
        select(Discussion, Assessor.name)
        .join(Assessor, col(Discussion.assessor_id) == col(Assessor.id))
        .where(Discussion.enrolment_id == enrolment.id, col(Discussion.answer_id).is_not(None))
        .order_by(col(Discussion.number))
    ).all()
    if not held:
        return {}
    now = datetime.now(UTC)
    return {"discussions": [
        {
            "ref": f"PD{d.number}",
            "assessor": name,
            "planned_at": iso_time(d.planned_at),
            "planned_criteria": list(d.criteria),
            "status": d.status,
            "events": list(d.events),
            "duration_seconds": int(held_for(d.events, now).total_seconds()),
        }
        for d, name in held
    ]}


def observations(session: Session, enrolment: Enrolment) -> dict[str, Any]:
    """The enrolment's direct observations recorded (as a key only when there are some, so that older records keep
    their digest): each with who observed, where and when, the criteria it covers and when it was countersigned."""
    rows = session.exec(
        select(Observation, Assessor.name, Answer)
        .join(Assessor, col(Observation.assessor_id) == col(Assessor.id))
        .join(Answer, col(Observation.answer_id) == col(Answer.id))
        .where(Observation.enrolment_id == enrolment.id, col(Observation.status) != "cancelled")
        .order_by(col(Observation.number))
    ).all()
    if not rows:
        return {}
    return {"observations": [
        {
            "ref": (answer.asked or {}).get("ref"),
            "assessor": name,
            "place": o.place,
            "observed_at": iso_time(o.observed_at),
            "finished_at": (answer.asked or {}).get("finished_at"),
            "criteria": list(o.criteria),
            "status": o.status,
            "countersigned_at": iso_time(o.countersigned_at),
        }
        for o, name, answer in rows
    ]}


def witnesses(session: Session, enrolment: Enrolment, zone: ZoneInfo) -> dict[str, Any]:
    """The witness list (as a key only when there are witnesses, so that older records keep their digest): each
    witness whose link was made, with their role, relationship, contact, the criteria they were asked to confirm,
    who opened the link (their Telegram identity) and when they confirmed their statement."""
    rows = session.exec(
        select(Witness).where(Witness.enrolment_id == enrolment.id, col(Witness.status).in_(LISTED))
        .order_by(col(Witness.number))
    ).all()
    if not rows:
        return {}
    answers = {a.id: a for a in session.exec(select(Answer).where(col(Answer.id).in_([w.answer_id for w in rows if w.answer_id])))}
    return {"witnesses": [
        {
            "ref": f"WT{w.number}",
            "name": w.name,
            "job_role": w.job_role,
            "relationship": w.relationship,
            "contact": w.contact,
            "criteria": list(w.criteria),
            "named_by": w.named_by,
            "status": w.status,
            "opened_at": iso_time(w.used_at),
            "telegram_user_id": w.telegram_user_id,
            "telegram_name": w.telegram_name,
            "confirmed_at": iso_time(w.confirmed_at),
            "date_confirmed": w.confirmed_at.astimezone(zone).date().isoformat() if w.confirmed_at else None,
            "answer": answer_ref(answers[w.answer_id]) if w.answer_id in answers else None,
        }
        for w in rows
    ]}
