"""Ending a professional discussion and its record: what the candidate is shown, and their confirmation or dispute."""

from datetime import datetime, timedelta

from bot.domain import records
from bot.domain.assessor_work import Denied
from bot.domain.candidate_work import Person
from bot.domain.discussion_work import (
    HELD,
    Confirmed,
    DiscussionProblem,
    DiscussionRecord,
    DiscussionWork,
)
from bot.domain.records import Disputed
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import Assessor, Candidate, Discussion, Enrolment


class DiscussionRecords(DiscussionWork):
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
    def _candidates(self, person: Person, discussion_id: int) -> tuple[Candidate, Discussion, Enrolment] | Denied:
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        discussion = self.repo.session.get(Discussion, discussion_id)
        enrolment = self.repo.session.get(Enrolment, discussion.enrolment_id) if discussion else None
        if candidate is None or discussion is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return Denied.NOT_YOURS
        return candidate, discussion, enrolment

    def _audit_candidate(self, candidate: Candidate, action: str, enrolment: Enrolment, details: dict) -> None:
        audit.record(self.repo.session, f"candidate:{candidate.id}", action, enrolment.id, details, self.now())


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
