"""What recording a direct observation and countersigning it share: the method, the record, the problems, the helpers.

Direct observation: the assessor records, from their phone, what they see the candidate do, as it happens.

`/observe` starts one (an Observation row from the first tap, so nothing is held in memory): the assessor picks the
candidate, taps the criteria it covers, says where, then sends what they see, typed or as voice notes, each kept in
order with its time, and taps Finish. The record (one answer version, method "observation" in the unit's own code,
in the enrolment's "observation" run, its parts by the assessor) freezes the criteria with their words, the place and
the time. While an observation is being recorded, every message the assessor sends belongs to it and to nothing else.
That is `Observations` (bot/domain/observations.py).

The record is sent to the candidate, who countersigns it ("this is what I did"): that submits it (a submission of
kind "observation"), so it goes to the assessor's queue to be judged and counts in coverage. Or they dispute it.
That is `ObservationCountersignatures` (bot/domain/observation_countersignatures.py).
"""

from dataclasses import dataclass
from datetime import datetime

from bot.domain import records
from bot.domain.assessor_work import AssessorWork
from bot.domain.bank_schema import MethodKind, UnitBank
from bot.storage.ids import stored
from bot.storage.models import Candidate, Enrolment, Observation

OBSERVATION: MethodKind = "observation"


class ObservationProblem:
    """Why an observation step did nothing (plain strings: the template words each)."""

    NO_CANDIDATES = "no_candidates"  # none of the assessor's candidates is on a unit that uses observation
    NO_OBSERVATION_IN_UNIT = "no_observation_in_unit"
    BUSY = "busy"  # the assessor is already recording an observation, or holding a discussion
    NO_CRITERIA = "no_criteria"
    NOT_WAITING = "not_waiting"  # a button of a step already past
    NO_PLACE = "no_place"  # the place must be words
    NOTHING_SEEN = "nothing_seen"  # Finish with nothing recorded
    TOO_LONG = "too_long"
    FULL = "full"
    NOT_TO_SIGN = "not_to_sign"  # the record is not waiting for the candidate's countersignature


@dataclass(frozen=True)
class Problem:
    problem: str
    observation_id: int | None = None  # the observation still under way, for its buttons


@dataclass(frozen=True)
class ObservationRecord:
    observation_id: int
    ref: str
    unit_code: str
    candidate: str
    candidate_chat_id: int
    assessor: str
    assessor_chat_id: int | None
    place: str
    observed_at: datetime
    finished_at: datetime
    criteria: list[tuple[str, str]]
    lines: list[records.RecordLine]


class ObservationWork(AssessorWork):
    """What both sides look up: the observation's enrolment, its candidate, the unit's bank, its ref."""

    def _enrolment(self, observation: Observation) -> Enrolment:
        return stored(self.repo.session, Enrolment, observation.enrolment_id)

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]

    def _ref(self, observation: Observation, enrolment: Enrolment) -> str:
        return f"{self._bank(enrolment).method_code(OBSERVATION)}{observation.number}"
