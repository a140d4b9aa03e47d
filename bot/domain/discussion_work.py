"""What holding a professional discussion and recording it share: the outcomes of each step, and its people and record."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain import records
from bot.domain.assessor_work import AssessorWork, Denied
from bot.domain.bank_schema import UnitBank
from bot.domain.candidate_work import Person
from bot.domain.discussion_plans import PD
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, AnswerPart, Assessor, Candidate, Discussion, Enrolment

HELD = ("live", "paused")


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


class DiscussionWork(AssessorWork):
    def _referenced(self, discussion: Discussion, bank: UnitBank) -> list[str]:
        """Every criterion referenced in the discussion, in the unit's order."""
        found = {ref for part in self.repo.parts(stored_id(self._answer(discussion))) for ref in referenced_on(part)}
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

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]


def referenced_on(part: AnswerPart) -> list[str]:
    return [item["ref"] for item in part.referenced or []]
