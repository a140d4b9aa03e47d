"""Sittings: how a candidate answers questions and describes PD cases, reviews, and submits.

A candidate is "in a sitting" when `Candidate.active_run_id` names a question run: their messages
are then gathered into the answer to its current question until they tap Done. Everything is
stored as it arrives, so a sitting survives a restart, another device, or days away.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.domain.banks import Banks, Question, QuestionSet, UnitBank
from bot.storage import audit
from bot.storage.models import (
    Answer,
    AnswerPart,
    Assessor,
    AssessorQuestion,
    Attachment,
    Candidate,
    Enrolment,
    QuestionRun,
    Submission,
    utcnow,
)
from bot.storage.repository import Repository

# An answer is thin when it has fewer words than this, or names none of the question's look-fors.
THIN_ANSWER_WORDS = 15
_WORD = re.compile(r"[a-z0-9']+")
_STOPWORDS = frozenset(
    "about after again their there these those which while would could should other where names"
    " being every example explains describes mentions shows gives".split()
)


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
    draft_parts: int = 0  # messages already gathered for an answer not yet finished


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
class IncomingMessage:
    text: str | None
    chat_id: int
    message_id: int
    update_id: int
    sent_at: datetime
    attachment: IncomingAttachment | None = None


class Stranger(StrEnum):
    """Why a message could not be taken as an answer."""

    NOT_ENROLLED = "not_enrolled"
    ASSESSOR = "assessor"
    NOTHING_OPEN = "nothing_open"
    OUTSIDE_SITTING = "outside_sitting"


@dataclass(frozen=True)
class PartKept:
    prompt: Prompt
    parts: int
    follow_up: bool  # the message answers the probe


@dataclass(frozen=True)
class FollowUpReplied:
    """The candidate answered their assessor's follow-up question."""

    assessor_chat_id: int | None
    candidate: str
    question: str
    reply: str


@dataclass(frozen=True)
class ProbeAsked:
    probe: str
    prompt: Prompt


@dataclass(frozen=True)
class NothingToFinish:
    prompt: Prompt


@dataclass(frozen=True)
class AnswerSaved:
    next_prompt: Prompt | None  # the next question here, in the next set, or in another open sitting
    finished_set: str | None  # the title of the set this answer completed
    unit_title: str
    pd_cases_left: int  # PD case types of this unit not yet started


@dataclass(frozen=True)
class Edited:
    question: Question
    version: int


class EditProblem(StrEnum):
    LOCKED = "locked"
    OLD_VERSION = "old_version"


@dataclass(frozen=True)
class PdChoice:
    enrolment_id: int
    unit_code: str
    case_id: str
    case_type: str
    state: str  # "new", "in_progress" or "done"


class Refusal(StrEnum):
    NOT_YOURS = "not_yours"
    UNKNOWN_CASE = "unknown_case"
    ALREADY_DONE = "already_done"
    LOCKED = "locked"
    NOTHING_TO_SUBMIT = "nothing_to_submit"


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


@dataclass(frozen=True)
class ReviewItem:
    answer_id: int
    number: int
    question: Question
    set_kind: str
    version: int
    preview: str
    locked: bool
    feedback: str | None = None  # the assessor's reason, when they referred this answer back


@dataclass(frozen=True)
class Review:
    enrolment_id: int
    unit_code: str
    unit_title: str
    items: list[ReviewItem] = field(default_factory=list)

    @property
    def unlocked(self) -> int:
        return sum(not item.locked for item in self.items)


@dataclass(frozen=True)
class DeclarationAsked:
    enrolment_id: int
    unit_title: str
    declaration: str
    answers: int


@dataclass(frozen=True)
class Submitted:
    unit_title: str
    answers: int
    declared_at: datetime


def question_keywords(question: Question) -> set[str]:
    """The telling words of a question's look-fors, cut to five letters so 'records' matches 'recorded'."""
    words = (w for look_for in question.look_fors for w in _WORD.findall(look_for.lower()))
    return {w[:5] for w in words if len(w) >= 5 and w not in _STOPWORDS}


def is_thin(question: Question, text: str, has_attachment: bool) -> bool:
    if has_attachment:
        return False  # a voice note or document cannot be judged by its words here
    words = _WORD.findall(text.lower())
    keywords = question_keywords(question)
    names_a_look_for = not keywords or any(w[:5] in keywords for w in words if len(w) >= 5)
    return len(words) < THIN_ANSWER_WORDS or not names_a_look_for


class Sittings:
    def __init__(self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow):
        self.repo = repo
        self.banks = banks
        self.now = now

    # entering and leaving a sitting
    def begin(self, candidate: Candidate, enrolment: Enrolment) -> Prompt:
        """Start the unit's first knowledge set and put the candidate in that sitting."""
        run = self._start_run(enrolment, self._bank(enrolment).knowledge_sets[0])
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def resume(self, person: Person) -> Prompt | Stranger:
        """Back to exactly where the candidate was: the active sitting, else the most recent open one."""
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        found = self._active(candidate) or self.repo.open_run(candidate.id)
        if found is None:
            return Stranger.NOTHING_OPEN
        run, enrolment = found
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def pause(self, person: Person) -> bool:
        """Leave the sitting; everything sent so far stays. False if there was none."""
        candidate, problem = self._candidate(person)
        if problem or candidate.active_run_id is None:
            return False
        candidate.active_run_id = None
        self.repo.add(candidate)
        return True

    def current(self, person: Person) -> Prompt | Stranger:
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        found = self._active(candidate)
        return self._prompt(found[1], found[0]) if found else Stranger.OUTSIDE_SITTING

    # answering
    def take_message(self, person: Person, message: IncomingMessage) -> PartKept | FollowUpReplied | Stranger:
        """Add one message (text or attachment) to the answer being gathered for the current question.

        A message sent while an assessor's follow-up question waits is the reply to that question.
        """
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        if candidate.awaited_question_id is not None:
            return self._reply_to_assessor(candidate, message)
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        _, run, enrolment = sitting
        question = self._question_set(enrolment, run).question(run.current_question_id)
        answer = self._open_answer(run, question) or self._new_answer(run, enrolment, question)
        parts = self.repo.parts(answer.id)
        attachment = self.keep_attachment(message.attachment) if message.attachment else None
        self.repo.add(
            AnswerPart(
                answer_id=answer.id,
                seq=len(parts) + 1,
                text=message.text,
                attachment_id=attachment.id if attachment else None,
                in_follow_up=answer.probe is not None,
                chat_id=message.chat_id,
                message_id=message.message_id,
                update_id=message.update_id,
                sent_at=message.sent_at,
            )
        )
        self._touch(run)
        enrolment.last_activity_at = self.now()
        self.repo.add(enrolment)
        return PartKept(self._prompt(enrolment, run), len(parts) + 1, follow_up=answer.probe is not None)

    def finish(self, person: Person) -> AnswerSaved | ProbeAsked | NothingToFinish | Stranger:
        """The candidate tapped Done: probe a thin answer once, otherwise keep it and move on."""
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        candidate, run, enrolment = sitting
        question_set = self._question_set(enrolment, run)
        question = question_set.question(run.current_question_id)
        answer = self._open_answer(run, question)
        parts = self.repo.parts(answer.id) if answer else []
        if not parts:
            return NothingToFinish(self._prompt(enrolment, run))
        text = " ".join(p.text for p in parts if p.text)
        if answer.probe is None and question.probes and is_thin(question, text, any(p.attachment_id for p in parts)):
            answer.probe, answer.probed_at = question.probes[0], self.now()
            self.repo.add(answer)
            return ProbeAsked(question.probes[0], self._prompt(enrolment, run))
        answer.status, answer.completed_at = "complete", self.now()
        self.repo.add(answer)
        return self._move_on(candidate, run, enrolment, question_set, skipping=False)

    def skip(self, person: Person) -> AnswerSaved | Stranger:
        """Leave the current question for later; it comes back once the others are answered."""
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        candidate, run, enrolment = sitting
        return self._move_on(candidate, run, enrolment, self._question_set(enrolment, run), skipping=True)

    def edit(self, person: Person, message: IncomingMessage) -> Edited | EditProblem | Stranger | None:
        """An edited message makes a new version of its answer; the old version is kept. None: not an answer."""
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        found = self.repo.answer_with_message(candidate.id, message.chat_id, message.message_id)
        if found is None:
            return None
        answer, run, enrolment = found
        latest = self.repo.latest_answer(run.id, answer.question_id)
        if latest.id != answer.id:
            return EditProblem.OLD_VERSION
        if self._locked(answer):
            return EditProblem.LOCKED
        copy = self._copy_answer(answer, edited=message)
        question = self._question_set(enrolment, run).question(answer.question_id)
        return Edited(question, copy.version)

    def _reply_to_assessor(self, candidate: Candidate, message: IncomingMessage) -> FollowUpReplied:
        question = self.repo.session.get(AssessorQuestion, candidate.awaited_question_id)
        attachment = self.keep_attachment(message.attachment) if message.attachment else None
        question.reply_text = message.text
        question.reply_attachment_id = attachment.id if attachment else None
        question.reply_message_id = message.message_id
        question.replied_at = self.now()
        self.repo.add(question)
        candidate.awaited_question_id = None
        self.repo.add(candidate)
        assessor = self.repo.session.get(Assessor, question.assessor_id)
        answer = self.repo.session.get(Answer, question.answer_id)
        run = self.repo.session.get(QuestionRun, answer.run_id)
        audit.record(self.repo.session, f"candidate:{candidate.id}", "replied", run.enrolment_id,
                     {"assessor_question_id": question.id}, self.now())
        reply = message.text or f"[{message.attachment.kind.replace('_', ' ')}]"
        return FollowUpReplied(assessor.chat_id, candidate.name, question.text, reply)

    # professional discussion
    def pd_choices(self, person: Person) -> list[PdChoice]:
        """Every PD case type of every unit the candidate is enrolled on, with how far they are."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return []
        return [choice for e in self.repo.enrolments(candidate.id) for choice in self.pd_choices_for(e)]

    def start_pd_case(self, person: Person, enrolment_id: int, case_id: str) -> Prompt | Refusal:
        """Begin (or return to) describing one real case; refuses a case or enrolment that is not the person's."""
        candidate, enrolment = self._own_enrolment(person, enrolment_id)
        if enrolment is None:
            return Refusal.NOT_YOURS
        case = self._bank(enrolment).pd_case(case_id)
        if case is None:
            return Refusal.UNKNOWN_CASE
        run = next((r for r in self.repo.runs(enrolment.id) if r.question_set == case.set_id), None)
        if run is None:
            run = self._start_run(enrolment, case.as_question_set())
        elif run.current_question_id is None:
            return Refusal.ALREADY_DONE
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    # progress, review and submission
    def progress(self, person: Person) -> list[UnitProgress]:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return []
        return [self.unit_progress(enrolment) for enrolment in self.repo.enrolments(candidate.id)]

    def review(self, person: Person, enrolment_id: int | None = None) -> Review | Refusal | Stranger:
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        enrolments = self.repo.enrolments(candidate.id)
        enrolment = next((e for e in enrolments if e.id == enrolment_id), None) if enrolment_id else None
        if enrolment_id and enrolment is None:
            return Refusal.NOT_YOURS
        enrolment = enrolment or self._most_recent_enrolment(candidate, enrolments)
        items = []
        for number, (answer, run, question_set) in enumerate(self._finished_answers(enrolment), 1):
            parts = self.repo.parts(answer.id)
            items.append(
                ReviewItem(
                    answer_id=answer.id,
                    number=number,
                    question=question_set.question(answer.question_id),
                    set_kind=question_set.kind,
                    version=answer.version,
                    preview=_preview(parts, self.repo),
                    locked=self._locked(answer),
                    feedback=self._referral_feedback(answer),
                )
            )
        return Review(enrolment.id, enrolment.unit_code, self._bank(enrolment).unit.title, items)

    def reanswer(self, person: Person, answer_id: int) -> Prompt | Refusal:
        """Answer a question again: the next answer becomes its new version."""
        candidate, problem = self._candidate(person)
        found = None if problem else self.repo.answer_of_candidate(candidate.id, answer_id)
        if found is None:
            return Refusal.NOT_YOURS
        answer, run, enrolment = found
        latest = self.repo.latest_answer(run.id, answer.question_id)
        if self._locked(latest):
            return Refusal.LOCKED
        if latest.submission_id is not None:  # referred back by the assessor: the work is re-opened
            audit.record(self.repo.session, f"candidate:{candidate.id}", "reopened", enrolment.id,
                         {"answer_id": latest.id}, self.now())
        run.current_question_id, run.status, run.finished_at = answer.question_id, "in_progress", None
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def ask_declaration(self, person: Person, enrolment_id: int) -> DeclarationAsked | Refusal:
        found = self._submittable(person, enrolment_id)
        if isinstance(found, Refusal):
            return found
        _, enrolment, waiting = found
        bank = self._bank(enrolment)
        return DeclarationAsked(enrolment.id, bank.unit.title, bank.unit.declaration, len(waiting))

    def submit(self, person: Person, enrolment_id: int) -> Submitted | Refusal:
        """Record the declaration and lock every finished answer not yet submitted."""
        found = self._submittable(person, enrolment_id)
        if isinstance(found, Refusal):
            return found
        candidate, enrolment, waiting = found
        bank = self._bank(enrolment)
        submission = self.repo.add(
            Submission(
                enrolment_id=enrolment.id,
                declaration=bank.unit.declaration,
                declared_by=candidate.name,
                declared_by_telegram_id=candidate.telegram_user_id,
                declared_at=self.now(),
            )
        )
        for answer in waiting:
            answer.submission_id = submission.id
            self.repo.add(answer)
        enrolment.status = "submitted"
        self.repo.add(enrolment)
        audit.record(self.repo.session, f"candidate:{candidate.id}", "submitted", enrolment.id,
                     {"submission_id": submission.id, "answers": [a.id for a in waiting]}, self.now())
        return Submitted(bank.unit.title, len(waiting), submission.declared_at)

    def reminders(self, person: Person, paused: bool | None = None) -> bool | Stranger:
        """Whether the candidate's reminders are paused, after setting it when `paused` is given."""
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        if paused is not None and candidate.reminders_paused != paused:
            candidate.reminders_paused = paused
            self.repo.add(candidate)
        return candidate.reminders_paused

    # helpers
    def _submittable(self, person: Person, enrolment_id: int) -> tuple[Candidate, Enrolment, list[Answer]] | Refusal:
        """The person's enrolment and its finished answers not yet submitted."""
        candidate, enrolment = self._own_enrolment(person, enrolment_id)
        if enrolment is None:
            return Refusal.NOT_YOURS
        waiting = [a for a, _, _ in self._finished_answers(enrolment) if a.submission_id is None]
        return (candidate, enrolment, waiting) if waiting else Refusal.NOTHING_TO_SUBMIT

    def _sitting(self, person: Person) -> tuple[Candidate, QuestionRun, Enrolment] | Stranger:
        """The candidate and the sitting they are in, or why there is none."""
        candidate, problem = self._candidate(person)
        if problem:
            return problem
        found = self._active(candidate)
        return Stranger.OUTSIDE_SITTING if found is None else (candidate, *found)

    def _locked(self, answer: Answer) -> bool:
        """Submitted answers cannot change, unless the assessor has referred them back ("not yet")."""
        if answer.submission_id is None:
            return False
        judgment = self.repo.latest_judgment(answer.id)
        return judgment is None or judgment.outcome != "not_yet"

    def _referral_feedback(self, answer: Answer) -> str | None:
        judgment = self.repo.latest_judgment(answer.id) if answer.submission_id else None
        return (judgment.feedback or "") if judgment and judgment.outcome == "not_yet" else None

    def _candidate(self, person: Person) -> tuple[Candidate | None, Stranger | None]:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is not None:
            if candidate.chat_id != person.chat_id:  # the same account on another device or chat
                candidate.chat_id = person.chat_id
                self.repo.add(candidate)
            return candidate, None
        if self.repo.assessor_by_telegram_id(person.user_id):
            return None, Stranger.ASSESSOR
        return None, Stranger.NOT_ENROLLED

    def _own_enrolment(self, person: Person, enrolment_id: int) -> tuple[Candidate | None, Enrolment | None]:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        enrolment = self.repo.enrolment_by_id(enrolment_id)
        if candidate is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return candidate, None
        return candidate, enrolment

    def _most_recent_enrolment(self, candidate: Candidate, enrolments) -> Enrolment:
        active = self._active(candidate)
        return active[1] if active else enrolments[-1]

    def _active(self, candidate: Candidate) -> tuple[QuestionRun, Enrolment] | None:
        if candidate.active_run_id is None:
            return None
        found = self.repo.run_with_enrolment(candidate.active_run_id)
        if found is None or found[0].current_question_id is None:
            return None
        return found

    def _sit(self, candidate: Candidate, run: QuestionRun) -> None:
        candidate.active_run_id = run.id
        self.repo.add(candidate)
        self._touch(run)

    def _touch(self, run: QuestionRun) -> None:
        run.updated_at = self.now()
        self.repo.add(run)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.unit(enrolment.unit_code)

    def _question_set(self, enrolment: Enrolment, run: QuestionRun) -> QuestionSet:
        return self._bank(enrolment).question_set(run.question_set)

    def _prompt(self, enrolment: Enrolment, run: QuestionRun) -> Prompt:
        question_set = self._question_set(enrolment, run)
        question = question_set.question(run.current_question_id)
        draft = self._open_answer(run, question)
        return Prompt(
            unit_code=enrolment.unit_code,
            unit_title=self._bank(enrolment).unit.title,
            set_title=question_set.title,
            set_kind=question_set.kind,
            number=question_set.position(run.current_question_id),
            total=len(question_set.questions),
            question=question,
            draft_parts=len(self.repo.parts(draft.id)) if draft else 0,
        )

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

    def _open_answer(self, run: QuestionRun, question: Question) -> Answer | None:
        latest = self.repo.latest_answer(run.id, question.id)
        return latest if latest is not None and latest.status == "open" else None

    def _new_answer(self, run: QuestionRun, enrolment: Enrolment, question: Question) -> Answer:
        criteria = self.repo.criteria(enrolment.unit_code)
        answer = Answer(
            run_id=run.id,
            question_id=question.id,
            version=self.repo.next_version(run.id, question.id),
            started_at=self.now(),
        )
        return self.repo.add_answer(answer, [criteria[ref] for ref in question.criteria])

    def _copy_answer(self, answer: Answer, edited: IncomingMessage) -> Answer:
        copy = Answer(
            run_id=answer.run_id,
            question_id=answer.question_id,
            version=self.repo.next_version(answer.run_id, answer.question_id),
            status=answer.status,
            probe=answer.probe,
            probed_at=answer.probed_at,
            started_at=answer.started_at,
            completed_at=answer.completed_at,
        )
        self.repo.add_answer(copy, self.repo.answer_criteria(answer.id))
        for part in self.repo.parts(answer.id):
            is_edited = part.chat_id == edited.chat_id and part.message_id == edited.message_id
            self.repo.session.add(
                AnswerPart(
                    answer_id=copy.id,
                    seq=part.seq,
                    text=edited.text if is_edited else part.text,
                    attachment_id=part.attachment_id,
                    in_follow_up=part.in_follow_up,
                    chat_id=part.chat_id,
                    message_id=part.message_id,
                    update_id=edited.update_id if is_edited else part.update_id,
                    sent_at=part.sent_at,
                    edited_at=edited.sent_at if is_edited else part.edited_at,
                )
            )
        self.repo.session.flush()
        return copy

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

    def _answered(self, run: QuestionRun) -> set[str]:
        return {a.question_id for a in self.repo.latest_answers(run.id) if a.status == "complete"}

    def _move_on(
        self, candidate: Candidate, run: QuestionRun, enrolment: Enrolment, question_set: QuestionSet, skipping: bool
    ) -> AnswerSaved:
        answered = self._answered(run)
        ids = [q.id for q in question_set.questions]
        here = ids.index(run.current_question_id)
        # The questions after this one, then those before it: skipped questions come round again.
        order = ids[here + 1 :] + ids[:here] + ([ids[here]] if skipping else [])
        upcoming = next((qid for qid in order if qid not in answered), None)
        finished = upcoming is None
        run.updated_at = self.now()
        if finished:
            run.current_question_id, run.status, run.finished_at = None, "finished", self.now()
        else:
            run.current_question_id = upcoming
        self.repo.add(run)
        next_prompt = None if finished else self._prompt(enrolment, run)
        if finished:
            following = self._following_run(candidate, enrolment, question_set)
            candidate.active_run_id = following.id if following else None
            self.repo.add(candidate)
            if following is not None:
                next_prompt = self._prompt(self.repo.enrolment_by_id(following.enrolment_id), following)
        new_cases = [c for c in self.pd_choices_for(enrolment) if c.state == "new"]
        return AnswerSaved(
            next_prompt=next_prompt,
            finished_set=question_set.title if finished else None,
            unit_title=self._bank(enrolment).unit.title,
            pd_cases_left=len(new_cases),
        )

    def _following_run(self, candidate: Candidate, enrolment: Enrolment, done: QuestionSet) -> QuestionRun | None:
        """After a finished set: the unit's next knowledge set, else any other open sitting."""
        if done.kind == "knowledge":
            begun = {run.question_set for run in self.repo.runs(enrolment.id)}
            upcoming = next((s for s in self._bank(enrolment).knowledge_sets if s.id not in begun), None)
            if upcoming is not None:
                return self._start_run(enrolment, upcoming)
        other = self.repo.open_run(candidate.id)
        return other[0] if other else None

    def pd_choices_for(self, enrolment: Enrolment) -> list[PdChoice]:
        runs = {run.question_set: run for run in self.repo.runs(enrolment.id)}
        choices = []
        for case in self._bank(enrolment).pd_cases:
            run = runs.get(case.set_id)
            state = "new" if run is None else ("in_progress" if run.current_question_id else "done")
            choices.append(PdChoice(enrolment.id, enrolment.unit_code, case.id, case.case_type, state))
        return choices

    def _finished_answers(self, enrolment: Enrolment) -> list[tuple[Answer, QuestionRun, QuestionSet]]:
        """The current (latest) version of every finished answer, in the order the unit asks them."""
        found = []
        for run in self.repo.runs(enrolment.id):
            question_set = self._question_set(enrolment, run)
            latest = {a.question_id: a for a in self.repo.latest_answers(run.id)}
            for question in question_set.questions:
                answer = latest.get(question.id)
                if answer is not None and answer.status == "complete":
                    found.append((answer, run, question_set))
        return found

    def unit_progress(self, enrolment: Enrolment) -> UnitProgress:
        bank = self._bank(enrolment)
        finished = self._finished_answers(enrolment)
        knowledge_refs = {c.ref for c in bank.criteria if c.kind == "knowledge"}
        met = {
            ref
            for answer, _, question_set in finished
            if question_set.kind == "knowledge"
            for ref in question_set.question(answer.question_id).criteria
            if ref in knowledge_refs
        }
        drafts = any(
            a.status == "open" for run in self.repo.runs(enrolment.id) for a in self.repo.latest_answers(run.id)
        )
        return UnitProgress(
            enrolment_id=enrolment.id,
            unit_code=enrolment.unit_code,
            unit_title=bank.unit.title,
            deadline=enrolment.deadline,
            knowledge_met=len(met),
            knowledge_total=len(knowledge_refs),
            questions_answered=sum(1 for _, _, qs in finished if qs.kind == "knowledge"),
            questions_total=sum(len(s.questions) for s in bank.knowledge_sets),
            cases_missing=[c.case_type for c in self.pd_choices_for(enrolment) if c.state != "done"],
            submitted_answers=sum(1 for a, _, _ in finished if a.submission_id is not None),
            draft_waiting=drafts,
        )


def _preview(parts: list[AnswerPart], repo: Repository, length: int = 60) -> str:
    text = " ".join(p.text for p in parts if p.text).strip()
    files = [repo.attachment(p.attachment_id).kind for p in parts if p.attachment_id]
    if files and not text:
        text = ", ".join(f"[{kind.replace('_', ' ')}]" for kind in files)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
