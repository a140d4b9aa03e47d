"""Queries the domain needs, behind one object per transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.storage.models import (
    Answer,
    AnswerCriterion,
    Assessor,
    Candidate,
    Criterion,
    Enrolment,
    Invite,
    QuestionRun,
    Unit,
)


class Repository:
    def __init__(self, session: Session):
        self.session = session

    def add(self, row):
        self.session.add(row)
        self.session.flush()
        return row

    # units and criteria
    def unit(self, code: str) -> Unit | None:
        return self.session.get(Unit, code)

    def criteria(self, unit_code: str) -> dict[str, Criterion]:
        rows = self.session.exec(select(Criterion).where(Criterion.unit_code == unit_code))
        return {row.ref: row for row in rows}

    # people
    def assessor_by_telegram_id(self, telegram_user_id: int) -> Assessor | None:
        return self.session.exec(select(Assessor).where(Assessor.telegram_user_id == telegram_user_id)).first()

    def candidate_by_telegram_id(self, telegram_user_id: int) -> Candidate | None:
        return self.session.exec(select(Candidate).where(Candidate.telegram_user_id == telegram_user_id)).first()

    def candidates(self) -> Sequence[Candidate]:
        return self.session.exec(select(Candidate).order_by(Candidate.id)).all()

    # invites and enrolments
    def invite_by_code(self, code: str) -> Invite | None:
        return self.session.exec(select(Invite).where(Invite.code == code)).first()

    def claim_invite(self, invite: Invite, candidate_id: int, when: datetime) -> bool:
        """Mark an invite used, only if nobody has used it yet (safe against a concurrent claim)."""
        claimed = self.session.execute(
            update(Invite)
            .where(Invite.id == invite.id, Invite.used_at.is_(None))
            .values(used_at=when, used_by_candidate_id=candidate_id)
        )
        self.session.expire(invite)
        return claimed.rowcount == 1

    def enrolment(self, candidate_id: int, unit_code: str) -> Enrolment | None:
        return self.session.exec(
            select(Enrolment).where(Enrolment.candidate_id == candidate_id, Enrolment.unit_code == unit_code)
        ).first()

    def enrolment_by_id(self, enrolment_id: int) -> Enrolment | None:
        return self.session.get(Enrolment, enrolment_id)

    def enrolments(self, candidate_id: int) -> Sequence[Enrolment]:
        return self.session.exec(
            select(Enrolment).where(Enrolment.candidate_id == candidate_id).order_by(Enrolment.id)
        ).all()

    # question runs and answers
    def open_run(self, candidate_id: int) -> tuple[QuestionRun, Enrolment] | None:
        """The candidate's question run that is waiting for an answer, most recently active first."""
        return self.session.exec(
            select(QuestionRun, Enrolment)
            .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
            .where(Enrolment.candidate_id == candidate_id, QuestionRun.current_question_id.is_not(None))
            .order_by(QuestionRun.updated_at.desc())
        ).first()

    def runs(self, enrolment_id: int) -> Sequence[QuestionRun]:
        return self.session.exec(
            select(QuestionRun).where(QuestionRun.enrolment_id == enrolment_id).order_by(QuestionRun.id)
        ).all()

    def answered_question_ids(self, run_id: int) -> set[str]:
        return set(self.session.exec(select(Answer.question_id).where(Answer.run_id == run_id).distinct()))

    def next_version(self, run_id: int, question_id: str) -> int:
        latest = self.session.exec(
            select(func.max(Answer.version)).where(Answer.run_id == run_id, Answer.question_id == question_id)
        ).one()
        return (latest or 0) + 1

    def add_answer(self, answer: Answer, criteria: Iterable[Criterion]) -> Answer:
        self.add(answer)
        for criterion in criteria:
            self.session.add(AnswerCriterion(answer_id=answer.id, criterion_id=criterion.id))
        self.session.flush()
        return answer

    def answers_with_criteria(self, run_id: int) -> list[tuple[Answer, list[Criterion]]]:
        answers = self.session.exec(select(Answer).where(Answer.run_id == run_id).order_by(Answer.id)).all()
        tags: dict[int, list[Criterion]] = {answer.id: [] for answer in answers}
        if answers:
            rows = self.session.exec(
                select(AnswerCriterion.answer_id, Criterion)
                .join(Criterion, AnswerCriterion.criterion_id == Criterion.id)
                .where(AnswerCriterion.answer_id.in_(tags.keys()))
                .order_by(Criterion.id)
            )
            for answer_id, criterion in rows:
                tags[answer_id].append(criterion)
        return [(answer, tags[answer.id]) for answer in answers]
