"""Review and submission: the candidate checks their finished answers, answers any again, and submits
them with the unit's declaration, which locks them for the assessor.

A submission may hold part of a unit: the unit then stays in progress (and its reminders go on) for
what is still to answer. Before signing, the candidate is told how much is unanswered and can go back;
while the declaration is in front of them, what they type is never filed into an answer.
"""

from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import records
from bot.domain.bank_schema import Statement
from bot.domain.candidate_work import CandidateWork, Person, Prompt, Refusal, Stranger, UnitProgress
from bot.domain.coverage import answer_ref
from bot.storage import audit
from bot.storage.ids import stored_id
from bot.storage.models import Answer, AnswerPart, Candidate, Enrolment, Submission
from bot.storage.repository import Repository

PREVIEW_LENGTH = 60


@dataclass(frozen=True)
class ReviewItem:
    answer_id: int
    question_ref: str  # the question's reference, e.g. "Q3": it names the question wherever it was answered from
    ref: str  # the answer's reference in the records, e.g. "Q3.v2"
    short: str  # the question in a few words
    question: str  # as it was asked
    criteria: list[str]
    version: int
    preview: str
    locked: bool
    feedback: str | None = None  # the assessor's reason, when they referred this answer back
    # False for a record other than an answer (a product, a discussion…): it is never answered again from the bank
    changeable: bool = True


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
    declaration_source: str  # "unit" or "centre"
    complete_declaration: str | None  # signed as well, since nothing of the unit is left to answer
    answers: int
    unanswered: int  # questions and cases of the unit not yet finished


@dataclass(frozen=True)
class Submitted:
    unit_title: str
    answers: int
    declared_at: datetime
    complete: bool
    unanswered: int


class Submissions(CandidateWork):
    def progress(self, person: Person) -> list[UnitProgress]:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return []
        return [self.unit_progress(enrolment) for enrolment in self.repo.enrolments(stored_id(candidate))]

    def review(self, person: Person, enrolment_id: int | None = None) -> Review | Refusal | Stranger:
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        enrolments = self.repo.enrolments(stored_id(candidate))
        enrolment = next((e for e in enrolments if e.id == enrolment_id), None) if enrolment_id else None
        if enrolment_id and enrolment is None:
            return Refusal.NOT_YOURS
        enrolment = enrolment or self._most_recent_enrolment(candidate, enrolments)
        items = []
        for answer, _ in self._finished_answers(enrolment):
            asked = answer.asked or {}
            question = asked.get("question") or answer.question_id
            items.append(
                ReviewItem(
                    answer_id=stored_id(answer),
                    question_ref=asked.get("ref", answer.question_id),
                    ref=answer_ref(answer),
                    short=asked.get("short") or question,
                    question=question,
                    criteria=[c["ref"] for c in asked.get("criteria", [])],
                    version=answer.version,
                    preview=_preview(self.repo.parts(stored_id(answer)), self.repo),
                    locked=self._locked(answer),
                    feedback=self._referral_feedback(answer),
                    changeable=not records.is_record(asked),
                )
            )
        return Review(stored_id(enrolment), enrolment.unit_code, self._bank(enrolment).unit.title, items)

    def reanswer(self, person: Person, answer_id: int) -> Prompt | Refusal:
        """Answer a question again: the next answer becomes its new version."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return Refusal.NOT_YOURS
        found = self.repo.answer_of_candidate(stored_id(candidate), answer_id)
        if found is None:
            return Refusal.NOT_YOURS
        answer, run, enrolment = found
        question_set = self._question_set(enrolment, run)
        if question_set is None or question_set.question(answer.question_id) is None:
            return Refusal.WITHDRAWN  # withdrawn from the bank: kept in the record, not asked again
        latest = self.repo.latest_answer(stored_id(run), answer.question_id)
        assert latest is not None, "the answer itself is a version of its question's answer"
        if self._locked(latest):
            return Refusal.LOCKED
        if latest.submission_id is not None:  # referred back by the assessor: the work is re-opened
            audit.record(self.repo.session, f"candidate:{candidate.id}", "reopened", stored_id(enrolment),
                         {"answer": answer_ref(latest)}, self.now())
        run.current_question_id, run.status, run.finished_at = answer.question_id, "in_progress", None
        candidate.declaring_enrolment_id = None
        self._sit(candidate, run)
        return self._prompt(enrolment, run)

    def ask_declaration(self, person: Person, enrolment_id: int) -> DeclarationAsked | Refusal:
        """Show the declaration, with how much of the unit is still unanswered; typing now files nothing."""
        found = self._submittable(person, enrolment_id)
        if isinstance(found, Refusal):
            return found
        candidate, enrolment, waiting = found
        candidate.declaring_enrolment_id = enrolment.id
        self.repo.add(candidate)
        signed, complete, unanswered = self._declarations_due(enrolment)
        return DeclarationAsked(
            stored_id(enrolment),
            self._bank(enrolment).unit.title,
            signed.text,
            signed.source,
            complete.text if complete else None,
            len(waiting),
            unanswered,
        )

    def cancel_declaration(self, person: Person) -> Review | Refusal | Stranger:
        """Put the declaration aside, nothing submitted, and go back to the answers."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        enrolment_id, candidate.declaring_enrolment_id = candidate.declaring_enrolment_id, None
        self.repo.add(candidate)
        return self.review(person, enrolment_id)

    def submit(self, person: Person, enrolment_id: int) -> Submitted | Refusal:
        """Record the declaration and lock every finished answer not yet submitted."""
        found = self._submittable(person, enrolment_id)
        if isinstance(found, Refusal):
            return found
        candidate, enrolment, waiting = found
        signed, complete_declaration, unanswered = self._declarations_due(enrolment)
        complete = unanswered == 0
        submission = self.repo.add(
            Submission(
                enrolment_id=stored_id(enrolment),
                declaration=signed.text,
                declaration_source=signed.source,
                complete_declaration=complete_declaration.text if complete_declaration else None,
                declared_by=candidate.name,
                declared_by_telegram_id=candidate.telegram_user_id,
                declared_at=self.now(),
            )
        )
        for answer in waiting:
            answer.submission_id = submission.id
            self.repo.add(answer)
        # Part of a unit leaves it in progress: reminders go on for what is still to answer.
        enrolment.status = "submitted" if complete else "active"
        self.repo.add(enrolment)
        candidate.declaring_enrolment_id = None
        self.repo.add(candidate)
        audit.record(self.repo.session, f"candidate:{candidate.id}", "submitted", enrolment.id,
                     {"answers": [answer_ref(a) for a in waiting], "complete": complete}, self.now())
        return Submitted(self._bank(enrolment).unit.title, len(waiting), submission.declared_at, complete, unanswered)

    # helpers
    def _declarations_due(self, enrolment: Enrolment) -> tuple[Statement, Statement | None, int]:
        """What the candidate signs now: the unit's declaration, and its "complete unit" one when nothing of
        the unit is left to answer; and how much is left."""
        declarations = self._bank(enrolment).unit.declarations
        unanswered = self.unit_progress(enrolment).unanswered
        return declarations.candidate, declarations.candidate_complete if unanswered == 0 else None, unanswered

    def _submittable(self, person: Person, enrolment_id: int) -> tuple[Candidate, Enrolment, list[Answer]] | Refusal:
        """The person's enrolment and its finished answers not yet submitted."""
        found = self._own_enrolment(person, enrolment_id)
        if found is None:
            return Refusal.NOT_YOURS
        candidate, enrolment = found
        waiting = [a for a, _ in self._finished_answers(enrolment) if a.submission_id is None]
        return (candidate, enrolment, waiting) if waiting else Refusal.NOTHING_TO_SUBMIT

    def _most_recent_enrolment(self, candidate: Candidate, enrolments) -> Enrolment:
        active = self._active(candidate)
        return active[1] if active else enrolments[-1]

    def _referral_feedback(self, answer: Answer) -> str | None:
        judgment = self.repo.latest_judgment(stored_id(answer)) if answer.submission_id else None
        return (judgment.feedback or "") if judgment and judgment.outcome == "not_yet" else None


def _preview(parts: list[AnswerPart], repo: Repository, length: int = PREVIEW_LENGTH) -> str:
    text = " ".join(p.text for p in parts if p.text).strip()
    files = [a.kind for p in parts if p.attachment_id and (a := repo.attachment(p.attachment_id))]
    if files and not text:
        text = ", ".join(f"[{kind.replace('_', ' ')}]" for kind in files)
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
