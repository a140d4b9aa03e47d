"""Recording a direct observation: the candidate, criteria and place the assessor picks, what they see, and Finish.

Countersigning the record is in bot/domain/observation_countersignatures.py; what both share, in
bot/domain/observation_work.py.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import Denied
from bot.domain.bank_schema import UnitBank
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.discussions import Discussions
from bot.domain.observation_countersignatures import ObservationCountersignatures
from bot.domain.observation_work import OBSERVATION, ObservationProblem, ObservationRecord, Problem
from bot.domain.records import CriterionChoice
from bot.domain.sittings import Sittings
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, AnswerPart, Assessor, Enrolment, Observation

TAKING = ("placing", "recording")  # the assessor's next messages belong to the observation
UNFINISHED = ("choosing", *TAKING)
OFFERED_KINDS = ("performance", "range")
MAX_PARTS = 500  # messages one observation keeps: far past any real one


@dataclass(frozen=True)
class CandidateChoice:
    enrolment_id: int
    candidate: str
    unit_code: str


@dataclass(frozen=True)
class ObserveChoices:
    candidates: list[CandidateChoice]
    unfinished: "Unfinished | None"


@dataclass(frozen=True)
class Unfinished:
    observation_id: int
    ref: str
    candidate: str
    status: str


@dataclass(frozen=True)
class Choosing:
    observation_id: int
    ref: str  # e.g. "DO1": the unit's code for observation, and its number
    candidate: str
    unit_code: str
    choices: list[CriterionChoice]


@dataclass(frozen=True)
class PlaceAsked:
    observation_id: int
    ref: str
    candidate: str


@dataclass(frozen=True)
class Recording:
    observation_id: int
    ref: str
    candidate: str
    unit_code: str
    place: str
    observed_at: datetime
    criteria: list[tuple[str, str]]


@dataclass(frozen=True)
class SeenKept:
    observation_id: int
    ref: str
    count: int  # messages kept so far
    kind: str | None  # the attachment's kind, if a file


@dataclass(frozen=True)
class ObservationCancelled:
    ref: str


class Observations(ObservationCountersignatures):
    def choices(self, person: Person) -> ObserveChoices | Denied:
        """The assessor's candidates on units that use direct observation, and any observation not finished."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        rows = self.repo.caseload(stored_id(assessor))
        candidates = [CandidateChoice(stored_id(e), c.name, e.unit_code) for e, c in rows
                      if OBSERVATION in self._bank(e).evidence_methods.codes]
        unfinished = self._unfinished(assessor)
        shown = None
        if unfinished is not None:
            enrolment = self._enrolment(unfinished)
            shown = Unfinished(stored_id(unfinished), self._ref(unfinished, enrolment), self._candidate(enrolment).name,
                               unfinished.status)
        return ObserveChoices(candidates, shown)

    def begin(self, person: Person, enrolment_id: int) -> Choosing | Problem | Denied:
        found = self._own_enrolment(person, enrolment_id)
        if isinstance(found, Denied):
            return found
        assessor, enrolment = found
        if OBSERVATION not in self._bank(enrolment).evidence_methods.codes:
            return Problem(ObservationProblem.NO_OBSERVATION_IN_UNIT)
        unfinished = self._unfinished(assessor)
        if unfinished is not None:
            if unfinished.status != "choosing":
                return Problem(ObservationProblem.BUSY, unfinished.id)
            unfinished.status = "cancelled"  # a choice of criteria left half made is put aside
            self.repo.add(unfinished)
        if Discussions(self.repo, self.banks, self.now, self.limits).held_for(person) is not None:
            return Problem(ObservationProblem.BUSY)
        number = self.repo.session.exec(
            select(func.max(Observation.number)).where(Observation.enrolment_id == enrolment_id)
        ).one()
        observation = self.repo.add(Observation(
            enrolment_id=enrolment_id, assessor_id=stored_id(assessor), number=(number or 0) + 1, criteria=[],
            status="choosing", observed_at=self.now(), created_at=self.now(),
        ))
        return self._choosing(observation, enrolment)

    def toggle(self, person: Person, observation_id: int, ref: str) -> Choosing | Problem | Denied:
        found = self._own(person, observation_id, "choosing")
        if not isinstance(found, tuple):
            return found
        _, observation, enrolment = found
        if ref not in {c.ref for c in _offered(self._bank(enrolment))}:
            return Denied.NOT_YOURS
        chosen = observation.criteria
        observation.criteria = [r for r in chosen if r != ref] if ref in chosen else [*chosen, ref]
        self.repo.add(observation)
        return self._choosing(observation, enrolment)

    def ask_place(self, person: Person, observation_id: int) -> PlaceAsked | Problem | Denied:
        """The criteria are chosen: the assessor's next message says where."""
        found = self._own(person, observation_id, "choosing")
        if not isinstance(found, tuple):
            return found
        _, observation, enrolment = found
        if not observation.criteria:
            return Problem(ObservationProblem.NO_CRITERIA, observation_id)
        observation.status = "placing"
        self.repo.add(observation)
        return PlaceAsked(observation_id, self._ref(observation, enrolment), self._candidate(enrolment).name)

    def taking(self, person: Person) -> bool:
        """Whether the person's next message belongs to an observation they are recording."""
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        observation = self._unfinished(assessor) if assessor else None
        return observation is not None and observation.status in TAKING

    def take(self, person: Person, message: IncomingMessage) -> Recording | SeenKept | Problem | None:
        """A message from an assessor recording an observation: where it is, then what they see. None: no
        observation is waiting for the assessor's messages."""
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        observation = self._unfinished(assessor) if assessor else None
        if assessor is None or observation is None or observation.status not in TAKING:
            return None
        if self.limits.too_long(message.text):
            return Problem(ObservationProblem.TOO_LONG, observation.id)
        enrolment = self._enrolment(observation)
        if observation.status == "placing":
            place = " ".join((message.text or "").split())
            if not place or message.attachment is not None:
                return Problem(ObservationProblem.NO_PLACE, observation.id)
            return self._start(assessor, observation, enrolment, place)
        answer = stored(self.repo.session, Answer, observation.answer_id)
        parts = self.repo.parts(stored_id(answer))
        if len(parts) >= MAX_PARTS:
            return Problem(ObservationProblem.FULL, observation.id)
        attachment = None
        if message.attachment is not None:
            attachment = Sittings(self.repo, self.banks, self.now, self.limits).keep_attachment(message.attachment)
        self.repo.add(AnswerPart(
            answer_id=stored_id(answer), seq=len(parts) + 1, author="assessor", text=message.text,
            attachment_id=attachment.id if attachment else None,
            forwarded_from=message.forwarded_from.as_record() if message.forwarded_from else None,
            text_cleaned=message.text_cleaned, chat_id=message.chat_id, message_id=message.message_id,
            update_id=message.update_id, sent_at=message.sent_at, recorded_at=self.now(),
        ))
        return SeenKept(stored_id(observation), self._ref(observation, enrolment), len(parts) + 1,
                        attachment.kind if attachment else None)

    def finish(self, person: Person, observation_id: int) -> ObservationRecord | Problem | Denied:
        """Finish recording: the record freezes and is sent to the candidate to countersign."""
        found = self._own(person, observation_id, "recording")
        if not isinstance(found, tuple):
            return found
        assessor, observation, enrolment = found
        answer = stored(self.repo.session, Answer, observation.answer_id)
        if not self.repo.parts(stored_id(answer)):
            return Problem(ObservationProblem.NOTHING_SEEN, observation_id)
        answer.asked = self._asked(observation, enrolment, finished_at=self.now())
        self.repo.add(answer)
        records.tag(self.repo, answer, enrolment.unit_code)
        observation.status = "awaiting_countersignature"
        self.repo.add(observation)
        self._audit(assessor, "observation_recorded", enrolment,
                    {"observation": self._ref(observation, enrolment), "criteria": list(observation.criteria)})
        return self.record(observation)

    def cancel(self, person: Person, observation_id: int) -> ObservationCancelled | Problem | Denied:
        found = self._own(person, observation_id, *UNFINISHED)
        if not isinstance(found, tuple):
            return found
        _, observation, enrolment = found
        observation.status = "cancelled"
        self.repo.add(observation)
        if observation.answer_id is not None:  # what was recorded stays in the database, out of the record
            answer = stored(self.repo.session, Answer, observation.answer_id)
            answer.status = "retired"
            self.repo.add(answer)
        return ObservationCancelled(self._ref(observation, enrolment))

    def record(self, observation: Observation) -> ObservationRecord:
        enrolment = self._enrolment(observation)
        candidate, assessor = self._candidate(enrolment), stored(self.repo.session, Assessor, observation.assessor_id)
        answer = stored(self.repo.session, Answer, observation.answer_id)
        lines = records.record_lines(self.repo, stored_id(answer), candidate.name, assessor.name)
        asked = answer.asked or {}
        finished = asked.get("finished_at")
        return ObservationRecord(
            observation_id=stored_id(observation), ref=self._ref(observation, enrolment), unit_code=enrolment.unit_code,
            candidate=candidate.name, candidate_chat_id=candidate.chat_id, assessor=assessor.name,
            assessor_chat_id=assessor.chat_id, place=observation.place or "", observed_at=observation.observed_at,
            finished_at=datetime.fromisoformat(finished) if finished else self.now(),
            criteria=[(c["ref"], c["text"]) for c in asked.get("criteria", [])], lines=lines,
        )

    # helpers
    def _start(self, assessor: Assessor, observation: Observation, enrolment: Enrolment, place: str) -> Recording:
        bank = self._bank(enrolment)
        observation.place, observation.observed_at, observation.status = place, self.now(), "recording"
        ref = self._ref(observation, enrolment)
        answer = records.new_record(self.repo, self.banks, enrolment, self._asked(observation, enrolment), self.now())
        observation.answer_id = answer.id  # "pending" (no sitting's draft) until the candidate countersigns it
        self.repo.add(observation)
        self._audit(assessor, "observation_started", enrolment, {"observation": ref, "place": place})
        return Recording(stored_id(observation), ref, self._candidate(enrolment).name, enrolment.unit_code, place,
                         observation.observed_at, [(r, spec.text) for r in observation.criteria if (spec := bank.criterion(r))])

    def _asked(self, observation: Observation, enrolment: Enrolment, finished_at: datetime | None = None) -> dict[str, Any]:
        """The frozen copy of what the record evidences: the criteria with their words now, where and when."""
        return records.frozen_copy(
            self.banks, enrolment.unit_code, kind=records.OBSERVATION, number=observation.number,
            ref=self._ref(observation, enrolment), method=OBSERVATION,
            about=observation.criteria, evidencing=observation.criteria, place=observation.place,
            observed_at=observation.observed_at.isoformat(), finished_at=finished_at.isoformat() if finished_at else None,
        )

    def _choosing(self, observation: Observation, enrolment: Enrolment) -> Choosing:
        bank = self._bank(enrolment)
        return Choosing(stored_id(observation), self._ref(observation, enrolment), self._candidate(enrolment).name,
                        enrolment.unit_code,
                        [CriterionChoice(c.ref, c.text, c.ref in observation.criteria) for c in _offered(bank)])

    def _unfinished(self, assessor: Assessor) -> Observation | None:
        return self.repo.session.exec(
            select(Observation)
            .where(Observation.assessor_id == assessor.id, col(Observation.status).in_(UNFINISHED))
            .order_by(col(Observation.id).desc())
        ).first()

    def _own(self, person: Person, observation_id: int, *statuses: str) -> tuple[Assessor, Observation, Enrolment] | Problem | Denied:
        """The assessor's own observation in one of `statuses`; anyone else's press changes nothing."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        observation = self.repo.session.get(Observation, observation_id)
        if observation is None or observation.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        if observation.status not in statuses:
            return Problem(ObservationProblem.NOT_WAITING)
        return assessor, observation, self._enrolment(observation)


def _offered(bank: UnitBank):
    return [c for c in bank.criteria if c.kind in OFFERED_KINDS and c.part_of is None]
