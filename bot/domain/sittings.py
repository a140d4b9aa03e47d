"""Sittings: how a candidate answers knowledge questions and walks through real cases.

Messages sent in a sitting are gathered into the answer to its current question until the candidate
taps Done; a thin answer gets the question's probe first. See `candidate_work` for what is shared with
review and submission.
"""

from dataclasses import dataclass
from enum import StrEnum

from bot.domain import probing
from bot.domain.asked import DISCUSSION_RUN
from bot.domain.bank_schema import QuestionSet
from bot.domain.candidate_work import (
    CandidateWork,
    ForwardOrigin,
    IncomingAttachment,
    IncomingMessage,
    PdChoice,
    Person,
    Prompt,
    Refusal,
    Stranger,
    UnitProgress,
)
from bot.storage import audit
from bot.storage.ids import stored_id
from bot.storage.models import (
    Answer,
    AnswerPart,
    Assessor,
    AssessorQuestion,
    Candidate,
    Enrolment,
    QuestionRun,
)

__all__ = ["ForwardOrigin", "IncomingAttachment", "IncomingMessage", "PdChoice", "Person", "Prompt", "Refusal", "Stranger", "UnitProgress"]

@dataclass(frozen=True)
class PartKept:
    prompt: Prompt
    parts: int
    probe_number: int | None  # the message answers this probe of the answer's (1, 2, 3), if any
    forwarded_from: ForwardOrigin | None = None  # kept, marked as forwarded: the candidate is asked for their own words


@dataclass(frozen=True)
class NotKept:
    """A message refused whole (bot/domain/limits.py): nothing of it was stored, nor changed."""

    reason: str  # "too_long", "edit_too_long" (an edit: the answer keeps the message as it was) or "answer_full"
    limit: int  # the characters a message may have, or the messages an answer may gather
    length: int | None = None  # the message's characters, when it was too long
    prompt: Prompt | None = None  # the question it was sent for, if any


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
    number: int  # 1, 2 or 3: the probes asked of this answer so far
    last: bool  # no further probe will follow: after the reply, Done moves on


@dataclass(frozen=True)
class NothingToFinish:
    prompt: Prompt


@dataclass(frozen=True)
class AnswerSaved:
    next_prompt: Prompt | None  # the next question here, in the next set, or in another open sitting
    finished_set: str | None  # the title of the set this answer completed
    unit_title: str
    pd_cases_left: int  # case types of this unit not yet started
    skipped: bool = False  # the candidate skipped the question: it comes back after the others


@dataclass(frozen=True)
class Edited:
    question: str  # the question as it was asked
    version: int


class EditProblem(StrEnum):
    LOCKED = "locked"
    OLD_VERSION = "old_version"
    IN_DISCUSSION = "in_discussion"  # a message of a professional discussion: what was said stays as it was said


class Sittings(CandidateWork):
    # entering and leaving a sitting
    def begin(self, candidate: Candidate, enrolment: Enrolment) -> Prompt:
        """Start the unit's first knowledge set and put the candidate in that sitting."""
        run = self._start_run(enrolment, self._bank(enrolment).knowledge_sets[0])
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def resume(self, person: Person) -> Prompt | Stranger:
        """Back to exactly where the candidate was: the active sitting, else the most recent open one."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        if candidate.declaring_enrolment_id is not None:
            candidate.declaring_enrolment_id = None  # carrying on puts the declaration aside
        found = self._active(candidate) or self._open_run(candidate)
        if found is None:
            return Stranger.NOTHING_OPEN
        run, enrolment = found
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def open_unit(self, person: Person, enrolment_id: int) -> Prompt | Refusal:
        """Go to one of the candidate's units: its knowledge questions where they left off."""
        found = self._own_enrolment(person, enrolment_id)
        if found is None:
            return Refusal.NOT_YOURS
        candidate, enrolment = found
        knowledge = {s.id for s in self._bank(enrolment).knowledge_sets}
        runs = [r for r in self.repo.runs(stored_id(enrolment)) if r.question_set in knowledge and r.current_question_id]
        run = next((r for r in runs if self._settle(r, enrolment)), None) or self._next_knowledge_set(enrolment)
        if run is None:
            return Refusal.ALREADY_DONE
        candidate.declaring_enrolment_id = None
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def pause(self, person: Person) -> bool:
        """Leave the sitting; everything sent so far stays. False if there was none."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger) or candidate.active_run_id is None:
            return False
        candidate.active_run_id = None
        self.repo.add(candidate)
        return True

    def current(self, person: Person) -> Prompt | Stranger:
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        found = self._active(candidate)
        return self._prompt(found[1], found[0]) if found else Stranger.OUTSIDE_SITTING

    # answering
    def take_message(self, person: Person, message: IncomingMessage) -> PartKept | FollowUpReplied | NotKept | Stranger:
        """Add one message (text or attachment) to the answer being gathered for the current question.

        A message sent while an assessor's follow-up question waits is the reply to that question. A message
        longer than the limit, or one more than an answer may gather, is refused whole.
        """
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        if candidate.awaited_question_id is not None:
            if self.limits.too_long(message.text):
                return self._too_long(message)
            return self._reply_to_assessor(candidate, message)
        if candidate.declaring_enrolment_id is not None:
            return Stranger.DECLARING
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        _, run, enrolment = sitting
        if self.limits.too_long(message.text):
            return self._too_long(message, self._prompt(enrolment, run))
        question_set, question = self._current(enrolment, run)
        answer = self._open_answer(run, question) or self._new_answer(run, enrolment, question_set, question)
        parts = self.repo.parts(stored_id(answer))
        if len(parts) >= self.limits.parts_per_answer:
            return NotKept("answer_full", self.limits.parts_per_answer, prompt=self._prompt(enrolment, run))
        attachment = self.keep_attachment(message.attachment) if message.attachment else None
        self.repo.add(
            AnswerPart(
                answer_id=stored_id(answer),
                seq=len(parts) + 1,
                text=message.text,
                attachment_id=attachment.id if attachment else None,
                probe_number=len(answer.probes) or None,
                forwarded_from=message.forwarded_from.as_record() if message.forwarded_from else None,
                text_cleaned=message.text_cleaned,
                chat_id=message.chat_id,
                message_id=message.message_id,
                update_id=message.update_id,
                sent_at=message.sent_at,
            )
        )
        self._touch(run)
        enrolment.last_activity_at = self.now()
        self.repo.add(enrolment)
        return PartKept(self._prompt(enrolment, run), len(parts) + 1, len(answer.probes) or None, message.forwarded_from)

    def finish(self, person: Person) -> AnswerSaved | ProbeAsked | NothingToFinish | Stranger:
        """The candidate tapped Done: ask the next probe on the ladder while the answer leaves a look-for
        uncovered (at most three), otherwise keep the answer and move on. A file (a voice note, a photo)
        cannot be read here, so an answer with one is never probed: the assessor reads it; nor is a full
        answer, which has no room for a reply."""
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        candidate, run, enrolment = sitting
        question_set, question = self._current(enrolment, run)
        answer = self._open_answer(run, question)
        parts = self.repo.parts(stored_id(answer)) if answer else []
        if answer is None or not parts:
            return NothingToFinish(self._prompt(enrolment, run))
        text = " ".join(p.text for p in parts if p.text and not p.forwarded_from)  # the candidate's own words
        asked = [probe["text"] for probe in answer.probes]
        unprobed = any(p.attachment_id for p in parts) or len(parts) >= self.limits.parts_per_answer
        probe = None if unprobed else probing.next_probe(question, text, asked)
        if probe is not None:
            answer.probes = [*answer.probes, {"text": probe.text, "aims": list(probe.aims), "asked_at": self.now().isoformat()}]
            self.repo.add(answer)
            unasked = [p for p in question.probes if p.text not in (*asked, probe.text)]
            last = len(answer.probes) >= probing.MAX_PROBES or not unasked
            return ProbeAsked(probe.text, self._prompt(enrolment, run), len(answer.probes), last)
        answer.status, answer.completed_at = "complete", self.now()
        self.repo.add(answer)
        return self._move_on(candidate, run, enrolment, question_set, skipping=False)

    def skip(self, person: Person) -> AnswerSaved | Stranger:
        """Leave the current question for later; it comes back once the others are answered."""
        sitting = self._sitting(person)
        if isinstance(sitting, Stranger):
            return sitting
        candidate, run, enrolment = sitting
        return self._move_on(candidate, run, enrolment, self._current(enrolment, run)[0], skipping=True)

    def edit(self, person: Person, message: IncomingMessage) -> Edited | EditProblem | NotKept | Stranger | None:
        """An edited message makes a new version of its answer; the old version is kept. None: not an answer."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        found = self.repo.answer_with_message(stored_id(candidate), message.chat_id, message.message_id)
        if found is None:
            return None
        answer, run, _ = found
        if run.question_set == DISCUSSION_RUN:
            return EditProblem.IN_DISCUSSION
        latest = self.repo.latest_answer(stored_id(run), answer.question_id)
        if latest is None or latest.id != answer.id:
            return EditProblem.OLD_VERSION
        if self._locked(answer):
            return EditProblem.LOCKED
        if self.limits.too_long(message.text):
            return self._too_long(message, reason="edit_too_long")
        copy = self._copy_answer(answer, edited=message)
        return Edited((answer.asked or {}).get("question") or answer.question_id, copy.version)

    def _too_long(self, message: IncomingMessage, prompt: Prompt | None = None, reason: str = "too_long") -> NotKept:
        """The refusal of a message over the character limit (asked only once `limits.too_long` said so)."""
        return NotKept(reason, self.limits.message_chars, len(message.text or ""), prompt)

    def _reply_to_assessor(self, candidate: Candidate, message: IncomingMessage) -> FollowUpReplied:
        question = self.repo.session.get(AssessorQuestion, candidate.awaited_question_id)
        assert question is not None, "the awaited question is a stored row"
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
        run = self.repo.session.get(QuestionRun, answer.run_id) if answer else None
        assert assessor is not None and run is not None, "foreign keys: the question's assessor and run exist"
        audit.record(self.repo.session, f"candidate:{candidate.id}", "replied", run.enrolment_id,
                     {"assessor_question_id": question.id}, self.now())
        reply = message.text or (f"[{message.attachment.kind.replace('_', ' ')}]" if message.attachment else "")
        return FollowUpReplied(assessor.chat_id, candidate.name, question.text, reply)

    # professional discussion
    def pd_choices(self, person: Person) -> list[PdChoice]:
        """Every PD case type of every unit the candidate is enrolled on, with how far they are."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return []
        return [choice for e in self.repo.enrolments(stored_id(candidate)) for choice in self.pd_choices_for(e)]

    def start_pd_case(self, person: Person, enrolment_id: int, case_id: str) -> Prompt | Refusal:
        """Begin (or return to) describing one real case; refuses a case or enrolment that is not the person's."""
        found = self._own_enrolment(person, enrolment_id)
        if found is None:
            return Refusal.NOT_YOURS
        candidate, enrolment = found
        case = self._bank(enrolment).pd_case(case_id)
        if case is None:
            return Refusal.UNKNOWN_CASE
        run = next((r for r in self.repo.runs(stored_id(enrolment)) if r.question_set == case.set_id), None)
        if run is None:
            run = self._start_run(enrolment, case.as_question_set())
        elif run.current_question_id is None:
            return Refusal.ALREADY_DONE
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def reminders(self, person: Person, paused: bool | None = None) -> bool | Stranger:
        """Whether the candidate's reminders are paused, after setting it when `paused` is given."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        if paused is not None and candidate.reminders_paused != paused:
            candidate.reminders_paused = paused
            self.repo.add(candidate)
        return candidate.reminders_paused

    # helpers
    def _sitting(self, person: Person) -> tuple[Candidate, QuestionRun, Enrolment] | Stranger:
        """The candidate and the sitting they are in, or why there is none."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        if candidate.declaring_enrolment_id is not None:
            return Stranger.DECLARING
        found = self._active(candidate)
        return Stranger.OUTSIDE_SITTING if found is None else (candidate, *found)

    def _copy_answer(self, answer: Answer, edited: IncomingMessage) -> Answer:
        copy = Answer(
            run_id=answer.run_id,
            question_id=answer.question_id,
            version=self.repo.next_version(answer.run_id, answer.question_id),
            status=answer.status,
            probes=answer.probes,
            started_at=answer.started_at,
            completed_at=answer.completed_at,
            asked=answer.asked,  # the same question, as it was asked then
            bank_version_id=answer.bank_version_id,
        )
        self.repo.add_answer(copy, self.repo.answer_criteria(stored_id(answer)))
        for part in self.repo.parts(stored_id(answer)):
            is_edited = part.chat_id == edited.chat_id and part.message_id == edited.message_id
            self.repo.session.add(
                AnswerPart(
                    answer_id=stored_id(copy),
                    seq=part.seq,
                    text=edited.text if is_edited else part.text,
                    attachment_id=part.attachment_id,
                    probe_number=part.probe_number,
                    forwarded_from=part.forwarded_from,
                    text_cleaned=edited.text_cleaned if is_edited else part.text_cleaned,
                    chat_id=part.chat_id,
                    message_id=part.message_id,
                    update_id=edited.update_id if is_edited else part.update_id,
                    sent_at=part.sent_at,
                    edited_at=edited.sent_at if is_edited else part.edited_at,
                )
            )
        self.repo.session.flush()
        return copy

    def _move_on(
        self, candidate: Candidate, run: QuestionRun, enrolment: Enrolment, question_set: QuestionSet, skipping: bool
    ) -> AnswerSaved:
        answered = self._answered(run)
        ids = [q.id for q in question_set.questions]
        assert run.current_question_id is not None, "moving on from a question the run is on"
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
            following_enrolment = self.repo.enrolment_by_id(following.enrolment_id) if following else None
            if following is not None and following_enrolment is not None:
                next_prompt = self._prompt(following_enrolment, following)
        new_cases = [c for c in self.pd_choices_for(enrolment) if c.state == "new"]
        return AnswerSaved(
            next_prompt=next_prompt,
            finished_set=question_set.title if finished else None,
            unit_title=self._bank(enrolment).unit.title,
            pd_cases_left=len(new_cases),
            skipped=skipping,
        )

