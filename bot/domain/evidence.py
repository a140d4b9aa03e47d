"""The evidence of one candidate on one unit, as plain data for the evidence documents.

Every answer version with its messages, attachments, follow-ups, assessor questions, judgments and
criteria; the declarations and sign-offs; the knowledge evidence record and criterion coverage; the
unit's audit trail; and a SHA-256 digest of all of it, so that a changed character shows.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.domain.assessment import DomainError
from bot.domain.banks import Banks, Question, QuestionSet, UnitBank
from bot.settings import Settings
from bot.storage import audit
from bot.storage.models import (
    Answer,
    AnswerCriterion,
    AnswerPart,
    Assessor,
    AssessorQuestion,
    Attachment,
    Candidate,
    Criterion,
    Enrolment,
    Judgment,
    QuestionRun,
    Submission,
    Unit,
)

METHOD_QA = "Q&A"
METHOD_PD = "PD"


@dataclass(frozen=True)
class _Slot:
    """Where a question sits in its unit: sort rank, evidence reference stem, method."""

    rank: tuple[int, int, str]
    stem: str
    method: str
    question_set: QuestionSet | None
    question: Question | None


@dataclass
class _Item:
    answer: Answer
    slot: _Slot
    criteria: list[Criterion]
    judgments: list[tuple[Judgment, str]]  # with the assessor's name
    current: bool = False  # the version the records count: the question's latest finished one

    @property
    def ref(self) -> str:
        return f"{self.slot.stem}.v{self.answer.version}"

    @property
    def judgment(self) -> str | None:
        return self.judgments[-1][0].outcome if self.judgments else None


def evidence_for(
    session: Session, banks: Banks, candidate_telegram_id: int, unit_code: str, timezone: str | None = None
) -> dict[str, Any]:
    """Everything the documents show; `timezone` (default: the centre's setting) gives the record's dates."""
    zone = ZoneInfo(timezone or Settings().timezone)
    candidate = session.exec(select(Candidate).where(Candidate.telegram_user_id == candidate_telegram_id)).first()
    if candidate is None:
        raise DomainError(f"no candidate with Telegram id {candidate_telegram_id}")
    enrolments = session.exec(
        select(Enrolment).where(Enrolment.candidate_id == candidate.id).order_by(Enrolment.id)
    ).all()
    enrolment = next((e for e in enrolments if e.unit_code == unit_code), None)
    if enrolment is None:
        raise DomainError(
            f"{candidate.name} (Telegram id {candidate_telegram_id}) is not enrolled on unit {unit_code!r}"
        )
    bank = banks.unit(unit_code)
    if bank is None:
        raise DomainError(f"unit {unit_code!r} is not in the question banks")
    unit = session.get(Unit, unit_code)
    items = _items(session, bank, enrolment)
    others = {  # the candidate's other units, for evidence the mapping makes count here too
        e.unit_code: _items(session, banks.unit(e.unit_code), e)
        for e in enrolments
        if e is not enrolment and banks.unit(e.unit_code)
    }
    evidence = {
        "candidate": {"name": candidate.name, "telegram_user_id": candidate.telegram_user_id},
        "unit": {
            "code": unit.code,
            "title": unit.title,
            "level": unit.level,
            "awarding_body": unit.awarding_body,
            "source": unit.source,
        },
        "assessor": {"name": session.get(Assessor, enrolment.assessor_id).name},
        "enrolment": {"deadline": enrolment.deadline.isoformat(), "status": enrolment.status},
        "timezone": zone.key,
        "answers": _answers(session, banks, items),
        "submissions": _submissions(session, enrolment),
        "knowledge_record": _knowledge_record(bank, items, zone),
        "coverage": _coverage(banks, bank, items, others),
        "audit": [
            {
                "at": event.at.isoformat(),
                "actor": event.actor,
                "action": event.action,
                "details": event.details,
                "previous_hash": event.previous_hash,
                "hash": event.hash,
            }
            for event in audit.events(session, enrolment.id)
        ],
    }
    evidence["digest"] = digest(evidence)
    evidence["generated_at"] = datetime.now(UTC).isoformat()
    return evidence


def digest(evidence: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the evidence, without its own digest and generation time."""
    body = {key: value for key, value in evidence.items() if key not in ("digest", "generated_at")}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _slots(bank: UnitBank) -> dict[tuple[str, str], _Slot]:
    """Every question of the unit by (set id, question id): knowledge sets in bank order, then PD cases."""
    slots, number = {}, 0
    for set_rank, question_set in enumerate(bank.knowledge_sets):
        for position, question in enumerate(question_set.questions):
            number += 1
            slots[question_set.id, question.id] = _Slot(
                (set_rank, position, ""), f"Q{number}", METHOD_QA, question_set, question
            )
    for case_rank, case in enumerate(bank.pd_cases, len(bank.knowledge_sets)):
        question_set = case.as_question_set()
        for position, question in enumerate(question_set.questions, 1):
            slots[case.set_id, question.id] = _Slot(
                (case_rank, position, ""), f"PD-{case.id}-{position}", METHOD_PD, question_set, question
            )
    return slots


def _items(session: Session, bank: UnitBank, enrolment: Enrolment) -> list[_Item]:
    """Every answer version of the enrolment, in the order the unit asks them, each question's oldest first."""
    slots = _slots(bank)
    rows = session.exec(
        select(Answer, QuestionRun.question_set)
        .join(QuestionRun, Answer.run_id == QuestionRun.id)
        .where(QuestionRun.enrolment_id == enrolment.id)
    ).all()
    answer_ids = [answer.id for answer, _ in rows]
    criteria, judgments = defaultdict(list), defaultdict(list)
    order = {spec.ref: i for i, spec in enumerate(bank.criteria)}
    for link, criterion in session.exec(
        select(AnswerCriterion, Criterion)
        .join(Criterion, AnswerCriterion.criterion_id == Criterion.id)
        .where(AnswerCriterion.answer_id.in_(answer_ids))
    ):
        criteria[link.answer_id].append(criterion)
    for judgment, name in session.exec(
        select(Judgment, Assessor.name)
        .join(Assessor, Judgment.assessor_id == Assessor.id)
        .where(Judgment.answer_id.in_(answer_ids))
        .order_by(Judgment.id)  # as recorded: the last is the decision that stands
    ):
        judgments[judgment.answer_id].append((judgment, name))
    items = []
    for answer, set_id in rows:
        # A question no longer in the bank still shows, after the others, under its stored ids.
        slot = slots.get((set_id, answer.question_id)) or _Slot(
            (len(slots), 0, f"{set_id}/{answer.question_id}"),
            f"{set_id}-{answer.question_id}",
            METHOD_PD if set_id.startswith("pd:") else METHOD_QA,
            None,
            None,
        )
        tagged = sorted(criteria[answer.id], key=lambda c: (order.get(c.ref, len(order)), c.id))
        items.append(_Item(answer, slot, tagged, judgments[answer.id]))
    items.sort(key=lambda item: (item.slot.rank, item.answer.version))
    current = {item.slot.stem: item for item in items if item.answer.status == "complete"}
    for item in current.values():
        item.current = True
    return items


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def attachment_record(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    return {
        "kind": attachment.kind,
        "file_unique_id": attachment.file_unique_id,
        "file_size": attachment.file_size,
        "duration": attachment.duration,
        "mime_type": attachment.mime_type,
        "file_name": attachment.file_name,
        "sha256": attachment.sha256,
    }


def _answers(session: Session, banks: Banks, items: list[_Item]) -> list[dict[str, Any]]:
    answer_ids = [item.answer.id for item in items]
    parts, questions = defaultdict(list), defaultdict(list)
    for part in session.exec(select(AnswerPart).where(AnswerPart.answer_id.in_(answer_ids)).order_by(AnswerPart.seq)):
        parts[part.answer_id].append(part)
    for question, name in session.exec(
        select(AssessorQuestion, Assessor.name)
        .join(Assessor, AssessorQuestion.assessor_id == Assessor.id)
        .where(AssessorQuestion.answer_id.in_(answer_ids))
        .order_by(AssessorQuestion.id)
    ):
        questions[question.answer_id].append((question, name))
    attachment_ids = (
        {p.attachment_id for ps in parts.values() for p in ps}
        | {q.reply_attachment_id for qs in questions.values() for q, _ in qs}
        | {j.feedback_attachment_id for item in items for j, _ in item.judgments}
    ) - {None}
    attachments = {a.id: a for a in session.exec(select(Attachment).where(Attachment.id.in_(attachment_ids)))}
    answers = []
    for item in items:
        answer, slot = item.answer, item.slot
        own = parts[answer.id]
        answers.append(
            {
                "ref": item.ref,
                "method": slot.method,
                "question_set": slot.question_set.id if slot.question_set else None,
                "question_set_title": slot.question_set.title if slot.question_set else None,
                "question_id": answer.question_id,
                "question": slot.question.text if slot.question else None,
                "look_fors": list(slot.question.look_fors) if slot.question else [],
                "version": answer.version,
                "current": item.current,
                "status": answer.status,
                "answer": " ".join(p.text for p in own if p.text and not p.in_follow_up),
                "probe": answer.probe,
                "probed_at": _iso(answer.probed_at),
                "follow_up": " ".join(p.text for p in own if p.text and p.in_follow_up) or None,
                "parts": [
                    {
                        "seq": p.seq,
                        "text": p.text,
                        "in_follow_up": p.in_follow_up,
                        "sent_at": _iso(p.sent_at),
                        "edited_at": _iso(p.edited_at),
                        "chat_id": p.chat_id,
                        "message_id": p.message_id,
                        "attachment": attachment_record(attachments.get(p.attachment_id)),
                    }
                    for p in own
                ],
                "assessor_questions": [
                    {
                        "assessor": name,
                        "text": q.text,
                        "asked_at": _iso(q.asked_at),
                        "reply_text": q.reply_text,
                        "replied_at": _iso(q.replied_at),
                        "reply_attachment": attachment_record(attachments.get(q.reply_attachment_id)),
                    }
                    for q, name in questions[answer.id]
                ],
                "judgments": [
                    {
                        "outcome": j.outcome,
                        "feedback": j.feedback,
                        "feedback_attachment": attachment_record(attachments.get(j.feedback_attachment_id)),
                        "assessor": name,
                        "judged_at": _iso(j.judged_at),
                    }
                    for j, name in item.judgments
                ],
                "criteria": [{"unit": c.unit_code, "ref": c.ref, "text": c.text} for c in item.criteria],
                "mapped_criteria": [
                    {
                        "unit": key.unit,
                        "ref": key.ref,
                        "text": banks.unit(key.unit).criterion(key.ref).text,
                        "via": f"{c.unit_code}:{c.ref}",
                    }
                    for c in item.criteria
                    for key in banks.equivalents(c.unit_code, c.ref)
                ],
                "started_at": _iso(answer.started_at),
                "completed_at": _iso(answer.completed_at),
                "submission_id": answer.submission_id,
            }
        )
    return answers


def _submissions(session: Session, enrolment: Enrolment) -> list[dict[str, Any]]:
    rows = session.exec(select(Submission).where(Submission.enrolment_id == enrolment.id).order_by(Submission.id))
    return [
        {
            "id": s.id,
            "declaration": s.declaration,
            "declared_by": s.declared_by,
            "declared_at": _iso(s.declared_at),
            "signed_off_at": _iso(s.signed_off_at),
            "signed_off_by": session.get(Assessor, s.signed_off_by_id).name if s.signed_off_by_id else None,
            "outcome": s.outcome,
        }
        for s in rows
    ]


def _knowledge_record(bank: UnitBank, items: list[_Item], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The awarding body's knowledge evidence record: each knowledge item, its evidence, method and date."""
    return [
        {
            "ref": spec.ref,
            "text": spec.text,
            "evidence": [
                {
                    "ref": item.ref,
                    "method": item.slot.method,
                    "date": (item.answer.completed_at or item.answer.started_at).astimezone(zone).date().isoformat(),
                    "judgment": item.judgment,
                }
                for item in items
                if item.current and any(c.ref == spec.ref for c in item.criteria)
            ],
        }
        for spec in bank.criteria
        if spec.kind == "knowledge"
    ]


def _coverage(banks: Banks, bank: UnitBank, items: list[_Item], others: dict[str, list[_Item]]) -> list[dict[str, Any]]:
    """Each criterion of the unit: the evidence tagged to it here, and that of other units mapped to it."""
    code = bank.unit.code
    mapped = defaultdict(list)
    for unit_code, unit_items in others.items():
        for item in unit_items:
            if not item.current:
                continue
            for criterion in item.criteria:
                for key in banks.equivalents(criterion.unit_code, criterion.ref):
                    if key.unit == code:
                        mapped[key.ref].append(
                            {
                                "unit": unit_code,
                                "ref": item.ref,
                                "via": f"{criterion.unit_code}:{criterion.ref}",
                                "judgment": item.judgment,
                            }
                        )
    rows = []
    for spec in bank.criteria:
        direct = [item for item in items if item.current and any(c.ref == spec.ref for c in item.criteria)]
        judged = [item.judgment for item in direct] + [m["judgment"] for m in mapped[spec.ref]]
        if "met" in judged:
            status = "met"
        elif judged:
            status = "answered"
        else:
            status = "missing"
        rows.append(
            {
                "ref": spec.ref,
                "kind": spec.kind,
                "text": spec.text,
                "evidence": [item.ref for item in direct],
                "mapped_evidence": mapped[spec.ref],
                "status": status,
            }
        )
    return rows
