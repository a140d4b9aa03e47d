"""Queries the domain needs, behind one object per transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.storage.models import (
    Answer,
    AnswerCriterion,
    AnswerPart,
    Assessor,
    Attachment,
    BankVersion,
    Candidate,
    Criterion,
    Enrolment,
    Invite,
    Judgment,
    QuestionRun,
    StaffInvite,
    Submission,
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

    def bank_version(self, unit_code: str, sha256: str) -> BankVersion | None:
        return self.session.exec(
            select(BankVersion).where(BankVersion.unit_code == unit_code, BankVersion.sha256 == sha256)
        ).first()

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

    def staff_invite_by_code(self, code: str) -> StaffInvite | None:
        return self.session.exec(select(StaffInvite).where(StaffInvite.code == code)).first()

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
    def submissions(self, enrolment_id: int) -> Sequence[Submission]:
        return self.session.exec(
            select(Submission).where(Submission.enrolment_id == enrolment_id).order_by(Submission.id)
        ).all()

    def open_run(self, candidate_id: int) -> tuple[QuestionRun, Enrolment] | None:
        """The candidate's most recently active question run that still has a question waiting."""
        return self.session.exec(
            select(QuestionRun, Enrolment)
            .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
            .where(Enrolment.candidate_id == candidate_id, QuestionRun.current_question_id.is_not(None))
            .order_by(QuestionRun.updated_at.desc(), QuestionRun.id.desc())
        ).first()

    def run_with_enrolment(self, run_id: int) -> tuple[QuestionRun, Enrolment] | None:
        return self.session.exec(
            select(QuestionRun, Enrolment)
            .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
            .where(QuestionRun.id == run_id)
        ).first()

    def runs(self, enrolment_id: int) -> Sequence[QuestionRun]:
        return self.session.exec(
            select(QuestionRun).where(QuestionRun.enrolment_id == enrolment_id).order_by(QuestionRun.id)
        ).all()

    def next_version(self, run_id: int, question_id: str) -> int:
        latest = self.session.exec(
            select(func.max(Answer.version)).where(Answer.run_id == run_id, Answer.question_id == question_id)
        ).one()
        return (latest or 0) + 1

    def latest_answer(self, run_id: int, question_id: str) -> Answer | None:
        return self.session.exec(
            select(Answer)
            .where(Answer.run_id == run_id, Answer.question_id == question_id)
            .order_by(Answer.version.desc())
        ).first()

    def latest_answers(self, run_id: int) -> list[Answer]:
        """The current version of each question's answer in a run."""
        latest: dict[str, Answer] = {}
        for answer in self.session.exec(select(Answer).where(Answer.run_id == run_id).order_by(Answer.version)):
            latest[answer.question_id] = answer
        return list(latest.values())

    def all_answers(self, run_id: int) -> Sequence[Answer]:
        return self.session.exec(
            select(Answer).where(Answer.run_id == run_id).order_by(Answer.question_id, Answer.version)
        ).all()

    def refs_in_use(self, enrolment_id: int) -> dict[str, str]:
        """The record references the enrolment's answers were given under, with the question each names."""
        rows = self.session.exec(
            select(Answer.asked, Answer.question_id)
            .join(QuestionRun, Answer.run_id == QuestionRun.id)
            .where(QuestionRun.enrolment_id == enrolment_id)
        ).all()
        return {asked["ref"]: question_id for asked, question_id in rows if asked}

    def add_answer(self, answer: Answer, criteria: Iterable[Criterion]) -> Answer:
        self.add(answer)
        for criterion in criteria:
            self.session.add(AnswerCriterion(answer_id=answer.id, criterion_id=criterion.id))
        self.session.flush()
        return answer

    def answer_criteria(self, answer_id: int) -> list[Criterion]:
        return list(
            self.session.exec(
                select(Criterion)
                .join(AnswerCriterion, AnswerCriterion.criterion_id == Criterion.id)
                .where(AnswerCriterion.answer_id == answer_id)
                .order_by(Criterion.id)
            )
        )

    def latest_judgment(self, answer_id: int) -> Judgment | None:
        return self.session.exec(
            select(Judgment).where(Judgment.answer_id == answer_id).order_by(Judgment.id.desc())
        ).first()

    def parts(self, answer_id: int) -> list[AnswerPart]:
        return list(self.session.exec(select(AnswerPart).where(AnswerPart.answer_id == answer_id).order_by(AnswerPart.seq)))

    def attachment(self, attachment_id: int) -> Attachment | None:
        return self.session.get(Attachment, attachment_id)

    def answer_of_candidate(self, candidate_id: int, answer_id: int) -> tuple[Answer, QuestionRun, Enrolment] | None:
        return self.session.exec(
            select(Answer, QuestionRun, Enrolment)
            .join(QuestionRun, Answer.run_id == QuestionRun.id)
            .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
            .where(Answer.id == answer_id, Enrolment.candidate_id == candidate_id)
        ).first()

    def answer_with_message(
        self, candidate_id: int, chat_id: int, message_id: int
    ) -> tuple[Answer, QuestionRun, Enrolment] | None:
        """The newest answer version holding this message of the candidate's."""
        return self.session.exec(
            select(Answer, QuestionRun, Enrolment)
            .join(AnswerPart, AnswerPart.answer_id == Answer.id)
            .join(QuestionRun, Answer.run_id == QuestionRun.id)
            .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
            .where(
                Enrolment.candidate_id == candidate_id,
                AnswerPart.chat_id == chat_id,
                AnswerPart.message_id == message_id,
            )
            .order_by(Answer.version.desc())
        ).first()
