"""The assessor's side: the review queue, judgments, follow-up questions, sign-off and the cohort view.

Every action checks that the assessor pressing it assesses that candidate: buttons carry ids only.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import select

from bot.domain.assessment import change_deadline
from bot.domain.banks import Banks
from bot.domain.coverage import ANSWERED, MET, MISSING, REFERRED, UnitCoverage, answer_ref, unit_coverage
from bot.domain.privacy import PersonalDetail, personal_details
from bot.domain.sittings import IncomingAttachment, Person, Sittings
from bot.storage import audit
from bot.storage.models import (
    Answer,
    Assessor,
    AssessorQuestion,
    Candidate,
    CreditConfirmation,
    Enrolment,
    Judgment,
    StaffInvite,
    Submission,
    utcnow,
)
from bot.storage.repository import Repository


class Denied(StrEnum):
    NOT_AN_ASSESSOR = "not_an_assessor"
    NOT_YOURS = "not_yours"
    NOT_ADMIN = "not_admin"
    NOT_ALL_JUDGED = "not_all_judged"
    ALREADY_SIGNED_OFF = "already_signed_off"
    NOTHING_AWAITED = "nothing_awaited"
    NO_SUCH_CREDIT = "no_such_credit"


@dataclass(frozen=True)
class QueueItem:
    submission_id: int
    candidate: str
    unit_code: str
    answers: int
    judged: int
    declared_at: datetime


@dataclass(frozen=True)
class AnswerToJudge:
    answer_id: int
    submission_id: int
    candidate: str
    unit_code: str
    number: int
    total: int
    ref: str  # e.g. "Q3.v1"
    method: str  # in the unit's own code
    question: str  # as it was asked
    criteria: list[str]
    look_fors: list[str]
    text: str
    probe: str | None
    follow_up: str | None
    attachments: list[str]
    questions: list[AssessorQuestion]
    judgment: Judgment | None
    privacy_flags: list[PersonalDetail]  # advice: the answer may name a person, a phone number or an e-mail


@dataclass(frozen=True)
class AllJudged:
    submission_id: int
    candidate: str
    met: int
    not_yet: int


@dataclass(frozen=True)
class Asked:
    candidate_chat_id: int
    candidate: str
    question: str
    about: str


@dataclass(frozen=True)
class SignedOff:
    candidate_chat_id: int
    candidate: str
    unit_title: str
    outcome: str  # "competent", "not_yet" or "interim"
    referred: list[tuple[str, str]]  # (question, feedback) of answers judged "not yet"
    statement: str | None = None  # the unit's assessor statement, recorded with "competent"
    still_missing: list[str] = field(default_factory=list)  # with "interim": criteria and methods still to evidence


@dataclass(frozen=True)
class UnitNotComplete:
    """The unit cannot be signed off competent yet: what is missing, and partial credit awaiting confirmation.
    The assessor may record an interim decision instead."""

    submission_id: int
    enrolment_id: int
    candidate: str
    unit_code: str
    coverage: UnitCoverage


@dataclass(frozen=True)
class CreditConfirmed:
    enrolment_id: int
    target_ref: str
    answer_ref: str
    source: str  # "unit:ref" the answer was tagged to


@dataclass(frozen=True)
class CohortRow:
    enrolment_id: int
    candidate: str
    unit_code: str
    deadline: date
    met: int
    answered: int
    missing: int
    total: int
    waiting: int  # submitted answers not yet judged


class Judging:
    def __init__(self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow):
        self.repo = repo
        self.banks = banks
        self.now = now

    def assessor(self, person: Person) -> Assessor | None:
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None and assessor.chat_id != person.chat_id:
            assessor.chat_id = person.chat_id
            self.repo.add(assessor)
        return assessor

    # the queue
    def queue(self, person: Person) -> list[QueueItem] | Denied:
        assessor = self.assessor(person)
        return Denied.NOT_AN_ASSESSOR if assessor is None else self.waiting_for(assessor)

    def waiting_for(self, assessor: Assessor) -> list[QueueItem]:
        items = []
        for submission, enrolment, candidate in self._submissions(assessor, open_only=True):
            answers = self._answers(submission)
            judged = sum(self._judgment(a) is not None for a in answers)
            items.append(QueueItem(submission.id, candidate.name, enrolment.unit_code, len(answers), judged, submission.declared_at))
        return items

    def next_to_judge(self, person: Person, submission_id: int, after_answer: int | None = None) -> AnswerToJudge | AllJudged | Denied:
        """The first answer of a submission not yet judged (or the one after `after_answer`)."""
        found = self._own_submission(person, submission_id)
        if isinstance(found, Denied):
            return found
        assessor, submission, enrolment, candidate = found
        answers = self._answers(submission)
        pending = [a for a in answers if self._judgment(a) is None]
        if after_answer is not None:
            ids = [a.id for a in answers]
            later = ids[ids.index(after_answer) + 1 :] if after_answer in ids else []
            pending = [a for a in answers if a.id in later and self._judgment(a) is None] or pending
        if not pending:
            outcomes = [self._judgment(a).outcome for a in answers]
            return AllJudged(submission.id, candidate.name, outcomes.count("met"), outcomes.count("not_yet"))
        return self._to_judge(pending[0], answers, submission, enrolment, candidate)

    def next_after_judgment(self, person: Person, answer_id: int) -> AnswerToJudge | AllJudged | Denied:
        found = self._own_answer(person, answer_id)
        if isinstance(found, Denied):
            return found
        return self.next_to_judge(person, found[2].id, after_answer=answer_id)

    def judge(
        self, person: Person, answer_id: int, outcome: str, feedback: str | None = None, feedback_attachment_id: int | None = None
    ) -> Judgment | Denied:
        found = self._own_answer(person, answer_id)
        if isinstance(found, Denied):
            return found
        assessor, answer, submission, enrolment = found
        if submission.signed_off_at is not None:
            return Denied.ALREADY_SIGNED_OFF
        judgment = self.repo.add(
            Judgment(
                answer_id=answer.id,
                assessor_id=assessor.id,
                outcome=outcome,
                feedback=feedback,
                feedback_attachment_id=feedback_attachment_id,
                judged_at=self.now(),
            )
        )
        self._audit(assessor, "judged", enrolment, {"answer": answer_ref(answer), "outcome": outcome, "feedback": feedback})
        assessor.awaiting = None
        self.repo.add(assessor)
        return judgment

    def await_text(self, person: Person, answer_id: int, kind: str) -> AnswerToJudge | Denied:
        """Make the assessor's next message the feedback ("feedback") or a follow-up question ("question")."""
        found = self._own_answer(person, answer_id)
        if isinstance(found, Denied):
            return found
        assessor, answer, submission, enrolment = found
        if submission.signed_off_at is not None:
            return Denied.ALREADY_SIGNED_OFF
        assessor.awaiting = {"kind": kind, "answer_id": answer.id}
        self.repo.add(assessor)
        candidate = self.repo.session.get(Candidate, enrolment.candidate_id)
        return self._to_judge(answer, self._answers(submission), submission, enrolment, candidate)

    def awaited(self, person: Person) -> dict | None:
        assessor = self.assessor(person)
        return assessor.awaiting if assessor else None

    def take_text(
        self, person: Person, text: str | None, voice: IncomingAttachment | None = None
    ) -> tuple[str, Judgment | Asked | Denied]:
        """The assessor's message (typed, or a voice note for feedback), as what they were asked for."""
        assessor = self.assessor(person)
        if assessor is None or not assessor.awaiting:
            return "none", Denied.NOTHING_AWAITED
        kind, answer_id = assessor.awaiting["kind"], assessor.awaiting["answer_id"]
        if kind == "feedback":
            attachment = Sittings(self.repo, self.banks, self.now).keep_attachment(voice) if voice else None
            feedback = text or ("[voice note]" if attachment else None)
            return kind, self.judge(person, answer_id, "not_yet", feedback, attachment.id if attachment else None)
        return kind, self.ask(person, answer_id, text or "")

    def ask(self, person: Person, answer_id: int, text: str) -> Asked | Denied:
        found = self._own_answer(person, answer_id)
        if isinstance(found, Denied):
            return found
        assessor, answer, submission, enrolment = found
        question = self.repo.add(AssessorQuestion(answer_id=answer.id, assessor_id=assessor.id, text=text, asked_at=self.now()))
        candidate = self.repo.session.get(Candidate, enrolment.candidate_id)
        candidate.awaited_question_id = question.id
        self.repo.add(candidate)
        assessor.awaiting = None
        self.repo.add(assessor)
        self._audit(assessor, "asked", enrolment, {"answer": answer_ref(answer), "question": text})
        bank_question = _asked_text(answer)
        return Asked(candidate.chat_id, candidate.name, text, bank_question)

    def sign_off(self, person: Person, submission_id: int, interim: bool = False) -> SignedOff | UnitNotComplete | Denied:
        """Record the assessor's decision on the unit once every answer of the submission is judged.

        "competent" only when every criterion of the unit is met (directly or by credited mapped evidence)
        and every method the unit makes mandatory is evidenced; "not_yet" when an answer was referred back;
        otherwise the unit is not complete, and only an interim decision (`interim=True`) can be recorded.
        """
        found = self._own_submission(person, submission_id)
        if isinstance(found, Denied):
            return found
        assessor, submission, enrolment, candidate = found
        if submission.signed_off_at is not None:
            return Denied.ALREADY_SIGNED_OFF
        answers = self._answers(submission)
        judgments = [self._judgment(a) for a in answers]
        if any(j is None for j in judgments):
            return Denied.NOT_ALL_JUDGED
        referred = [(_asked_text(a), j.feedback or "") for a, j in zip(answers, judgments) if j.outcome == "not_yet"]
        coverage = unit_coverage(self.repo.session, self.banks, enrolment)
        bank = self.banks.unit(enrolment.unit_code)
        if referred:
            outcome, status = "not_yet", "referred"
        elif coverage.complete:
            outcome, status = "competent", "signed_off"
        elif interim:
            outcome, status = "interim", "active"  # the rest of the unit is still to come
        else:
            return UnitNotComplete(submission.id, enrolment.id, candidate.name, enrolment.unit_code, coverage)
        statement = bank.unit.declarations.assessor
        submission.signed_off_at, submission.signed_off_by_id = self.now(), assessor.id
        submission.outcome = outcome
        submission.assessor_statement = statement.text if statement and outcome == "competent" else None
        self.repo.add(submission)
        enrolment.status = status
        self.repo.add(enrolment)
        still_missing = _missing_lines(coverage) if outcome == "interim" else []
        self._audit(assessor, "signed_off", enrolment,
                    {"answers": [answer_ref(a) for a in answers], "outcome": outcome, "still_missing": still_missing})
        return SignedOff(candidate.chat_id, candidate.name, bank.unit.title, outcome, referred,
                         submission.assessor_statement, still_missing)

    def confirm_credit(self, person: Person, enrolment_id: int, answer_id: int, target_ref: str) -> CreditConfirmed | Denied:
        """Confirm that an answer from another unit evidences `target_ref` through a partial (near-match) group."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if enrolment is None or enrolment.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        row = unit_coverage(self.repo.session, self.banks, enrolment).criterion(target_ref)
        waiting = next((item for item in (row.awaiting_confirmation if row else []) if item.answer_id == answer_id), None)
        if waiting is None:
            return Denied.NO_SUCH_CREDIT
        source_unit, _, source_ref = waiting.via.partition(":")
        self.repo.add(
            CreditConfirmation(
                enrolment_id=enrolment.id,
                target_ref=target_ref,
                answer_id=answer_id,
                source_unit=source_unit,
                source_ref=source_ref,
                mapping_group=waiting.group,
                assessor_id=assessor.id,
                confirmed_at=self.now(),
            )
        )
        self._audit(assessor, "confirmed_credit", enrolment,
                    {"criterion": target_ref, "answer": f"{waiting.unit_code} {waiting.ref}", "via": waiting.via,
                     "group": waiting.group})
        return CreditConfirmed(enrolment.id, target_ref, waiting.ref, waiting.via)

    # the cohort
    def cohort(self, person: Person) -> list[CohortRow] | Denied:
        assessor = self.assessor(person)
        return Denied.NOT_AN_ASSESSOR if assessor is None else self.cohort_of(assessor)

    def cohort_of(self, assessor: Assessor) -> list[CohortRow]:
        rows = []
        enrolments = self.repo.session.exec(
            select(Enrolment, Candidate)
            .join(Candidate, Enrolment.candidate_id == Candidate.id)
            .where(Enrolment.assessor_id == assessor.id)
            .order_by(Enrolment.deadline, Candidate.name)
        ).all()
        for enrolment, candidate in enrolments:
            coverage = unit_coverage(self.repo.session, self.banks, enrolment)
            waiting = sum(
                self._judgment(a) is None
                for s in self.repo.submissions(enrolment.id)
                if s.signed_off_at is None
                for a in self._answers(s)
            )
            rows.append(
                CohortRow(
                    enrolment.id,
                    candidate.name,
                    enrolment.unit_code,
                    enrolment.deadline,
                    met=coverage.count(MET),
                    answered=coverage.count(ANSWERED) + coverage.count(REFERRED),
                    missing=coverage.count(MISSING),
                    total=len(coverage.criteria),
                    waiting=waiting,
                )
            )
        return rows

    def set_deadline(self, person: Person, enrolment_id: int, deadline: date) -> Enrolment | Denied:
        """Move an enrolment's deadline; reminders follow it, since they are computed from it."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if enrolment is None or enrolment.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        return change_deadline(self.repo, enrolment, deadline, f"assessor:{assessor.id}", self.now())

    def request_export(self, person: Person, enrolment_id: int) -> tuple[int, str] | Denied:
        """(candidate's Telegram id, unit code) of an enrolment the assessor may export; recorded in the audit trail."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if enrolment is None or enrolment.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        candidate = self.repo.session.get(Candidate, enrolment.candidate_id)
        self._audit(assessor, "exported", enrolment, {"formats": ["pdf"], "to": "telegram"})
        return candidate.telegram_user_id, enrolment.unit_code

    # staff
    def invite_assessor(self, person: Person) -> str | Denied:
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        if assessor.role != "admin":
            return Denied.NOT_ADMIN
        invite = self.repo.add(StaffInvite(code=secrets.token_urlsafe(12), created_by_id=assessor.id, created_at=self.now()))
        self._audit(assessor, "invited_assessor", None, {"invite_id": invite.id})
        return invite.code

    # helpers
    def _audit(self, assessor: Assessor, action: str, enrolment: Enrolment | None, details: dict) -> None:
        audit.record(self.repo.session, f"assessor:{assessor.id}", action, enrolment.id if enrolment else None, details, self.now())

    def _submissions(self, assessor: Assessor, open_only: bool):
        query = (
            select(Submission, Enrolment, Candidate)
            .join(Enrolment, Submission.enrolment_id == Enrolment.id)
            .join(Candidate, Enrolment.candidate_id == Candidate.id)
            .where(Enrolment.assessor_id == assessor.id)
            .order_by(Submission.declared_at, Submission.id)
        )
        if open_only:
            query = query.where(Submission.signed_off_at.is_(None))
        return self.repo.session.exec(query).all()

    def _own_submission(self, person: Person, submission_id: int):
        """(assessor, submission, enrolment, candidate) if the submission is one of the assessor's candidates'."""
        query = (
            select(Submission, Enrolment, Candidate)
            .join(Enrolment, Submission.enrolment_id == Enrolment.id)
            .join(Candidate, Enrolment.candidate_id == Candidate.id)
        )
        return self._own(person, query.where(Submission.id == submission_id))

    def _own_answer(self, person: Person, answer_id: int):
        """(assessor, answer, submission, enrolment) if the submitted answer is one of the assessor's candidates'."""
        query = (
            select(Answer, Submission, Enrolment)
            .join(Submission, Answer.submission_id == Submission.id)
            .join(Enrolment, Submission.enrolment_id == Enrolment.id)
        )
        return self._own(person, query.where(Answer.id == answer_id))

    def _own(self, person: Person, query):
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        row = self.repo.session.exec(query.where(Enrolment.assessor_id == assessor.id)).first()
        return Denied.NOT_YOURS if row is None else (assessor, *row)

    def _answers(self, submission: Submission) -> list[Answer]:
        return list(self.repo.session.exec(select(Answer).where(Answer.submission_id == submission.id).order_by(Answer.id)))

    def _judgment(self, answer: Answer) -> Judgment | None:
        return self.repo.latest_judgment(answer.id)

    def _to_judge(self, answer: Answer, answers: list[Answer], submission, enrolment, candidate) -> AnswerToJudge:
        asked = answer.asked or {}
        parts = self.repo.parts(answer.id)
        attachments = []
        for part in parts:
            if part.attachment_id:
                file = self.repo.attachment(part.attachment_id)
                attachments.append(f"{file.kind} {file.duration or ''}s sha256:{(file.sha256 or 'pending')[:16]}…")
        questions = list(
            self.repo.session.exec(select(AssessorQuestion).where(AssessorQuestion.answer_id == answer.id).order_by(AssessorQuestion.id))
        )
        text = " ".join(p.text for p in parts if p.text and not p.in_follow_up)
        follow_up = " ".join(p.text for p in parts if p.text and p.in_follow_up) or None
        return AnswerToJudge(
            answer_id=answer.id,
            submission_id=submission.id,
            candidate=candidate.name,
            unit_code=enrolment.unit_code,
            number=[a.id for a in answers].index(answer.id) + 1,
            total=len(answers),
            ref=answer_ref(answer),
            method=asked.get("method_code", ""),
            question=_asked_text(answer),
            criteria=[c["ref"] for c in asked.get("criteria", [])],
            look_fors=asked.get("look_fors", []),
            text=text,
            probe=answer.probe,
            follow_up=follow_up,
            attachments=attachments,
            questions=questions,
            judgment=self._judgment(answer),
            privacy_flags=personal_details(" ".join(filter(None, [text, follow_up]))),
        )


def _asked_text(answer: Answer) -> str:
    """The question as it was put to the candidate."""
    return (answer.asked or {}).get("question") or answer.question_id


def _missing_lines(coverage: UnitCoverage) -> list[str]:
    return [f"{c.ref} ({c.status})" for c in coverage.missing] + [m.code for m in coverage.methods_missing]
