"""Holding a professional discussion live (it was planned in bot/domain/discussion_plans.py).

From the assessor's start to its end, whatever either person sends is kept, in order, as a part of the discussion's
record (one answer version, method PD, in the enrolment's "discussion" run) with its time and author, and relayed
to the other. The assessor references criteria at the candidate's messages where they occur, notes things
privately (kept, never relayed), pauses, resumes and ends it. The record then freezes the criteria referenced, with
their words, and waits for the candidate to confirm it is a true record: that confirmation submits it (a submission
of kind "discussion"), so it counts in coverage with method PD and goes to the assessor's queue to be judged.
Everything is in the database: a restart in the middle loses nothing and the discussion carries on.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import AssessorWork, Denied
from bot.domain.bank_schema import UnitBank
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.discussion_plans import PD
from bot.domain.sittings import Sittings
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import (
    Answer,
    AnswerPart,
    Assessor,
    Candidate,
    Discussion,
    Enrolment,
)

HELD = ("live", "paused")
MAX_PARTS = 2000  # messages one discussion keeps (both people, notes included): far past any real one


class DiscussionProblem(StrEnum):
    NOT_PLANNED = "not_planned"  # only a planned discussion can start
    BUSY = "busy"  # the assessor or the candidate is already in a discussion
    PAUSED = "paused"
    TOO_LONG = "too_long"
    FULL = "full"
    NOT_ENDED = "not_ended"  # only an ended discussion's record can be confirmed


@dataclass(frozen=True)
class Started:
    discussion_id: int
    ref: str
    candidate: str
    candidate_chat_id: int
    assessor: str
    criteria: list[tuple[str, str]]


@dataclass(frozen=True)
class Relay:
    """A message to pass on: its copy goes to `to_chat_id`; when that is the assessor's, with the criteria to reference."""

    discussion_id: int
    part_id: int
    to_chat_id: int
    from_chat_id: int
    message_id: int
    author: str  # the sender's name
    text: str | None
    attachment_kind: str | None
    to_assessor: bool
    buttons: list[tuple[str, bool]]  # (ref, referenced on this message) for the assessor's copy


@dataclass(frozen=True)
class NoteKept:
    ref: str


@dataclass(frozen=True)
class Referenced:
    part_id: int
    ref: str
    already: bool
    buttons: list[tuple[str, bool]]


@dataclass(frozen=True)
class OtherCriteria:
    part_id: int
    refs: list[tuple[str, bool]]  # every criterion of the unit, and whether it is referenced on the message


@dataclass(frozen=True)
class Held:
    discussion_id: int
    ref: str
    paused: bool
    candidate_chat_id: int


@dataclass(frozen=True)
class DiscussionRecord:
    discussion_id: int
    ref: str
    unit_code: str
    candidate: str
    candidate_chat_id: int
    assessor: str
    assessor_chat_id: int | None
    started_at: datetime
    ended_at: datetime | None
    duration: timedelta
    planned: list[str]
    referenced: list[str]
    lines: list[records.RecordLine]

    def shown_to_candidate(self) -> list[records.RecordLine]:
        return [line for line in self.lines if not line.private]


@dataclass(frozen=True)
class Confirmed:
    ref: str
    candidate: str
    assessor_chat_id: int | None
    submission_id: int


@dataclass(frozen=True)
class Disputed:
    ref: str
    candidate: str
    assessor_chat_id: int | None


class Discussions(AssessorWork):
    # who is in one
    def held_for(self, person: Person) -> Discussion | None:
        """The discussion the person (its assessor or its candidate) is in now, live or paused."""
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None:
            found = self.repo.session.exec(
                select(Discussion).where(Discussion.assessor_id == assessor.id, col(Discussion.status).in_(HELD))
            ).first()
            if found is not None:
                return found
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return None
        return self.repo.session.exec(
            select(Discussion)
            .join(Enrolment, col(Discussion.enrolment_id) == col(Enrolment.id))
            .where(Enrolment.candidate_id == candidate.id, col(Discussion.status).in_(HELD))
        ).first()

    # starting, pausing, ending
    def start(self, person: Person, discussion_id: int) -> Started | DiscussionProblem | Denied:
        found = self._own(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        assessor, discussion, enrolment = found
        if discussion.status != "planned":
            return DiscussionProblem.NOT_PLANNED
        candidate = self._candidate(enrolment)
        if self.held_for(person) is not None or self.held_for(Person(candidate.telegram_user_id, candidate.chat_id, "")):
            return DiscussionProblem.BUSY
        bank = self._bank(enrolment)
        answer = records.new_record(self.repo, self.banks, enrolment, self._asked(discussion, enrolment, []), self.now())
        discussion.answer_id, discussion.status = answer.id, "live"
        self._event(discussion, "started")
        self._audit(assessor, "pd_started", enrolment, {"discussion": f"PD{discussion.number}"})
        return Started(stored_id(discussion), f"PD{discussion.number}", candidate.name, candidate.chat_id, assessor.name,
                       [(ref, spec.text) for ref in discussion.criteria if (spec := bank.criterion(ref))])

    def hold(self, person: Person, discussion_id: int, paused: bool) -> Held | DiscussionProblem | Denied:
        """Pause (nothing is relayed or kept meanwhile) or resume."""
        found = self._own(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        _, discussion, enrolment = found
        if discussion.status not in HELD:
            return DiscussionProblem.NOT_PLANNED
        if (discussion.status == "paused") != paused:
            discussion.status = "paused" if paused else "live"
            self._event(discussion, "paused" if paused else "resumed")
        return Held(stored_id(discussion), f"PD{discussion.number}", paused, self._candidate(enrolment).chat_id)

    def end(self, person: Person, discussion_id: int) -> DiscussionRecord | DiscussionProblem | Denied:
        """End it: the criteria referenced are frozen into the record, which waits for the candidate's confirmation."""
        found = self._own(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        assessor, discussion, enrolment = found
        if discussion.status not in HELD:
            return DiscussionProblem.NOT_PLANNED
        answer = self._answer(discussion)
        referenced = self._referenced(discussion, self._bank(enrolment))
        answer.asked = self._asked(discussion, enrolment, referenced)
        self.repo.add(answer)
        records.tag(self.repo, answer, enrolment.unit_code)
        discussion.status = "ended"
        self._event(discussion, "ended")
        self._audit(assessor, "pd_ended", enrolment, {"discussion": f"PD{discussion.number}", "referenced": referenced})
        return self.record(discussion)

    # messages
    def take(self, person: Person, message: IncomingMessage) -> Relay | DiscussionProblem | None:
        """A message from someone in a live discussion: kept and relayed. None: they are in no discussion."""
        discussion = self.held_for(person)
        if discussion is None:
            return None
        if discussion.status == "paused":
            return DiscussionProblem.PAUSED
        if self.limits.too_long(message.text):
            return DiscussionProblem.TOO_LONG
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        candidate, assessor = self._candidate(enrolment), stored(self.repo.session, Assessor, discussion.assessor_id)
        from_assessor = person.user_id == assessor.telegram_user_id
        part = self._keep(discussion, message, "assessor" if from_assessor else "candidate")
        if part is None:
            return DiscussionProblem.FULL
        to_chat = candidate.chat_id if from_assessor else assessor.chat_id or assessor.telegram_user_id
        return Relay(
            discussion_id=stored_id(discussion), part_id=stored_id(part), to_chat_id=to_chat,
            from_chat_id=message.chat_id, message_id=message.message_id,
            author=assessor.name if from_assessor else candidate.name, text=message.text,
            attachment_kind=message.attachment.kind if message.attachment else None, to_assessor=not from_assessor,
            buttons=[] if from_assessor else self._buttons(discussion, part),
        )

    def note(self, person: Person, text: str) -> NoteKept | DiscussionProblem | Denied:
        """The assessor's private note, kept in the record at this point and never relayed."""
        discussion = self.held_for(person)
        assessor = self.assessor(person)
        if discussion is None or assessor is None or discussion.assessor_id != assessor.id:
            return Denied.NOTHING_AWAITED
        if self.limits.too_long(text):
            return DiscussionProblem.TOO_LONG
        kept = self._keep(discussion, None, "assessor", note=text)
        return NoteKept(f"PD{discussion.number}") if kept else DiscussionProblem.FULL

    def reference(self, person: Person, part_id: int, ref: str) -> Referenced | DiscussionProblem | Denied:
        """The assessor taps a criterion on one of the candidate's messages: that point evidences it."""
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        discussion, part, bank = found
        if bank.criterion(ref) is None:
            return Denied.NOT_YOURS
        already = ref in _refs(part)
        if not already:
            part.referenced = [*part.referenced, {"ref": ref, "at": self.now().isoformat()}]
            self.repo.add(part)
        return Referenced(part_id, ref, already, self._buttons(discussion, part))

    def other_criteria(self, person: Person, part_id: int) -> OtherCriteria | DiscussionProblem | Denied:
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        _, part, bank = found
        return OtherCriteria(part_id, [(c.ref, c.ref in _refs(part)) for c in bank.criteria if c.part_of is None])

    def buttons_of(self, person: Person, part_id: int) -> Referenced | DiscussionProblem | Denied:
        """The plan's buttons on a message again (back from "other…")."""
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        discussion, part, _ = found
        return Referenced(part_id, "", False, self._buttons(discussion, part))

    # the record
    def record(self, discussion: Discussion) -> DiscussionRecord:
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        candidate, assessor = self._candidate(enrolment), stored(self.repo.session, Assessor, discussion.assessor_id)
        lines = records.record_lines(self.repo, stored_id(self._answer(discussion)), candidate.name, assessor.name)
        events = discussion.events
        started = _event_time(events, "started") or discussion.created_at
        return DiscussionRecord(
            discussion_id=stored_id(discussion), ref=f"PD{discussion.number}", unit_code=enrolment.unit_code,
            candidate=candidate.name, candidate_chat_id=candidate.chat_id, assessor=assessor.name,
            assessor_chat_id=assessor.chat_id, started_at=started, ended_at=_event_time(events, "ended"),
            duration=held_for(events, self.now()), planned=list(discussion.criteria),
            referenced=self._referenced(discussion, self._bank(enrolment)), lines=lines,
        )

    def confirm(self, person: Person, discussion_id: int, statement: str) -> Confirmed | DiscussionProblem | Denied:
        """The candidate confirms the record is true (in `statement`'s words): that submits it to be judged."""
        found = self._candidates(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        candidate, discussion, enrolment = found
        if discussion.status != "ended":
            return DiscussionProblem.NOT_ENDED
        submission = records.submit_alone(
            self.repo, enrolment, self._answer(discussion), kind=records.DISCUSSION, statement=statement,
            declared_by=candidate.name, telegram_user_id=candidate.telegram_user_id, now=self.now(),
        )
        discussion.status = "confirmed"
        self._event(discussion, "confirmed")
        self._audit_candidate(candidate, "pd_confirmed", enrolment, {"discussion": f"PD{discussion.number}"})
        assessor = stored(self.repo.session, Assessor, discussion.assessor_id)
        return Confirmed(f"PD{discussion.number}", candidate.name, assessor.chat_id, stored_id(submission))

    def dispute(self, person: Person, discussion_id: int) -> Disputed | DiscussionProblem | Denied:
        """The candidate says the record is not right: the assessor is told; the record waits, unconfirmed."""
        found = self._candidates(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        candidate, discussion, _ = found
        if discussion.status != "ended":
            return DiscussionProblem.NOT_ENDED
        self._event(discussion, "disputed")
        assessor = stored(self.repo.session, Assessor, discussion.assessor_id)
        return Disputed(f"PD{discussion.number}", candidate.name, assessor.chat_id)

    # helpers
    def _keep(self, discussion: Discussion, message: IncomingMessage | None, author: str, note: str | None = None):
        answer_id = stored_id(self._answer(discussion))
        parts = self.repo.parts(answer_id)
        if len(parts) >= MAX_PARTS:
            return None
        attachment = None
        if message is not None and message.attachment is not None:
            attachment = Sittings(self.repo, self.banks, self.now, self.limits).keep_attachment(message.attachment)
        return self.repo.add(AnswerPart(
            answer_id=answer_id, seq=len(parts) + 1, author=author, private=note is not None,
            text=note if note is not None else message.text if message else None,
            attachment_id=attachment.id if attachment else None,
            forwarded_from=message.forwarded_from.as_record() if message and message.forwarded_from else None,
            text_cleaned=bool(message and message.text_cleaned),
            chat_id=message.chat_id if message else 0, message_id=message.message_id if message else 0,
            update_id=message.update_id if message else None,
            sent_at=message.sent_at if message else self.now(), recorded_at=self.now(),
        ))

    def _buttons(self, discussion: Discussion, part: AnswerPart) -> list[tuple[str, bool]]:
        """The plan's criteria not yet referenced anywhere in the discussion, and those referenced on this message."""
        on_part = _refs(part)
        elsewhere = {ref for p in self.repo.parts(stored_id(self._answer(discussion))) if p.id != part.id for ref in _refs(p)}
        shown = [ref for ref in discussion.criteria if ref in on_part or ref not in elsewhere]
        shown += [ref for ref in on_part if ref not in shown]
        return [(ref, ref in on_part) for ref in shown]

    def _referenced(self, discussion: Discussion, bank: UnitBank) -> list[str]:
        """Every criterion referenced in the discussion, in the unit's order."""
        found = {ref for part in self.repo.parts(stored_id(self._answer(discussion))) for ref in _refs(part)}
        return [c.ref for c in bank.criteria if c.ref in found]

    def _asked(self, discussion: Discussion, enrolment: Enrolment, referenced: list[str]) -> dict[str, Any]:
        """The frozen copy of what the record evidences: the plan, and (once ended) the criteria referenced."""
        return records.frozen_copy(
            self.banks, enrolment.unit_code, kind=records.DISCUSSION, number=discussion.number,
            ref=f"PD{discussion.number}",
            method=PD, about=discussion.criteria, evidencing=referenced, planned=list(discussion.criteria),
        )

    def _answer(self, discussion: Discussion) -> Answer:
        return stored(self.repo.session, Answer, discussion.answer_id)

    def _event(self, discussion: Discussion, event: str) -> None:
        discussion.events = [*discussion.events, {"event": event, "at": self.now().isoformat()}]
        self.repo.add(discussion)

    def _own(self, person: Person, discussion_id: int) -> tuple[Assessor, Discussion, Enrolment] | Denied:
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        discussion = self.repo.session.get(Discussion, discussion_id)
        if discussion is None or discussion.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        return assessor, discussion, stored(self.repo.session, Enrolment, discussion.enrolment_id)

    def _own_part(self, person: Person, part_id: int) -> tuple[Discussion, AnswerPart, UnitBank] | DiscussionProblem | Denied:
        """A candidate's message in a discussion this assessor holds now; anyone else's press changes nothing."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        part = self.repo.session.get(AnswerPart, part_id)
        discussion = self.repo.session.exec(
            select(Discussion).where(Discussion.answer_id == (part.answer_id if part else -1))
        ).first()
        if part is None or discussion is None or discussion.assessor_id != assessor.id or part.author != "candidate":
            return Denied.NOT_YOURS
        if discussion.status not in HELD:
            return DiscussionProblem.NOT_PLANNED
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        return discussion, part, self._bank(enrolment)

    def _candidates(self, person: Person, discussion_id: int) -> tuple[Candidate, Discussion, Enrolment] | Denied:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        discussion = self.repo.session.get(Discussion, discussion_id)
        enrolment = self.repo.session.get(Enrolment, discussion.enrolment_id) if discussion else None
        if candidate is None or discussion is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return Denied.NOT_YOURS
        return candidate, discussion, enrolment

    def _audit_candidate(self, candidate: Candidate, action: str, enrolment: Enrolment, details: dict) -> None:
        audit.record(self.repo.session, f"candidate:{candidate.id}", action, enrolment.id, details, self.now())

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]


def _refs(part: AnswerPart) -> list[str]:
    return [item["ref"] for item in part.referenced or []]


def _event_time(events: list[dict], event: str) -> datetime | None:
    return next((datetime.fromisoformat(e["at"]) for e in events if e["event"] == event), None)


def held_for(events: list[dict], now: datetime) -> timedelta:
    """How long the discussion was live: from its start to its end, less its pauses."""
    total, since = timedelta(), None
    for event in events:
        at = datetime.fromisoformat(event["at"])
        if event["event"] in ("started", "resumed"):
            since = at
        elif event["event"] in ("paused", "ended") and since is not None:
            total, since = total + (at - since), None
    return total + (now - since if since is not None else timedelta())
