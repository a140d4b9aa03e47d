"""Judging answers: the review queue, met / not yet with feedback, and follow-up questions to the candidate."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import AssessorWork, Denied, asked_text
from bot.domain.coverage import answer_ref
from bot.domain.privacy import PersonalDetail, personal_details
from bot.domain.records import RecordLine
from bot.domain.sittings import IncomingAttachment, Person, Sittings
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, Assessor, AssessorQuestion, Attachment, Candidate, Judgment

__all__ = ["Denied", "Judging"]


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
    probes: list[tuple[str, str | None]]  # each probe asked, with the candidate's reply to it
    attachments: list[str]
    questions: list[AssessorQuestion]
    judgment: Judgment | None
    privacy_flags: list[PersonalDetail]  # advice: the answer may name a person, a phone number or an e-mail
    forwarded: list[tuple[str | None, str]]  # messages the candidate forwarded (not their words): (from, text)
    # A professional discussion or an observation, part by part: who said it, what, the criteria referenced at it.
    discussion: list[RecordLine] = field(default_factory=list)
    witness: dict | None = None  # witness testimony: who gave it (name, job role, relationship to the candidate)


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


class Judging(AssessorWork):
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
        _, submission, enrolment, candidate = found
        answers = self._answers(submission)
        pending = [a for a in answers if self._judgment(a) is None]
        if after_answer is not None:
            ids = [a.id for a in answers]
            later = ids[ids.index(after_answer) + 1 :] if after_answer in ids else []
            pending = [a for a in answers if a.id in later and self._judgment(a) is None] or pending
        if not pending:
            outcomes = [j.outcome for a in answers if (j := self._judgment(a)) is not None]  # none is pending
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
        """What the assessor's next message is for, if it is feedback or a follow-up question."""
        assessor = self.assessor(person)
        awaiting = assessor.awaiting if assessor else None
        return awaiting if awaiting and awaiting.get("kind") in ("feedback", "question") else None

    def take_text(
        self, person: Person, text: str | None, voice: IncomingAttachment | None = None
    ) -> tuple[str, Judgment | Asked | Denied]:
        """The assessor's message (typed, or a voice note for feedback), as what they were asked for."""
        assessor = self.assessor(person)
        awaiting = self.awaited(person)
        if assessor is None or awaiting is None:
            return "none", Denied.NOTHING_AWAITED
        kind, answer_id = awaiting["kind"], awaiting["answer_id"]
        # Whatever comes of it (even a refusal: the submission was signed off meanwhile), this message was the
        # awaited one, so the next is not: a stale wait must never swallow every later message.
        assessor.awaiting = None
        self.repo.add(assessor)
        if kind == "feedback":
            attachment = Sittings(self.repo, self.banks, self.now).keep_attachment(voice) if voice else None
            feedback = text or ("[voice note]" if attachment else None)
            return kind, self.judge(person, answer_id, "not_yet", feedback, attachment.id if attachment else None)
        return kind, self.ask(person, answer_id, text or "")

    def ask(self, person: Person, answer_id: int, text: str) -> Asked | Denied:
        found = self._own_answer(person, answer_id)
        if isinstance(found, Denied):
            return found
        assessor, answer, _, enrolment = found
        question = self.repo.add(AssessorQuestion(answer_id=answer.id, assessor_id=assessor.id, text=text, asked_at=self.now()))
        candidate = stored(self.repo.session, Candidate, enrolment.candidate_id)
        candidate.awaited_question_id = question.id
        self.repo.add(candidate)
        assessor.awaiting = None
        self.repo.add(assessor)
        self._audit(assessor, "asked", enrolment, {"answer": answer_ref(answer), "question": text})
        bank_question = asked_text(answer)
        return Asked(candidate.chat_id, candidate.name, text, bank_question)

    def _to_judge(self, answer: Answer, answers: list[Answer], submission, enrolment, candidate) -> AnswerToJudge:
        asked = answer.asked or {}
        parts = self.repo.parts(stored_id(answer))
        attachments = []
        for part in parts:
            if part.attachment_id:
                file = stored(self.repo.session, Attachment, part.attachment_id)
                attachments.append(f"{file.kind} {file.duration or ''}s sha256:{(file.sha256 or 'pending')[:16]}…")
        questions = list(
            self.repo.session.exec(select(AssessorQuestion).where(col(AssessorQuestion.answer_id) == answer.id).order_by(col(AssessorQuestion.id)))
        )
        own = [p for p in parts if not p.forwarded_from and p.author in ("candidate", "witness")]  # a witness's statement
        text = " ".join(p.text for p in own if p.text and p.probe_number is None)
        probes = [
            (probe["text"], " ".join(p.text for p in own if p.text and p.probe_number == number) or None)
            for number, probe in enumerate(answer.probes, 1)
        ]
        forwarded = [(p.forwarded_from.get("name"), p.text or "") for p in parts if p.forwarded_from]
        return AnswerToJudge(
            answer_id=stored_id(answer),
            submission_id=submission.id,
            candidate=candidate.name,
            unit_code=enrolment.unit_code,
            number=[a.id for a in answers].index(answer.id) + 1,
            total=len(answers),
            ref=answer_ref(answer),
            method=asked.get("method_code", ""),
            question=asked_text(answer),
            criteria=[c["ref"] for c in asked.get("criteria", [])],
            look_fors=asked.get("look_fors", []),
            text=text,
            probes=probes,
            attachments=attachments,
            questions=questions,
            judgment=self._judgment(answer),
            privacy_flags=personal_details(
                " ".join(filter(None, [text, *(reply for _, reply in probes), *(words for _, words in forwarded)]))
            ),
            forwarded=forwarded,
            discussion=self._record_lines(answer, asked, candidate),
            witness=asked.get("witness"),
        )


    def _record_lines(self, answer: Answer, asked: dict, candidate: Candidate) -> list[RecordLine]:
        """A discussion's or an observation's parts as the assessor reads them back (their own marked as theirs)."""
        if asked.get("set_kind") not in (records.DISCUSSION, records.OBSERVATION):
            return []
        return records.record_lines(self.repo, stored_id(answer), candidate.name, "")
