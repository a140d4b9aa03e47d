"""Planning a professional discussion: the assessor picks a candidate, the criteria to cover (nvqbot lists the ones
still missing), and a time; both people are sent the plan, and reminded before it starts (bot/scheduling/reminders.py).

A plan is a Discussion row from the first tap ("draft"), so a plan half made survives a restart. Times are typed in
the assessor's time zone (the centre's) and shown to each person in their own.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from bot.domain.assessor_work import AssessorWork, Denied
from bot.domain.bank_schema import MethodKind, UnitBank
from bot.domain.candidate_work import Person
from bot.domain.coverage import unit_coverage
from bot.domain.records import CriterionChoice
from bot.storage.ids import stored, stored_id
from bot.storage.models import Assessor, Candidate, Discussion, Enrolment

PD: MethodKind = "professional_discussion"
AWAITING_TIME = "pd_time"  # Assessor.awaiting kind: their next message is the discussion's time
OPEN = ("planned", "live", "paused")  # a discussion still to hold, or being held


class PlanProblem(StrEnum):
    NO_PD_IN_UNIT = "no_pd_in_unit"
    NO_CRITERIA = "no_criteria"
    BAD_TIME = "bad_time"
    TIME_IN_PAST = "time_in_past"
    NOT_A_DRAFT = "not_a_draft"


@dataclass(frozen=True)
class PlanCandidate:
    enrolment_id: int
    candidate: str
    unit_code: str


@dataclass(frozen=True)
class Upcoming:
    discussion_id: int
    ref: str  # PD1…
    candidate: str
    unit_code: str
    planned_at: datetime
    status: str


@dataclass(frozen=True)
class Planning:
    """A plan being made: the criteria the assessor may choose (the unit's missing ones, and any chosen)."""

    discussion_id: int
    candidate: str
    unit_code: str
    choices: list[CriterionChoice]


@dataclass(frozen=True)
class TimeAsked:
    discussion_id: int
    candidate: str
    zone: str


@dataclass(frozen=True)
class Plan:
    """What both people are sent: who, when (each in their own zone), and what will be discussed."""

    discussion_id: int
    ref: str
    unit_code: str
    unit_title: str
    candidate: str
    candidate_chat_id: int
    candidate_time: datetime
    assessor: str
    assessor_chat_id: int | None
    assessor_time: datetime
    criteria: list[tuple[str, str]]  # (ref, words)


class DiscussionPlans(AssessorWork):
    def __init__(self, *args, zone: str = "Europe/London", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone  # the centre's: the assessor's times are typed and shown in it

    def choices(self, person: Person) -> tuple[list[PlanCandidate], list[Upcoming]] | Denied:
        """Whom the assessor can plan a discussion with, and the discussions planned or under way."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        rows = self.repo.caseload(stored_id(assessor))
        candidates = [
            PlanCandidate(stored_id(e), c.name, e.unit_code) for e, c in rows if PD in self._bank(e).evidence_methods.codes
        ]
        upcoming = self.repo.session.exec(
            select(Discussion, Enrolment, Candidate)
            .join(Enrolment, col(Discussion.enrolment_id) == col(Enrolment.id))
            .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
            .where(Discussion.assessor_id == assessor.id, col(Discussion.status).in_(OPEN))
            .order_by(col(Discussion.planned_at))
        ).all()
        return candidates, [
            Upcoming(stored_id(d), f"PD{d.number}", c.name, e.unit_code, d.planned_at, d.status)
            for d, e, c in upcoming
            if d.planned_at is not None
        ]

    def begin(self, person: Person, enrolment_id: int) -> Planning | PlanProblem | Denied:
        """Start a plan with one of the assessor's candidates (a draft, kept until it is planned or cancelled)."""
        found = self._own_enrolment(person, enrolment_id)
        if isinstance(found, Denied):
            return found
        assessor, enrolment = found
        if PD not in self._bank(enrolment).evidence_methods.codes:
            return PlanProblem.NO_PD_IN_UNIT
        number = self.repo.session.exec(
            select(func.max(Discussion.number)).where(Discussion.enrolment_id == enrolment_id)
        ).one()
        draft = self.repo.add(
            Discussion(enrolment_id=enrolment_id, assessor_id=stored_id(assessor), number=(number or 0) + 1,
                       criteria=[], created_at=self.now())
        )
        return self._planning(draft, enrolment)

    def toggle(self, person: Person, discussion_id: int, ref: str) -> Planning | PlanProblem | Denied:
        found = self._own_draft(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        _, draft, enrolment = found
        if self._bank(enrolment).criterion(ref) is None:
            return Denied.NOT_YOURS
        chosen = [r for r in draft.criteria if r != ref] if ref in draft.criteria else [*draft.criteria, ref]
        draft.criteria = chosen
        self.repo.add(draft)
        return self._planning(draft, enrolment)

    def ask_time(self, person: Person, discussion_id: int) -> TimeAsked | PlanProblem | Denied:
        """The criteria are chosen: the assessor's next message is the time."""
        found = self._own_draft(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        assessor, draft, enrolment = found
        if not draft.criteria:
            return PlanProblem.NO_CRITERIA
        assessor.awaiting = {"kind": AWAITING_TIME, "discussion_id": draft.id}
        self.repo.add(assessor)
        return TimeAsked(stored_id(draft), self._candidate(enrolment).name, self.zone)

    def awaiting_time(self, person: Person) -> bool:
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        return bool(assessor and assessor.awaiting and assessor.awaiting.get("kind") == AWAITING_TIME)

    def take_time(self, person: Person, text: str | None) -> Plan | PlanProblem | Denied:
        """The assessor typed when the discussion is: plan it (or say what was wrong with the time, and wait again)."""
        assessor = self.assessor(person)
        if assessor is None or not assessor.awaiting or assessor.awaiting.get("kind") != AWAITING_TIME:
            return Denied.NOTHING_AWAITED
        found = self._own_draft(person, assessor.awaiting["discussion_id"])
        if not isinstance(found, tuple):
            assessor.awaiting = None  # a stale wait must never swallow every later message
            self.repo.add(assessor)
            return found
        _, draft, enrolment = found
        when = parse_time(text or "", self.now(), ZoneInfo(self.zone))
        if when is None:
            return PlanProblem.BAD_TIME
        if when <= self.now():
            return PlanProblem.TIME_IN_PAST
        assessor.awaiting = None
        self.repo.add(assessor)
        draft.planned_at, draft.status = when, "planned"
        self.repo.add(draft)
        self._audit(assessor, "pd_planned", enrolment,
                    {"discussion": f"PD{draft.number}", "at": when.isoformat(), "criteria": draft.criteria})
        return self.plan(draft)

    def cancel(self, person: Person, discussion_id: int) -> Discussion | Denied:
        """Cancel a plan not yet started (a draft, or planned)."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        discussion = self.repo.session.get(Discussion, discussion_id)
        if discussion is None or discussion.assessor_id != assessor.id or discussion.status not in ("draft", "planned"):
            return Denied.NOT_YOURS
        discussion.status = "cancelled"
        self.repo.add(discussion)
        if assessor.awaiting and assessor.awaiting.get("discussion_id") == discussion_id:
            assessor.awaiting = None
            self.repo.add(assessor)
        return discussion

    def plan(self, discussion: Discussion) -> Plan:
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        candidate, assessor = self._candidate(enrolment), stored(self.repo.session, Assessor, discussion.assessor_id)
        bank = self._bank(enrolment)
        when = discussion.planned_at
        assert when is not None, "a planned discussion has its time"
        return Plan(
            discussion_id=stored_id(discussion),
            ref=f"PD{discussion.number}",
            unit_code=enrolment.unit_code,
            unit_title=bank.unit.title,
            candidate=candidate.name,
            candidate_chat_id=candidate.chat_id,
            candidate_time=when.astimezone(ZoneInfo(candidate.timezone or self.zone)),
            assessor=assessor.name,
            assessor_chat_id=assessor.chat_id,
            assessor_time=when.astimezone(ZoneInfo(self.zone)),
            criteria=[(ref, spec.text) for ref in discussion.criteria if (spec := bank.criterion(ref))],
        )

    # helpers
    def _planning(self, draft: Discussion, enrolment: Enrolment) -> Planning:
        coverage = unit_coverage(self.repo.session, self.banks, enrolment)
        offered = [row.ref for row in coverage.missing]
        offered += [ref for ref in draft.criteria if ref not in offered]
        bank = self._bank(enrolment)
        return Planning(
            stored_id(draft),
            self._candidate(enrolment).name,
            enrolment.unit_code,
            [CriterionChoice(ref, spec.text, ref in draft.criteria) for ref in offered if (spec := bank.criterion(ref))],
        )

    def _own_draft(self, person: Person, discussion_id: int) -> tuple[Assessor, Discussion, Enrolment] | PlanProblem | Denied:
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        draft = self.repo.session.get(Discussion, discussion_id)
        if draft is None or draft.assessor_id != assessor.id:
            return Denied.NOT_YOURS
        if draft.status != "draft":
            return PlanProblem.NOT_A_DRAFT
        return assessor, draft, stored(self.repo.session, Enrolment, draft.enrolment_id)

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]


_CLOCK = r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})"
_FORMS = [
    re.compile(rf"^(?P<year>\d{{4}})-(?P<month>\d{{1,2}})-(?P<day>\d{{1,2}})[ T]+{_CLOCK}$"),
    re.compile(rf"^(?P<day>\d{{1,2}})/(?P<month>\d{{1,2}})(?:/(?P<year>\d{{4}}))?\s+{_CLOCK}$"),
    re.compile(rf"^(?P<word>today|tomorrow)\s+(?:at\s+)?{_CLOCK}$"),
    re.compile(rf"^{_CLOCK}$"),
]


def parse_time(text: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """A time as an assessor types it, in their zone: "2026-12-04 14:30", "4/12 14:30", "4/12/2026 9.00",
    "tomorrow 14:30", "today 16:00" or "16:00" (today). None if it is none of those, or no such time."""
    words = " ".join(text.strip().lower().split())
    local_today = now.astimezone(zone).date()
    for form in _FORMS:
        match = form.match(words)
        if not match:
            continue
        parts = match.groupdict()
        try:
            if parts.get("day"):
                day = date(int(parts["year"] or local_today.year), int(parts["month"]), int(parts["day"]))
            else:
                day = local_today + timedelta(days=1 if parts.get("word") == "tomorrow" else 0)
            clock = time(int(parts["hour"]), int(parts["minute"]))
        except ValueError:
            return None
        return datetime.combine(day, clock, tzinfo=zone)
    return None
