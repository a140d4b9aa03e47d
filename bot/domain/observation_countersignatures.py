"""The candidate's side of a direct observation: countersigning its record, which submits it, or disputing it."""

from dataclasses import dataclass

from bot.domain import records
from bot.domain.assessor_work import Denied
from bot.domain.candidate_work import Person
from bot.domain.observation_work import ObservationProblem, ObservationWork, Problem
from bot.domain.records import Disputed
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, Assessor, Candidate, Enrolment, Observation


@dataclass(frozen=True)
class Countersigned:
    ref: str
    candidate: str
    assessor_chat_id: int | None
    submission_id: int


class ObservationCountersignatures(ObservationWork):
    def countersign(self, person: Person, observation_id: int, statement: str) -> Countersigned | Problem | Denied:
        """The candidate countersigns the record (in `statement`'s words): that submits it to be judged."""
        found = self._candidates(person, observation_id)
        if not isinstance(found, tuple):
            return found
        candidate, observation, enrolment = found
        if observation.status != "awaiting_countersignature":
            return Problem(ObservationProblem.NOT_TO_SIGN)
        submission = records.submit_alone(
            self.repo, enrolment, stored(self.repo.session, Answer, observation.answer_id), kind=records.OBSERVATION,
            statement=statement, declared_by=candidate.name, telegram_user_id=candidate.telegram_user_id, now=self.now(),
        )
        observation.status, observation.countersigned_at = "countersigned", self.now()
        self.repo.add(observation)
        ref = self._ref(observation, enrolment)
        audit.record(self.repo.session, f"candidate:{candidate.id}", "observation_countersigned", enrolment.id,
                     {"observation": ref}, self.now())
        assessor = stored(self.repo.session, Assessor, observation.assessor_id)
        return Countersigned(ref, candidate.name, assessor.chat_id, stored_id(submission))

    def dispute(self, person: Person, observation_id: int) -> Disputed | Problem | Denied:
        """The candidate says the record is not what they did: the assessor is told; it waits, not countersigned."""
        found = self._candidates(person, observation_id)
        if not isinstance(found, tuple):
            return found
        candidate, observation, enrolment = found
        if observation.status != "awaiting_countersignature":
            return Problem(ObservationProblem.NOT_TO_SIGN)
        ref = self._ref(observation, enrolment)
        audit.record(self.repo.session, f"candidate:{candidate.id}", "observation_disputed", enrolment.id,
                     {"observation": ref}, self.now())
        assessor = stored(self.repo.session, Assessor, observation.assessor_id)
        return Disputed(ref, candidate.name, assessor.chat_id)

    # helpers
    def _candidates(self, person: Person, observation_id: int) -> tuple[Candidate, Observation, Enrolment] | Denied:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        observation = self.repo.session.get(Observation, observation_id)
        enrolment = self.repo.session.get(Enrolment, observation.enrolment_id) if observation else None
        if candidate is None or observation is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return Denied.NOT_YOURS
        return candidate, observation, enrolment
