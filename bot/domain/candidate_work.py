"""What the candidate's side shares: who is talking, where they are, and the answers they have given.

`Sittings` (answering) and `Submissions` (review, declaration, submission) build on `CandidateWork`.
A candidate is "in a sitting" when `Candidate.active_run_id` names a question run; the run's
`current_question_id` is the question waiting for an answer. Everything is stored as it arrives, so a
sitting survives a restart, another device, or days away.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.domain import records
from bot.domain.asked import slots, snapshot
from bot.domain.bank_schema import Question, QuestionSet, UnitBank
from bot.domain.banks import Banks
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.storage.ids import stored_id
from bot.storage.models import Answer, Attachment, BankVersion, Candidate, Enrolment, QuestionRun, utcnow
from bot.storage.repository import Repository


@dataclass(frozen=True)
class Person:
    """Who is talking to nvqbot, as the chat platform identifies them."""

    user_id: int
    chat_id: int
    name: str


@dataclass(frozen=True)
class IncomingAttachment:
    kind: str
    file_id: str
    file_unique_id: str
    file_size: int | None = None
    duration: int | None = None
    mime_type: str | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class ForwardOrigin:
    """Where a forwarded message came from: it is someone else's words, not the candidate's."""

    kind: str  # user, hidden_user, chat or channel
    name: str | None  # the sender's name, or the chat's or channel's title
    date: datetime  # when it was first sent

    def as_record(self) -> dict:
        return {"kind": self.kind, "name": self.name, "date": self.date.isoformat()}


@dataclass(frozen=True)
class IncomingMessage:
    text: str | None
    chat_id: int
    message_id: int
    update_id: int
    sent_at: datetime
    attachment: IncomingAttachment | None = None
    forwarded_from: ForwardOrigin | None = None
    text_cleaned: bool = False  # characters no database can hold were replaced in `text`


class Stranger(StrEnum):
    """Why a message could not be taken as an answer."""

    NOT_ENROLLED = "not_enrolled"
    ASSESSOR = "assessor"
    NOTHING_OPEN = "nothing_open"
    OUTSIDE_SITTING = "outside_sitting"
    DECLARING = "declaring"  # the candidate has the declaration in front of them: sign it or cancel first


class Refusal(StrEnum):
    NOT_YOURS = "not_yours"
    UNKNOWN_CASE = "unknown_case"
    ALREADY_DONE = "already_done"
    LOCKED = "locked"
    NOTHING_TO_SUBMIT = "nothing_to_submit"
    WITHDRAWN = "withdrawn"  # the question was taken out of the bank; what was written for it is kept


@dataclass(frozen=True)
class Prompt:
    """A question (or a step of a case) to put to the candidate, with where they are in its set."""

    unit_code: str
    unit_title: str
    set_title: str
    set_kind: str  # "knowledge" or "pd"
    number: int
    total: int
    question: Question
    draft_parts: int = 0  # messages already gathered for an answer not yet finished
    pending_probe: str | None = None  # the probe the unfinished answer is waiting on, shown again with the question


@dataclass(frozen=True)
class PdChoice:
    enrolment_id: int
    unit_code: str
    case_id: str
    case_type: str
    state: str  # "new", "in_progress" or "done"


@dataclass(frozen=True)
class UnitProgress:
    enrolment_id: int
    unit_code: str
    unit_title: str
    deadline: date
    knowledge_met: int  # knowledge criteria with at least one finished answer
    knowledge_total: int
    questions_answered: int
    questions_total: int
    cases_missing: list[str]
    submitted_answers: int
    draft_waiting: bool

    @property
    def unanswered(self) -> int:
        """Questions and cases not yet finished: what a submission now would leave out."""
        return self.questions_total - self.questions_answered + len(self.cases_missing)


class CandidateWork:
    def __init__(
        self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow, limits: Limits = DEFAULT_LIMITS
    ):
        self.repo = repo
        self.banks = banks
        self.now = now
        self.limits = limits

    # who and where
    def _candidate(self, person: Person) -> Candidate | Stranger:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is not None:
            if candidate.chat_id != person.chat_id:  # the same account on another device or chat
                candidate.chat_id = person.chat_id
                self.repo.add(candidate)
            return candidate
        if self.repo.assessor_by_telegram_id(person.user_id):
            return Stranger.ASSESSOR
        return Stranger.NOT_ENROLLED

    def _own_enrolment(self, person: Person, enrolment_id: int) -> tuple[Candidate, Enrolment] | None:
        """The candidate and their enrolment, or None when the enrolment is not theirs (or either is unknown)."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if candidate is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return None
        return candidate, enrolment

    def _active(self, candidate: Candidate) -> tuple[QuestionRun, Enrolment] | None:
        """The sitting the candidate is in, moved past any question withdrawn from the bank meanwhile."""
        seen = set()
        while candidate.active_run_id is not None and candidate.active_run_id not in seen:
            seen.add(candidate.active_run_id)
            found = self.repo.run_with_enrolment(candidate.active_run_id)
            if found is None:
                return None
            run, enrolment = found
            if self._settle(run, enrolment):
                return found
            if run.current_question_id is None and (following := self._following_run(candidate, enrolment)):
                self._sit(candidate, following)
                continue
            return None
        return None

    def _open_run(self, candidate: Candidate) -> tuple[QuestionRun, Enrolment] | None:
        """The most recently active run with a question waiting, past withdrawn questions."""
        for _ in range(len(self.repo.enrolments(stored_id(candidate))) * 8 + 1):
            found = self.repo.open_run(stored_id(candidate))
            if found is None or self._settle(*found):
                return found
        return None

    def _settle(self, run: QuestionRun, enrolment: Enrolment) -> bool:
        """True if the run's current question is still in the bank. A withdrawn question is retired: what the
        candidate wrote for it stays in their record, and the run moves to its next unanswered question."""
        if run.current_question_id is None:
            return False
        question_set = self._question_set(enrolment, run)
        if question_set is not None and question_set.question(run.current_question_id) is not None:
            return True
        draft = self.repo.latest_answer(stored_id(run), run.current_question_id)
        if draft is not None and draft.status == "open":
            draft.status = "retired"
            self.repo.add(draft)
        answered = self._answered(run)
        upcoming = next((q.id for q in question_set.questions if q.id not in answered), None) if question_set else None
        run.current_question_id = upcoming
        if upcoming is None:
            run.status, run.finished_at = ("finished" if question_set else "retired"), self.now()
        self._touch(run)
        return upcoming is not None

    def _following_run(self, candidate: Candidate, enrolment: Enrolment, done: QuestionSet | None = None) -> QuestionRun | None:
        """After a finished set: the unit's next knowledge set not yet begun, else any other open sitting."""
        upcoming = self._next_knowledge_set(enrolment) if done is None or done.kind == "knowledge" else None
        if upcoming is not None:
            return upcoming
        other = self._open_run(candidate)
        return other[0] if other else None

    def _next_knowledge_set(self, enrolment: Enrolment) -> QuestionRun | None:
        """The unit's first knowledge set not yet begun, started now."""
        begun = {run.question_set for run in self.repo.runs(stored_id(enrolment))}
        upcoming = next((s for s in self._bank(enrolment).knowledge_sets if s.id not in begun), None)
        return self._start_run(enrolment, upcoming) if upcoming is not None else None

    def _sit(self, candidate: Candidate, run: QuestionRun) -> None:
        candidate.active_run_id = run.id
        self.repo.add(candidate)
        self._touch(run)

    def _touch(self, run: QuestionRun) -> None:
        run.updated_at = self.now()
        self.repo.add(run)

    def _start_run(self, enrolment: Enrolment, question_set: QuestionSet) -> QuestionRun:
        return self.repo.add(
            QuestionRun(
                enrolment_id=stored_id(enrolment),
                question_set=question_set.id,
                current_question_id=question_set.questions[0].id,
                started_at=self.now(),
                updated_at=self.now(),
            )
        )

    # the bank as it is now: what is left to ask
    def _bank(self, enrolment: Enrolment) -> UnitBank:
        bank = self.banks.unit(enrolment.unit_code)
        if bank is None:
            raise LookupError(f"no question bank for unit {enrolment.unit_code}")
        return bank

    def _question_set(self, enrolment: Enrolment, run: QuestionRun) -> QuestionSet | None:
        return self._bank(enrolment).question_set(run.question_set)

    def _current(self, enrolment: Enrolment, run: QuestionRun) -> tuple[QuestionSet, Question]:
        """The set and question a settled run is on (`_settle` has checked both are still in the bank)."""
        question_set = self._question_set(enrolment, run)
        question = question_set.question(run.current_question_id) if question_set and run.current_question_id else None
        if question_set is None or question is None:
            raise LookupError(f"run {run.id} is not on a question in the bank")
        return question_set, question

    def _prompt(self, enrolment: Enrolment, run: QuestionRun) -> Prompt:
        question_set, question = self._current(enrolment, run)
        draft = self._open_answer(run, question)
        return Prompt(
            unit_code=enrolment.unit_code,
            unit_title=self._bank(enrolment).unit.title,
            set_title=question_set.title,
            set_kind=question_set.kind,
            number=question_set.position(question.id),
            total=len(question_set.questions),
            question=question,
            draft_parts=len(self.repo.parts(stored_id(draft))) if draft else 0,
            pending_probe=draft.probes[-1]["text"] if draft and draft.probes else None,
        )

    # answers
    def _open_answer(self, run: QuestionRun, question: Question) -> Answer | None:
        latest = self.repo.latest_answer(stored_id(run), question.id)
        return latest if latest is not None and latest.status == "open" else None

    def _answered(self, run: QuestionRun) -> set[str]:
        return {a.question_id for a in self.repo.latest_answers(stored_id(run)) if a.status == "complete"}

    def _new_answer(self, run: QuestionRun, enrolment: Enrolment, question_set: QuestionSet, question: Question) -> Answer:
        """A new version of the answer to a question, with the question frozen in it as asked now."""
        asked = snapshot(self.banks, enrolment.unit_code, question_set, question)
        asked["ref"] = self._free_ref(enrolment, question.id, asked["ref"])
        answer = Answer(
            run_id=stored_id(run),
            question_id=question.id,
            version=self.repo.next_version(stored_id(run), question.id),
            started_at=self.now(),
            asked=asked,
            bank_version_id=self._bank_version(enrolment.unit_code).id,
        )
        criteria = self.repo.criteria(enrolment.unit_code)
        return self.repo.add_answer(answer, [criteria[ref] for ref in question.criteria])

    def _free_ref(self, enrolment: Enrolment, question_id: str, ref: str) -> str:
        """The question's reference in the records, unless an edited bank gave it to another question already
        answered: references, once in a record, always name the same question."""
        taken = self.repo.refs_in_use(stored_id(enrolment))
        if taken.get(ref, question_id) == question_id:
            return ref
        for existing, owner in taken.items():
            if owner == question_id:
                return existing
        suffix = 2
        while taken.get(f"{ref}-{suffix}", question_id) != question_id:
            suffix += 1
        return f"{ref}-{suffix}"

    def _bank_version(self, unit_code: str) -> BankVersion:
        return records.bank_version(self.repo, self.banks, unit_code)

    def _finished_answers(self, enrolment: Enrolment) -> list[tuple[Answer, QuestionRun]]:
        """The current (latest) version of every finished answer, in the order the unit asked them."""
        found: list[tuple[Answer, QuestionRun]] = []
        for run in self.repo.runs(stored_id(enrolment)):
            found.extend((a, run) for a in self.repo.latest_answers(stored_id(run)) if a.status == "complete")
        return sorted(found, key=lambda pair: (_rank(pair[0]), pair[0].question_id))

    def _locked(self, answer: Answer) -> bool:
        """Submitted answers cannot change, unless the assessor has referred them back ("not yet")."""
        if answer.submission_id is None:
            return False
        judgment = self.repo.latest_judgment(stored_id(answer))
        return judgment is None or judgment.outcome != "not_yet"

    def keep_attachment(self, incoming: IncomingAttachment) -> Attachment:
        return self.repo.add(
            Attachment(
                kind=incoming.kind,
                file_id=incoming.file_id,
                file_unique_id=incoming.file_unique_id,
                file_size=incoming.file_size,
                duration=incoming.duration,
                mime_type=incoming.mime_type,
                file_name=incoming.file_name,
            )
        )

    # progress
    def pd_choices_for(self, enrolment: Enrolment) -> list[PdChoice]:
        runs = {run.question_set: run for run in self.repo.runs(stored_id(enrolment))}
        choices = []
        for case in self._bank(enrolment).pd_cases:
            run = runs.get(case.set_id)
            state = "new" if run is None else ("in_progress" if run.current_question_id else "done")
            choices.append(PdChoice(stored_id(enrolment), enrolment.unit_code, case.id, case.case_type, state))
        return choices

    def unit_progress(self, enrolment: Enrolment) -> UnitProgress:
        """How much of what the unit's bank asks today the candidate has finished."""
        bank = self._bank(enrolment)
        in_bank = slots(bank)
        finished = [
            (answer, in_bank[run.question_set, answer.question_id])
            for answer, run in self._finished_answers(enrolment)
            if (run.question_set, answer.question_id) in in_bank
        ]
        knowledge = [slot for _, slot in finished if slot.question_set.kind == "knowledge"]
        knowledge_refs = {c.ref for c in bank.criteria if c.kind == "knowledge" and not bank.parts_of(c.ref)}
        met = {ref for slot in knowledge for ref in slot.question.criteria if ref in knowledge_refs}
        drafts = any(
            a.status == "open" for run in self.repo.runs(stored_id(enrolment)) for a in self.repo.latest_answers(stored_id(run))
        )
        return UnitProgress(
            enrolment_id=stored_id(enrolment),
            unit_code=enrolment.unit_code,
            unit_title=bank.unit.title,
            deadline=enrolment.deadline,
            knowledge_met=len(met),
            knowledge_total=len(knowledge_refs),
            questions_answered=len(knowledge),
            questions_total=sum(len(s.questions) for s in bank.knowledge_sets),
            cases_missing=[c.case_type for c in self.pd_choices_for(enrolment) if c.state != "done"],
            submitted_answers=sum(1 for a, _ in finished if a.submission_id is not None),
            draft_waiting=drafts,
        )


def _rank(answer: Answer) -> tuple:
    return tuple((answer.asked or {}).get("rank", (10**6, 0)))
