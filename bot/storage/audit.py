"""The audit trail: events are only ever appended, each chained to the one before by its hash."""

import hashlib
import json
from datetime import datetime

from sqlmodel import Session, col, select

from bot.storage.ids import stored_id
from bot.storage.locks import audit_lock
from bot.storage.models import AuditEvent

GENESIS = "0" * 64


def _digest(previous_hash: str, at: datetime, actor: str, action: str, enrolment_id: int | None, details: dict) -> str:
    body = json.dumps(
        {"previous": previous_hash, "at": at.isoformat(), "actor": actor, "action": action,
         "enrolment": enrolment_id, "details": details},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, actor: str, action: str, enrolment_id: int | None, details: dict, at: datetime) -> AuditEvent:
    """Append one event, chained to the last; concurrent writers wait for each other (`locks.audit_lock`)."""
    audit_lock(session)
    last = session.exec(select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(1)).first()
    previous = last.hash if last else GENESIS
    event = AuditEvent(
        at=at,
        actor=actor,
        action=action,
        enrolment_id=enrolment_id,
        details=details,
        previous_hash=previous,
        hash=_digest(previous, at, actor, action, enrolment_id, details),
    )
    session.add(event)
    session.flush()
    return event


def events(session: Session, enrolment_id: int) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(col(AuditEvent.enrolment_id) == enrolment_id).order_by(col(AuditEvent.id))))


def broken_links(session: Session) -> list[int]:
    """Ids of events whose hash or link does not match: evidence that the trail was edited."""
    broken: list[int] = []
    previous = GENESIS
    for event in session.exec(select(AuditEvent).order_by(col(AuditEvent.id))):
        expected = _digest(event.previous_hash, event.at, event.actor, event.action, event.enrolment_id, event.details)
        if event.previous_hash != previous or event.hash != expected:
            broken.append(stored_id(event))
        previous = event.hash
    return broken
