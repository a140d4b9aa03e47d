"""The evidence transcript of a candidate: every answer version, its messages, criteria and times."""

from typing import Any

from bot.domain.assessment import DomainError
from bot.domain.banks import Banks
from bot.domain.evidence import attachment_record
from bot.storage.models import Answer, Criterion
from bot.storage.repository import Repository


def candidate_transcript(repo: Repository, banks: Banks, candidate_telegram_id: int) -> dict[str, Any]:
    candidate = repo.candidate_by_telegram_id(candidate_telegram_id)
    if candidate is None:
        raise DomainError(f"no candidate with Telegram id {candidate_telegram_id}")
    units = []
    for enrolment in repo.enrolments(candidate.id):
        bank = banks.unit(enrolment.unit_code)
        answers = []
        for run in repo.runs(enrolment.id):
            question_set = bank.question_set(run.question_set) if bank else None
            for answer in _in_question_order(repo.all_answers(run.id), question_set):
                question = question_set.question(answer.question_id) if question_set else None
                answers.append(_answer(repo, banks, answer, question_set, question))
        units.append(
            {
                "unit": enrolment.unit_code,
                "title": bank.unit.title if bank else None,
                "deadline": enrolment.deadline.isoformat(),
                "status": enrolment.status,
                "answers": answers,
                "submissions": [
                    {
                        "id": s.id,
                        "declaration": s.declaration,
                        "declared_by": s.declared_by,
                        "declared_at": s.declared_at.isoformat(),
                    }
                    for s in repo.submissions(enrolment.id)
                ],
            }
        )
    return {
        "candidate": {"name": candidate.name, "telegram_user_id": candidate.telegram_user_id},
        "units": units,
    }


def _in_question_order(answers, question_set) -> list[Answer]:
    """As the set asks them, each question's versions oldest first."""
    position = {q.id: i for i, q in enumerate(question_set.questions)} if question_set else {}
    return sorted(answers, key=lambda a: (position.get(a.question_id, len(position)), a.question_id, a.version))


def _answer(repo: Repository, banks: Banks, answer: Answer, question_set, question) -> dict[str, Any]:
    criteria = repo.answer_criteria(answer.id)
    parts = []
    for part in repo.parts(answer.id):
        attachment = repo.attachment(part.attachment_id) if part.attachment_id else None
        parts.append(
            {
                "text": part.text,
                "follow_up": part.in_follow_up,
                "sent_at": part.sent_at.isoformat(),
                "edited_at": part.edited_at.isoformat() if part.edited_at else None,
                "recorded_at": part.recorded_at.isoformat(),
                "telegram": {"chat_id": part.chat_id, "message_id": part.message_id},
                "attachment": attachment_record(attachment),
            }
        )
    return {
        "answer_id": answer.id,
        "question_set": question_set.id if question_set else None,
        "method": "PD" if question_set and question_set.kind == "pd" else "Q",
        "question_id": answer.question_id,
        "question": question.text if question else None,
        "version": answer.version,
        "status": answer.status,
        "answer": " ".join(p["text"] for p in parts if p["text"] and not p["follow_up"]),
        "probe": answer.probe,
        "follow_up": " ".join(p["text"] for p in parts if p["text"] and p["follow_up"]) or None,
        "parts": parts,
        "criteria": [{"unit": c.unit_code, "ref": c.ref, "text": c.text} for c in criteria],
        "mapped_criteria": mapped_criteria(banks, criteria),
        "started_at": answer.started_at.isoformat(),
        "completed_at": answer.completed_at.isoformat() if answer.completed_at else None,
        "submission_id": answer.submission_id,
    }


def mapped_criteria(banks: Banks, criteria: list[Criterion]) -> list[dict[str, str]]:
    """The criteria of other units that the mapping makes these ones count for."""
    mapped = []
    for criterion in criteria:
        for key in banks.equivalents(criterion.unit_code, criterion.ref):
            spec = banks.unit(key.unit).criterion(key.ref)
            mapped.append({"unit": key.unit, "ref": key.ref, "text": spec.text, "via": f"{criterion.unit_code}:{criterion.ref}"})
    return mapped
