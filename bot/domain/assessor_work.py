"""What every assessor action shares: who the assessor is, and whether the work is their candidates'.

Every action checks that the assessor pressing it assesses that candidate: buttons carry ids only.
"""

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select

from bot.domain.banks import Banks
from bot.domain.candidate_work import Person
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.storage import audit
from bot.storage.ids import stored_id
from bot.storage.models import Answer, Assessor, Candidate, Enrolment, Judgment, Submission, utcnow
from bot.storage.repository import Repository


class Denied(StrEnum):
    NOT_AN_ASSESSOR = "not_an_assessor"
    NOT_YOURS = "not_yours"
    NOT_ADMIN = "not_admin"
    NOT_ALL_JUDGED = "not_all_judged"
    ALREADY_SIGNED_OFF = "already_signed_off"
    NOTHING_AWAITED = "nothing_awaited"
    NO_SUCH_CREDIT = "no_such_credit"
    DATE_IN_THE_PAST = "date_in_the_past"



class AssessorWork:
    def __init__(
        self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow, limits: Limits = DEFAULT_LIMITS
    ):
        self.repo = repo
        self.banks = banks
        self.now = now
        self.limits = limits

    def assessor(self, person: Person) -> Assessor | None:
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None and assessor.chat_id != person.chat_id:
            assessor.chat_id = person.chat_id
            self.repo.add(assessor)
        return assessor

    def _audit(self, assessor: Assessor, action: str, enrolment: Enrolment | None, details: dict) -> None:
        audit.record(self.repo.session, f"assessor:{assessor.id}", action, enrolment.id if enrolment else None, details, self.now())

    def _submissions(self, assessor: Assessor, open_only: bool):
        query = (
            select(Submission, Enrolment, Candidate)
            .join(Enrolment, col(Submission.enrolment_id) == col(Enrolment.id))
            .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
            .where(Enrolment.assessor_id == assessor.id)
            .order_by(col(Submission.declared_at), col(Submission.id))
        )
        if open_only:
            query = query.where(col(Submission.signed_off_at).is_(None))
        return self.repo.session.exec(query).all()

    def _own_submission(self, person: Person, submission_id: int):
        """(assessor, submission, enrolment, candidate) if the submission is one of the assessor's candidates'."""
        query = (
            select(Submission, Enrolment, Candidate)
            .join(Enrolment, col(Submission.enrolment_id) == col(Enrolment.id))
            .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
        )
        return self._own(person, query.where(Submission.id == submission_id))

    def _own_answer(self, person: Person, answer_id: int):
        """(assessor, answer, submission, enrolment) if the submitted answer is one of the assessor's candidates'."""
        query = (
            select(Answer, Submission, Enrolment)
            .join(Submission, col(Answer.submission_id) == col(Submission.id))
            .join(Enrolment, col(Submission.enrolment_id) == col(Enrolment.id))
        )
        return self._own(person, query.where(Answer.id == answer_id))

    def _own_enrolment(self, person: Person, enrolment_id: int) -> tuple[Assessor, Enrolment] | Denied:
        """(assessor, enrolment) if the enrolment is one of the assessor's candidates'."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if enrolment is None or enrolment.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        return assessor, enrolment

    def _viewable_enrolment(self, person: Person, enrolment_id: int) -> tuple[Assessor, Enrolment] | Denied:
        """(assessor, enrolment) if the assessor may read the enrolment's records: their own candidate's, or any in
        the centre for an admin. Judging and deciding stay with the candidate's own assessor (`_own_*`)."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if enrolment is None or (enrolment.assessor_id != assessor.id and not sees_whole_centre(assessor)):
            return Denied.NOT_YOURS
        return assessor, enrolment

    def _own(self, person: Person, query):
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        row = self.repo.session.exec(query.where(Enrolment.assessor_id == assessor.id)).first()
        return Denied.NOT_YOURS if row is None else (assessor, *row)

    def _answers(self, submission: Submission) -> list[Answer]:
        return list(self.repo.session.exec(select(Answer).where(col(Answer.submission_id) == submission.id).order_by(col(Answer.id))))

    def _judgment(self, answer: Answer) -> Judgment | None:
        return self.repo.latest_judgment(stored_id(answer))



def sees_whole_centre(assessor: Assessor) -> bool:
    """An admin may read the records of every candidate in the centre (a deployment is one centre, as its time
    zone and statements are); only the candidate's own assessor judges them and decides."""
    return assessor.role == "admin"


def asked_text(answer: Answer) -> str:
    """The question as it was put to the candidate."""
    return (answer.asked or {}).get("question") or answer.question_id
