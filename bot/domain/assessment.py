"""Enrolment by invite, and question runs: asking the next question and keeping every answer."""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain.banks import Banks, Question, QuestionSet
from bot.storage.models import Answer, Assessor, Candidate, Enrolment, Invite, QuestionRun, utcnow
from bot.storage.repository import Repository

INVITE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16}$")


class DomainError(Exception):
    """A request the domain refuses; the message is fit for the person who asked."""


@dataclass(frozen=True)
class Person:
    """Who is talking to nvqbot, as the chat platform identifies them."""

    user_id: int
    chat_id: int
    name: str


@dataclass(frozen=True)
class Prompt:
    """A question (or PD part) to put to the candidate, with where they are in its set."""

    unit_code: str
    unit_title: str
    set_title: str
    set_kind: str  # "knowledge" or "pd"
    number: int
    total: int
    question: Question


class InviteProblem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    USED = "used"
    ALREADY_ENROLLED = "already_enrolled"


@dataclass(frozen=True)
class Enrolled:
    unit_title: str
    deadline: date
    prompt: Prompt


@dataclass(frozen=True)
class InviteRefused:
    problem: InviteProblem
    prompt: Prompt | None = None  # where an already-enrolled candidate can carry on


@dataclass(frozen=True)
class AnswerSaved:
    next_prompt: Prompt | None  # the next question here, in the next set, or in another open sitting
    finished_set: str | None  # the title of the set this answer completed
    unit_title: str
    pd_cases_left: int  # PD case types of this unit not yet started


@dataclass(frozen=True)
class PdChoice:
    enrolment_id: int
    unit_code: str
    case_id: str
    case_type: str
    state: str  # "new", "in_progress" or "done"


class PdRefusal(StrEnum):
    NOT_ENROLLED = "not_enrolled"
    UNKNOWN_CASE = "unknown_case"
    ALREADY_DONE = "already_done"


class Stranger(StrEnum):
    """Why a message could not be taken as an answer."""

    NOT_ENROLLED = "not_enrolled"
    ASSESSOR = "assessor"
    NOTHING_OPEN = "nothing_open"


@dataclass(frozen=True)
class IncomingAnswer:
    text: str
    chat_id: int
    message_id: int
    update_id: int
    sent_at: datetime


class Assessment:
    """One transaction's view of the assessment domain."""

    def __init__(self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow):
        self.repo = repo
        self.banks = banks
        self.now = now

    # assessors and invites (called from the CLI)
    def add_assessor(self, telegram_user_id: int, name: str) -> Assessor:
        if self.repo.assessor_by_telegram_id(telegram_user_id):
            raise DomainError(f"an assessor with Telegram id {telegram_user_id} already exists")
        return self.repo.add(Assessor(telegram_user_id=telegram_user_id, name=name.strip()))

    def create_invite(self, unit_code: str, assessor_telegram_id: int, deadline: date) -> Invite:
        if self.banks.unit(unit_code) is None:
            known = ", ".join(sorted(self.banks.units))
            raise DomainError(f"no unit {unit_code!r} in the question banks (known: {known})")
        assessor = self.repo.assessor_by_telegram_id(assessor_telegram_id)
        if assessor is None:
            raise DomainError(f"no assessor with Telegram id {assessor_telegram_id}; add one with 'nvqbot assessor add'")
        if deadline < self.now().date():
            raise DomainError(f"the deadline {deadline.isoformat()} is in the past")
        code = secrets.token_urlsafe(12)  # 16 URL-safe characters, fit for a t.me deep link
        return self.repo.add(Invite(code=code, unit_code=unit_code, assessor_id=assessor.id, deadline=deadline))

    # the candidate's side
    def redeem_invite(self, person: Person, code: str) -> Enrolled | InviteRefused:
        if not INVITE_CODE_PATTERN.match(code):
            return InviteRefused(InviteProblem.MALFORMED)
        invite = self.repo.invite_by_code(code)
        if invite is None:
            return InviteRefused(InviteProblem.UNKNOWN)
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate and (enrolment := self.repo.enrolment(candidate.id, invite.unit_code)):
            return InviteRefused(InviteProblem.ALREADY_ENROLLED, self._current_prompt(enrolment))
        if invite.used_at is not None:
            return InviteRefused(InviteProblem.USED)
        candidate = candidate or self.repo.add(
            Candidate(telegram_user_id=person.user_id, chat_id=person.chat_id, name=person.name)
        )
        if not self.repo.claim_invite(invite, candidate.id, self.now()):
            return InviteRefused(InviteProblem.USED)
        enrolment = self.repo.add(
            Enrolment(
                candidate_id=candidate.id,
                unit_code=invite.unit_code,
                assessor_id=invite.assessor_id,
                deadline=invite.deadline,
            )
        )
        run = self._start_run(enrolment, self.banks.unit(invite.unit_code).knowledge_sets[0])
        return Enrolled(
            unit_title=self.banks.unit(invite.unit_code).unit.title,
            deadline=invite.deadline,
            prompt=self._prompt(enrolment, run),
        )

    def record_answer(self, person: Person, incoming: IncomingAnswer) -> AnswerSaved | Stranger:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            if self.repo.assessor_by_telegram_id(person.user_id):
                return Stranger.ASSESSOR
            return Stranger.NOT_ENROLLED
        found = self.repo.open_run(candidate.id)
        if found is None:
            return Stranger.NOTHING_OPEN
        run, enrolment = found
        question_set = self._question_set(enrolment, run)
        question = question_set.question(run.current_question_id)
        criteria = self.repo.criteria(enrolment.unit_code)
        self.repo.add_answer(
            Answer(
                run_id=run.id,
                question_id=question.id,
                version=self.repo.next_version(run.id, question.id),
                text=incoming.text,
                chat_id=incoming.chat_id,
                message_id=incoming.message_id,
                update_id=incoming.update_id,
                sent_at=incoming.sent_at,
            ),
            [criteria[ref] for ref in question.criteria],
        )
        finished = self._advance(run, question_set)
        next_prompt = self._prompt(enrolment, run) if run.current_question_id else None
        if finished and question_set.kind == "knowledge":
            if (upcoming := self._next_knowledge_set(enrolment)) is not None:
                next_prompt = self._prompt(enrolment, self._start_run(enrolment, upcoming))
        if next_prompt is None and (other := self.repo.open_run(candidate.id)) is not None:
            next_prompt = self._prompt(other[1], other[0])
        new_cases = [c for c in self.pd_choices(person) if c.enrolment_id == enrolment.id and c.state == "new"]
        return AnswerSaved(
            next_prompt=next_prompt,
            finished_set=question_set.title if finished else None,
            unit_title=self.banks.unit(enrolment.unit_code).unit.title,
            pd_cases_left=len(new_cases),
        )

    # professional discussion
    def pd_choices(self, person: Person) -> list[PdChoice]:
        """Every PD case type of every unit the candidate is enrolled on, with how far they are."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return []
        choices = []
        for enrolment in self.repo.enrolments(candidate.id):
            runs = {run.question_set: run for run in self.repo.runs(enrolment.id)}
            for case in self.banks.unit(enrolment.unit_code).pd_cases:
                run = runs.get(case.set_id)
                state = "new" if run is None else ("in_progress" if run.current_question_id else "done")
                choices.append(PdChoice(enrolment.id, enrolment.unit_code, case.id, case.case_type, state))
        return choices

    def start_pd_case(self, person: Person, enrolment_id: int, case_id: str) -> Prompt | PdRefusal:
        """Begin (or return to) describing one real case; refuses a case or enrolment that is not the person's."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if candidate is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return PdRefusal.NOT_ENROLLED
        case = self.banks.unit(enrolment.unit_code).pd_case(case_id)
        if case is None:
            return PdRefusal.UNKNOWN_CASE
        run = next((r for r in self.repo.runs(enrolment.id) if r.question_set == case.set_id), None)
        if run is None:
            run = self._start_run(enrolment, case.as_question_set())
        elif run.current_question_id is None:
            return PdRefusal.ALREADY_DONE
        else:
            run.updated_at = self.now()  # makes it the sitting the next answer belongs to
            self.repo.add(run)
        return self._prompt(enrolment, run)

    def _start_run(self, enrolment: Enrolment, question_set: QuestionSet) -> QuestionRun:
        return self.repo.add(
            QuestionRun(
                enrolment_id=enrolment.id,
                question_set=question_set.id,
                current_question_id=question_set.questions[0].id,
                started_at=self.now(),
                updated_at=self.now(),
            )
        )

    def _next_knowledge_set(self, enrolment: Enrolment) -> QuestionSet | None:
        begun = {run.question_set for run in self.repo.runs(enrolment.id)}
        return next((s for s in self.banks.unit(enrolment.unit_code).knowledge_sets if s.id not in begun), None)

    def _advance(self, run: QuestionRun, question_set: QuestionSet) -> bool:
        """Move the run to its next unanswered question; True when none is left."""
        answered = self.repo.answered_question_ids(run.id)
        upcoming = next((q for q in question_set.questions if q.id not in answered), None)
        run.updated_at = self.now()
        if upcoming is None:
            run.current_question_id, run.status, run.finished_at = None, "finished", self.now()
        else:
            run.current_question_id = upcoming.id
        self.repo.add(run)
        return upcoming is None

    def _question_set(self, enrolment: Enrolment, run: QuestionRun) -> QuestionSet:
        return self.banks.unit(enrolment.unit_code).question_set(run.question_set)

    def _prompt(self, enrolment: Enrolment, run: QuestionRun) -> Prompt:
        question_set = self._question_set(enrolment, run)
        return Prompt(
            unit_code=enrolment.unit_code,
            unit_title=self.banks.unit(enrolment.unit_code).unit.title,
            set_title=question_set.title,
            set_kind=question_set.kind,
            number=question_set.position(run.current_question_id),
            total=len(question_set.questions),
            question=question_set.question(run.current_question_id),
        )

    def _current_prompt(self, enrolment: Enrolment) -> Prompt | None:
        run = next((r for r in self.repo.runs(enrolment.id) if r.current_question_id), None)
        return self._prompt(enrolment, run) if run else None
