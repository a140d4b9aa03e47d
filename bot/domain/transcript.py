"""The evidence transcript of a candidate: every answer, with its criteria and times."""

from typing import Any

from bot.domain.assessment import DomainError
from bot.domain.banks import Banks
from bot.storage.models import Criterion
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
            for answer, criteria in repo.answers_with_criteria(run.id):
                question = question_set.question(answer.question_id) if question_set else None
                answers.append(
                    {
                        "question_set": run.question_set,
                        "method": "PD" if question_set and question_set.kind == "pd" else "Q",
                        "question_id": answer.question_id,
                        "question": question.text if question else None,
                        "version": answer.version,
                        "answer": answer.text,
                        "criteria": [{"unit": c.unit_code, "ref": c.ref, "text": c.text} for c in criteria],
                        "mapped_criteria": mapped_criteria(banks, criteria),
                        "sent_at": answer.sent_at.isoformat(),
                        "recorded_at": answer.recorded_at.isoformat(),
                        "telegram": {"chat_id": answer.chat_id, "message_id": answer.message_id},
                    }
                )
        units.append(
            {
                "unit": enrolment.unit_code,
                "title": bank.unit.title if bank else None,
                "deadline": enrolment.deadline.isoformat(),
                "status": enrolment.status,
                "answers": answers,
            }
        )
    return {
        "candidate": {"name": candidate.name, "telegram_user_id": candidate.telegram_user_id},
        "units": units,
    }


def mapped_criteria(banks: Banks, criteria: list[Criterion]) -> list[dict[str, str]]:
    """The criteria of other units that the mapping makes these ones count for."""
    mapped = []
    for criterion in criteria:
        for key in banks.equivalents(criterion.unit_code, criterion.ref):
            spec = banks.unit(key.unit).criterion(key.ref)
            mapped.append({"unit": key.unit, "ref": key.ref, "text": spec.text, "via": f"{criterion.unit_code}:{criterion.ref}"})
    return mapped
