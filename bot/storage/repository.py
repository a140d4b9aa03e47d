"""Queries the domain needs, behind one object per transaction."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, bindparam, func, update
from sqlmodel import Session, col, select

from bot.storage.ids import stored_id
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

_Person = TypeVar("_Person", Assessor, Candidate)

# The queries made for nearly every update are built once, with their values bound when run: building a query
# anew costs about as much again as running it.
_PERSON_BY_TELEGRAM_ID = {
    model: select(model).where(model.telegram_user_id == bindparam("telegram_user_id")) for model in (Assessor, Candidate)
}
_RUN_WITH_ENROLMENT = (
    select(QuestionRun, Enrolment)
    .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
    .where(QuestionRun.id == bindparam("run_id"))
)
_LATEST_ANSWER = (
    select(Answer)
    .where(Answer.run_id == bindparam("run_id"), Answer.question_id == bindparam("question_id"))
    .order_by(col(Answer.version).desc())
    .limit(1)
)
_PARTS = select(AnswerPart).where(col(AnswerPart.answer_id) == bindparam("answer_id")).order_by(col(AnswerPart.seq))


class Lookups:
    """Rows that never change once stored, read once per process for one database: each unit's criteria and its
    bank versions (evidence cites them, so they are only ever added, never deleted or reworded).

    They are read in a session of their own, so only committed rows are kept, and handed out detached: their
    fields are for reading (ids, refs, words), never to be added to a session."""

    def __init__(self, engine: Engine):
        self.engine = engine
        # An in-memory SQLite database has one connection: a second session on it would end the caller's
        # transaction. Nothing is kept for it; every lookup is a query, as without Lookups.
        self.enabled = not (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"))
        self._criteria: dict[str, dict[str, Criterion]] = {}
        self._versions: dict[tuple[str, str], BankVersion] = {}

    def criteria(self, unit_code: str) -> dict[str, Criterion] | None:
        """The unit's stored criteria by ref; None if none are stored yet (asked again next time)."""
        found = self._criteria.get(unit_code)
        if found is None and self.enabled:
            with Session(self.engine, expire_on_commit=False) as session:
                found = Repository(session).criteria(unit_code)
            if found:
                self._criteria[unit_code] = found
        return dict(found) if found else None

    def bank_version(self, unit_code: str, sha256: str) -> BankVersion | None:
        found = self._versions.get((unit_code, sha256))
        if found is None and self.enabled:
            with Session(self.engine, expire_on_commit=False) as session:
                found = Repository(session).bank_version(unit_code, sha256)
            if found is not None:
                self._versions[unit_code, sha256] = found
        return found


class Repository:
    def __init__(self, session: Session, lookups: Lookups | None = None):
        self.session = session
        self.lookups = lookups  # criteria and bank versions kept across transactions, when given
        # People by Telegram id, read once a transaction, found or not (every incoming message asks whether its
        # sender is an assessor several times); a person added through `add` is known from then on.
        self._assessors: dict[int, Assessor | None] = {}
        self._candidates: dict[int, Candidate | None] = {}

    def add(self, row):
        self.session.add(row)
        self.session.flush()
        if isinstance(row, Assessor):
            self._assessors[row.telegram_user_id] = row
        elif isinstance(row, Candidate):
            self._candidates[row.telegram_user_id] = row
        return row

    # units and criteria
    def unit(self, code: str) -> Unit | None:
        return self.session.get(Unit, code)

    def criteria(self, unit_code: str) -> dict[str, Criterion]:
        kept = self.lookups.criteria(unit_code) if self.lookups else None
        if kept is not None:
            return kept
        rows = self.session.exec(select(Criterion).where(Criterion.unit_code == unit_code))
        return {row.ref: row for row in rows}

    def bank_version(self, unit_code: str, sha256: str) -> BankVersion | None:
        kept = self.lookups.bank_version(unit_code, sha256) if self.lookups else None
        if kept is not None:
            return kept
        return self.session.exec(
            select(BankVersion).where(BankVersion.unit_code == unit_code, BankVersion.sha256 == sha256)
        ).first()

    # people
    def assessor_by_telegram_id(self, telegram_user_id: int) -> Assessor | None:
        return self._person(Assessor, self._assessors, telegram_user_id)

    def candidate_by_telegram_id(self, telegram_user_id: int) -> Candidate | None:
        return self._person(Candidate, self._candidates, telegram_user_id)

    def _person(self, model: type[_Person], found_before: dict[int, _Person | None], telegram_user_id: int) -> _Person | None:
        """A person by Telegram id, read once a transaction (a row found stays the same object in the session)."""
        if telegram_user_id not in found_before:
            found_before[telegram_user_id] = cast(
                "_Person | None",
                self.session.exec(_PERSON_BY_TELEGRAM_ID[model], params={"telegram_user_id": telegram_user_id}).first(),
            )
        return found_before[telegram_user_id]

    def caseload(self, assessor_id: int) -> Sequence[tuple[Enrolment, Candidate]]:
        """The assessor's enrolments not yet signed off, with their candidates, by name then unit."""
        return self.session.exec(
            select(Enrolment, Candidate)
            .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
            .where(Enrolment.assessor_id == assessor_id, col(Enrolment.status) != "signed_off")
            .order_by(col(Candidate.name), col(Enrolment.unit_code))
        ).all()

    def candidates(self) -> Sequence[Candidate]:
        return self.session.exec(select(Candidate).order_by(col(Candidate.id))).all()

    # invites and enrolments
    def invite_by_code(self, code: str) -> Invite | None:
        return self.session.exec(select(Invite).where(Invite.code == code)).first()

    def claim_invite(self, invite: Invite | StaffInvite, when: datetime) -> bool:
        """Mark an invite used in one conditional UPDATE, only while it is unused, unrevoked and unexpired: of
        two people claiming one code at once, exactly one does. The invite is read afresh after."""
        table = type(invite)
        claimed = self.session.execute(
            update(table)
            .where(
                col(table.id) == invite.id,
                col(table.used_at).is_(None),
                col(table.revoked_at).is_(None),
                col(table.expires_at) > when,
            )
            .values(used_at=when)
        )
        self.session.expire(invite)
        return cast("CursorResult[Any]", claimed).rowcount == 1

    def revoke_invite(self, invite: Invite | StaffInvite, when: datetime) -> bool:
        """Revoke an invite in one conditional UPDATE, only while it is unused and unrevoked; read afresh after."""
        table = type(invite)
        revoked = self.session.execute(
            update(table)
            .where(col(table.id) == invite.id, col(table.used_at).is_(None), col(table.revoked_at).is_(None))
            .values(revoked_at=when)
        )
        self.session.refresh(invite)
        return cast("CursorResult[Any]", revoked).rowcount == 1

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
            select(Enrolment).where(col(Enrolment.candidate_id) == candidate_id).order_by(col(Enrolment.id))
        ).all()

    # question runs and answers
    def submissions(self, enrolment_id: int) -> Sequence[Submission]:
        return self.session.exec(
            select(Submission).where(col(Submission.enrolment_id) == enrolment_id).order_by(col(Submission.id))
        ).all()

    def open_run(self, candidate_id: int) -> tuple[QuestionRun, Enrolment] | None:
        """The candidate's most recently active question run that still has a question waiting."""
        return self.session.exec(
            select(QuestionRun, Enrolment)
            .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
            .where(col(Enrolment.candidate_id) == candidate_id, col(QuestionRun.current_question_id).is_not(None))
            .order_by(col(QuestionRun.updated_at).desc(), col(QuestionRun.id).desc())
        ).first()

    def run_with_enrolment(self, run_id: int) -> tuple[QuestionRun, Enrolment] | None:
        return self.session.exec(_RUN_WITH_ENROLMENT, params={"run_id": run_id}).first()

    def runs(self, enrolment_id: int) -> Sequence[QuestionRun]:
        return self.session.exec(
            select(QuestionRun).where(col(QuestionRun.enrolment_id) == enrolment_id).order_by(col(QuestionRun.id))
        ).all()

    def next_version(self, run_id: int, question_id: str) -> int:
        latest = self.session.exec(
            select(func.max(Answer.version)).where(Answer.run_id == run_id, Answer.question_id == question_id)
        ).one()
        return (latest or 0) + 1

    def latest_answer(self, run_id: int, question_id: str) -> Answer | None:
        return self.session.exec(_LATEST_ANSWER, params={"run_id": run_id, "question_id": question_id}).first()

    def latest_answers(self, run_id: int) -> list[Answer]:
        """The current version of each question's answer in a run."""
        latest: dict[str, Answer] = {}
        for answer in self.session.exec(select(Answer).where(col(Answer.run_id) == run_id).order_by(col(Answer.version))):
            latest[answer.question_id] = answer
        return list(latest.values())

    def all_answers(self, run_id: int) -> Sequence[Answer]:
        return self.session.exec(
            select(Answer).where(col(Answer.run_id) == run_id).order_by(col(Answer.question_id), col(Answer.version))
        ).all()

    def refs_in_use(self, enrolment_id: int) -> dict[str, str]:
        """The record references the enrolment's answers were given under, with the question each names."""
        rows = self.session.exec(
            select(Answer.asked, Answer.question_id)
            .join(QuestionRun, col(Answer.run_id) == col(QuestionRun.id))
            .where(QuestionRun.enrolment_id == enrolment_id)
        ).all()
        return {asked["ref"]: question_id for asked, question_id in rows if asked}

    def add_answer(self, answer: Answer, criteria: Iterable[Criterion]) -> Answer:
        self.add(answer)
        for criterion in criteria:
            self.session.add(AnswerCriterion(answer_id=stored_id(answer), criterion_id=stored_id(criterion)))
        self.session.flush()
        return answer

    def answer_criteria(self, answer_id: int) -> list[Criterion]:
        return list(
            self.session.exec(
                select(Criterion)
                .join(AnswerCriterion, col(AnswerCriterion.criterion_id) == col(Criterion.id))
                .where(AnswerCriterion.answer_id == answer_id)
                .order_by(col(Criterion.id))
            )
        )

    def latest_judgment(self, answer_id: int) -> Judgment | None:
        return self.session.exec(
            select(Judgment).where(col(Judgment.answer_id) == answer_id).order_by(col(Judgment.id).desc())
        ).first()

    def parts(self, answer_id: int) -> list[AnswerPart]:
        return list(self.session.exec(_PARTS, params={"answer_id": answer_id}))

    def attachment(self, attachment_id: int) -> Attachment | None:
        return self.session.get(Attachment, attachment_id)

    def enrolment_id_of_answer(self, answer_id: int) -> int | None:
        return self.session.exec(
            select(QuestionRun.enrolment_id).join(Answer, col(Answer.run_id) == col(QuestionRun.id)).where(Answer.id == answer_id)
        ).first()

    def answer_of_candidate(self, candidate_id: int, answer_id: int) -> tuple[Answer, QuestionRun, Enrolment] | None:
        return self.session.exec(
            select(Answer, QuestionRun, Enrolment)
            .join(QuestionRun, col(Answer.run_id) == col(QuestionRun.id))
            .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
            .where(Answer.id == answer_id, Enrolment.candidate_id == candidate_id)
        ).first()

    def answer_with_message(
        self, candidate_id: int, chat_id: int, message_id: int
    ) -> tuple[Answer, QuestionRun, Enrolment] | None:
        """The newest answer version holding this message of the candidate's."""
        return self.session.exec(
            select(Answer, QuestionRun, Enrolment)
            .join(AnswerPart, col(AnswerPart.answer_id) == col(Answer.id))
            .join(QuestionRun, col(Answer.run_id) == col(QuestionRun.id))
            .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
            .where(
                Enrolment.candidate_id == candidate_id,
                AnswerPart.chat_id == chat_id,
                AnswerPart.message_id == message_id,
            )
            .order_by(col(Answer.version).desc())
        ).first()
