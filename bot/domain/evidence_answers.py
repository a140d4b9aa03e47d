"""The answer versions of an evidence record: each with what was asked, its messages, attachments, questions and judgments."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select as select_rows  # plain rows of tables, not ORM objects
from sqlmodel import Session, col, select

from bot.domain.banks import Banks
from bot.domain.coverage import answer_ref
from bot.storage.ids import table_of
from bot.storage.models import (
    Answer,
    AnswerPart,
    Assessor,
    AssessorQuestion,
    Attachment,
    Enrolment,
    Judgment,
    QuestionRun,
    Submission,
)


def iso_time(value: datetime | None) -> str | None:
    """A time as the record writes it (ISO 8601), or None."""
    return value.isoformat() if value else None


def answer_records(session: Session, banks: Banks, enrolment: Enrolment) -> list[dict[str, Any]]:
    """Every answer version of the enrolment, in the order the unit asked them, each question's oldest first.

    Read as plain rows, not ORM objects: a record is read, never changed, and rows are several times cheaper."""
    answer, part, question, judgment = (table_of(model) for model in (Answer, AnswerPart, AssessorQuestion, Judgment))
    rows = sorted(
        session.execute(
            select_rows(answer)
            .join(QuestionRun, answer.c.run_id == col(QuestionRun.id))
            .where(col(QuestionRun.enrolment_id) == enrolment.id)
        ).all(),
        key=lambda a: (tuple((a.asked or {}).get("rank", (10**6, 0))), a.question_id, a.version),
    )
    ids = [a.id for a in rows]
    parts, questions, judgments = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in session.execute(select_rows(part).where(part.c.answer_id.in_(ids)).order_by(part.c.seq)):
        parts[row.answer_id].append(row)
    for row in session.execute(
        select_rows(question, col(Assessor.name))
        .join(Assessor, question.c.assessor_id == col(Assessor.id))
        .where(question.c.answer_id.in_(ids))
        .order_by(question.c.id)
    ):
        questions[row.answer_id].append((row, row.name))
    for row in session.execute(
        select_rows(judgment, col(Assessor.name))
        .join(Assessor, judgment.c.assessor_id == col(Assessor.id))
        .where(judgment.c.answer_id.in_(ids))
        .order_by(judgment.c.id)  # as recorded: the last is the decision that stands
    ):
        judgments[row.answer_id].append((row, row.name))
    attachment_ids = (
        {p.attachment_id for ps in parts.values() for p in ps}
        | {q.reply_attachment_id for qs in questions.values() for q, _ in qs}
        | {j.feedback_attachment_id for js in judgments.values() for j, _ in js}
    ) - {None}
    table = table_of(Attachment)
    attachments = {a.id: a for a in session.execute(select_rows(table).where(table.c.id.in_(attachment_ids)))}
    submission_refs = _submission_refs(session, enrolment)
    # The version the records count is each question's latest finished one (a newer draft does not replace it).
    latest_complete = {(a.run_id, a.question_id): a.id for a in rows if a.status == "complete"}
    current = set(latest_complete.values())
    return [
        _answer(banks, answer, parts[answer.id], questions[answer.id], judgments[answer.id], attachments,
                submission_refs, answer.id in current)
        for answer in rows
    ]


def _answer(banks: Banks, answer: Any, parts, questions, judgments, attachments, submission_refs, current: bool):
    asked = answer.asked or {}
    criteria = asked.get("criteria", [])
    return {
        "_id": answer.id,  # removed before the record is sealed
        "ref": answer_ref(answer),
        "method": asked.get("method_code"),
        "method_kind": asked.get("method"),
        "question_set": asked.get("question_set"),
        "question_set_title": asked.get("set_title"),
        "question_id": answer.question_id,
        "question": asked.get("question"),
        "look_fors": asked.get("look_fors", []),
        "bank": asked.get("bank"),
        "version": answer.version,
        "current": current,
        "status": answer.status,
        "short": asked.get("short"),
        "answer": _own_words(parts, None),
        "probes": [
            {
                "number": number,
                "text": probe["text"],
                "asked_at": probe["asked_at"],
                "reply": _own_words(parts, number) or None,
            }
            for number, probe in enumerate(answer.probes or [], 1)
        ],
        "parts": [_part(p, attachments) for p in parts],
        "assessor_questions": [
            {
                "assessor": name,
                "text": q.text,
                "asked_at": iso_time(q.asked_at),
                "reply_text": q.reply_text,
                "replied_at": iso_time(q.replied_at),
                "reply_attachment": attachment_record(attachments.get(q.reply_attachment_id)),
            }
            for q, name in questions
        ],
        "judgments": [
            {
                "outcome": j.outcome,
                "feedback": j.feedback,
                "feedback_attachment": attachment_record(attachments.get(j.feedback_attachment_id)),
                "assessor": name,
                "judged_at": iso_time(j.judged_at),
            }
            for j, name in judgments
        ],
        "criteria": [{"unit": c["unit"], "ref": c["ref"], "text": c["text"]} for c in criteria],
        "credits": [
            {"unit": credit.target.unit, "ref": credit.target.ref, "via": f"{c['unit']}:{c['ref']}",
             "group": credit.group, "partial": credit.partial}
            for c in criteria
            for credit in banks.credits_from(c["unit"], c["ref"])
        ],
        "started_at": iso_time(answer.started_at),
        "completed_at": iso_time(answer.completed_at),
        "submission": submission_refs.get(answer.submission_id),
    }


def attachment_record(attachment: Attachment | None) -> dict[str, Any] | None:
    if attachment is None:
        return None
    record = {
        "kind": attachment.kind,
        "file_unique_id": attachment.file_unique_id,
        "file_size": attachment.file_size,
        "duration": attachment.duration,
        "mime_type": attachment.mime_type,
        "file_name": attachment.file_name,
        "sha256": attachment.sha256,
    }
    if attachment.fetch_failed_at is not None:  # why it never will be (only then: older records keep their digest)
        record["not_fetched"] = attachment.fetch_error
    return record


def _part(part, attachments) -> dict[str, Any]:
    record = {
        "seq": part.seq,
        "text": part.text,
        "probe_number": part.probe_number,
        "sent_at": iso_time(part.sent_at),
        "edited_at": iso_time(part.edited_at),
        "telegram_message_id": part.message_id,
        "attachment": attachment_record(attachments.get(part.attachment_id)),
    }
    # These keys appear only when they say something, so the records of other messages keep their digest.
    if part.forwarded_from:
        record["forwarded_from"] = part.forwarded_from  # someone else's words, forwarded by the candidate
    if part.text_cleaned:
        record["text_cleaned"] = True  # characters no database holds were replaced by visible stand-ins
    if part.author != "candidate":
        record["author"] = part.author  # a professional discussion: the assessor said it
    if part.private:
        record["private"] = True  # the assessor's note: kept, never shown to the candidate
    if part.referenced:
        record["referenced"] = part.referenced  # the criteria the assessor referenced at this message, and when
    return record


def _own_words(parts, probe_number: int | None) -> str:
    """What the candidate wrote, in the answer itself or in reply to one probe: forwarded messages are not theirs."""
    return " ".join(p.text for p in parts if p.text and p.probe_number == probe_number and not p.forwarded_from)


def _submission_refs(session: Session, enrolment: Enrolment) -> dict[int, str]:
    rows = session.exec(select(col(Submission.id)).where(col(Submission.enrolment_id) == enrolment.id).order_by(col(Submission.id)))
    return {submission_id: f"S{number}" for number, submission_id in enumerate(rows, 1) if submission_id is not None}
