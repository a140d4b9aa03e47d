"""An assessor's caseload: unit decisions (sign-off by coverage, confirming near-match credit), the cohort,
deadlines, exports and staff invites."""

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import col, select

from bot.domain.assessment import DomainError, change_deadline
from bot.domain.assessor_work import AssessorWork, Denied, asked_text, sees_whole_centre
from bot.domain.coverage import ANSWERED, MET, MISSING, REFERRED, UnitCoverage, answer_ref, unit_coverage
from bot.domain.sittings import Person
from bot.storage.ids import stored, stored_id
from bot.storage.models import Assessor, Candidate, CreditConfirmation, Enrolment, StaffInvite


@dataclass(frozen=True)
class SignedOff:
    candidate_chat_id: int
    candidate: str
    unit_title: str
    outcome: str  # "competent", "not_yet" or "interim"
    referred: list[tuple[str, str]]  # (question, feedback) of answers judged "not yet"
    statement: str | None = None  # the unit's assessor statement, recorded with "competent"
    still_missing: list[str] = field(default_factory=list)  # with "interim": criteria and methods still to evidence


@dataclass(frozen=True)
class UnitNotComplete:
    """The unit cannot be signed off competent yet: what is missing, and partial credit awaiting confirmation.
    The assessor may record an interim decision instead."""

    submission_id: int
    enrolment_id: int
    candidate: str
    unit_code: str
    coverage: UnitCoverage


@dataclass(frozen=True)
class CreditConfirmed:
    enrolment_id: int
    target_ref: str
    answer_ref: str
    source: str  # "unit:ref" the answer was tagged to


@dataclass(frozen=True)
class CohortRow:
    enrolment_id: int
    candidate: str
    unit_code: str
    deadline: date
    met: int
    answered: int
    missing: int
    total: int
    waiting: int  # submitted answers not yet judged
    assessor_id: int
    assessor: str  # the assessor's name
    coverage: UnitCoverage = field(compare=False, repr=False)  # the counts above come from it; pages show it whole


DUE_SOON_DAYS = 7  # a deadline this close (or past), with criteria still missing, puts a candidate at risk


@dataclass(frozen=True)
class Pace:
    """How a candidate keeps up with a unit. At risk when inactive for the idle-reminder days, behind plan (a smaller
    share of the criteria met than of the time from enrolment to deadline gone), or due within DUE_SOON_DAYS (or
    late) with criteria missing. A unit signed off is not. The console and the assessor's digest both show this."""

    percent: int  # of the unit's criteria met
    inactive_days: int | None
    inactive: bool
    behind: bool
    due_soon: bool
    days_left: int

    @property
    def at_risk(self) -> bool:
        return self.inactive or self.behind or self.due_soon


def pace_of(row: CohortRow, enrolment: Enrolment, now: datetime, today: date, idle_days: int) -> Pace:
    """`today` is the centre's date (deadlines are dates in the centre's zone); `now` the instant, for inactivity."""
    last = enrolment.last_activity_at or enrolment.created_at
    start = enrolment.created_at.date() if enrolment.created_at else today
    elapsed = min(max((today - start).days / max((row.deadline - start).days, 1), 0.0), 1.0)
    done = row.met / row.total if row.total else 1.0
    finished = enrolment.status == "signed_off"
    days_left = (row.deadline - today).days
    return Pace(
        percent=round(100 * done),
        inactive_days=(now - last).days if last else None,
        inactive=not finished and last is not None and now - last >= timedelta(days=idle_days),
        behind=not finished and done < elapsed,
        due_soon=not finished and row.missing > 0 and days_left <= DUE_SOON_DAYS,
        days_left=days_left,
    )


class Caseload(AssessorWork):
    def sign_off(self, person: Person, submission_id: int, interim: bool = False) -> SignedOff | UnitNotComplete | Denied:
        """Record the assessor's decision on the unit once every answer of the submission is judged.

        "competent" only when every criterion of the unit is met (directly or by credited mapped evidence)
        and every method the unit makes mandatory is evidenced; "not_yet" when an answer was referred back;
        otherwise the unit is not complete, and only an interim decision (`interim=True`) can be recorded.
        """
        found = self._own_submission(person, submission_id)
        if isinstance(found, Denied):
            return found
        assessor, submission, enrolment, candidate = found
        if submission.signed_off_at is not None:
            return Denied.ALREADY_SIGNED_OFF
        answers = self._answers(submission)
        judgments = [self._judgment(a) for a in answers]
        if any(j is None for j in judgments):
            return Denied.NOT_ALL_JUDGED
        referred = [(asked_text(a), j.feedback or "") for a, j in zip(answers, judgments, strict=True) if j and j.outcome == "not_yet"]
        coverage = unit_coverage(self.repo.session, self.banks, enrolment)
        bank = self.banks.units[enrolment.unit_code]
        if referred:
            outcome, status = "not_yet", "referred"
        elif coverage.complete:
            outcome, status = "competent", "signed_off"
        elif interim:
            outcome, status = "interim", "active"  # the rest of the unit is still to come
        else:
            return UnitNotComplete(submission.id, enrolment.id, candidate.name, enrolment.unit_code, coverage)
        statement = bank.unit.declarations.assessor
        submission.signed_off_at, submission.signed_off_by_id = self.now(), assessor.id
        submission.outcome = outcome
        submission.assessor_statement = statement.text if statement and outcome == "competent" else None
        self.repo.add(submission)
        enrolment.status = status
        self.repo.add(enrolment)
        still_missing = _missing_lines(coverage) if outcome == "interim" else []
        self._audit(assessor, "signed_off", enrolment,
                    {"answers": [answer_ref(a) for a in answers], "outcome": outcome, "still_missing": still_missing})
        return SignedOff(candidate.chat_id, candidate.name, bank.unit.title, outcome, referred,
                         submission.assessor_statement, still_missing)

    def confirm_credit(self, person: Person, enrolment_id: int, answer_id: int, target_ref: str) -> CreditConfirmed | Denied:
        """Confirm that an answer from another unit evidences `target_ref` through a partial (near-match) group."""
        found = self._own_enrolment(person, enrolment_id)
        if isinstance(found, Denied):
            return found
        assessor, enrolment = found
        row = unit_coverage(self.repo.session, self.banks, enrolment).criterion(target_ref)
        waiting = next((item for item in (row.awaiting_confirmation if row else []) if item.answer_id == answer_id), None)
        if waiting is None:
            return Denied.NO_SUCH_CREDIT
        assert waiting.via is not None and waiting.group is not None, "awaiting confirmation: credited through a group"
        source_unit, _, source_ref = waiting.via.partition(":")
        self.repo.add(
            CreditConfirmation(
                enrolment_id=stored_id(enrolment),
                target_ref=target_ref,
                answer_id=answer_id,
                source_unit=source_unit,
                source_ref=source_ref,
                mapping_group=waiting.group,
                assessor_id=stored_id(assessor),
                confirmed_at=self.now(),
            )
        )
        self._audit(assessor, "confirmed_credit", enrolment,
                    {"criterion": target_ref, "answer": f"{waiting.unit_code} {waiting.ref}", "via": waiting.via,
                     "group": waiting.group})
        return CreditConfirmed(stored_id(enrolment), target_ref, waiting.ref, waiting.via)

    # the cohort
    def cohort(self, person: Person) -> list[CohortRow] | Denied:
        assessor = self.assessor(person)
        return Denied.NOT_AN_ASSESSOR if assessor is None else self.cohort_of(assessor)

    def cohort_of(self, assessor: Assessor) -> list[CohortRow]:
        """The assessor's own candidates, one row per enrolment."""
        return self._rows(col(Enrolment.assessor_id) == assessor.id)

    def at_risk(self, assessor: Assessor, idle_days: int, today: date) -> list[tuple[CohortRow, Pace]]:
        """The assessor's own candidates at risk (`Pace`), for the daily digest; `today` in the centre's zone."""
        paced = ((row, pace_of(row, stored(self.repo.session, Enrolment, row.enrolment_id), self.now(), today, idle_days))
                 for row in self.cohort_of(assessor))
        return [(row, pace) for row, pace in paced if pace.at_risk]

    def centre_cohort(self, assessor: Assessor) -> list[CohortRow]:
        """Every candidate the assessor may see (`sees_whole_centre`): an admin's centre, or their own."""
        return self._rows(None) if sees_whole_centre(assessor) else self.cohort_of(assessor)

    def row_for(self, person: Person, enrolment_id: int) -> CohortRow | Denied:
        """The cohort row of one enrolment the assessor may see."""
        found = self._viewable_enrolment(person, enrolment_id)
        return found if isinstance(found, Denied) else self._rows(col(Enrolment.id) == enrolment_id)[0]

    def _rows(self, which) -> list[CohortRow]:
        query = (
            select(Enrolment, Candidate, Assessor)
            .join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
            .join(Assessor, col(Enrolment.assessor_id) == col(Assessor.id))
            .order_by(col(Enrolment.deadline), col(Candidate.name))
        )
        rows = []
        for enrolment, candidate, assessor in self.repo.session.exec(query if which is None else query.where(which)).all():
            coverage = unit_coverage(self.repo.session, self.banks, enrolment)
            waiting = sum(
                self._judgment(a) is None
                for s in self.repo.submissions(stored_id(enrolment))
                if s.signed_off_at is None
                for a in self._answers(s)
            )
            rows.append(
                CohortRow(
                    stored_id(enrolment),
                    candidate.name,
                    enrolment.unit_code,
                    enrolment.deadline,
                    met=coverage.count(MET),
                    answered=coverage.count(ANSWERED) + coverage.count(REFERRED),
                    missing=coverage.count(MISSING),
                    total=len(coverage.criteria),
                    waiting=waiting,
                    assessor_id=stored_id(assessor),
                    assessor=assessor.name,
                    coverage=coverage,
                )
            )
        return rows

    def set_deadline(self, person: Person, enrolment_id: int, deadline: date) -> Enrolment | Denied:
        """Move an enrolment's deadline; reminders follow it, since they are computed from it."""
        found = self._own_enrolment(person, enrolment_id)
        if isinstance(found, Denied):
            return found
        assessor, enrolment = found
        try:
            return change_deadline(self.repo, enrolment, deadline, f"assessor:{assessor.id}", self.now())
        except DomainError:
            return Denied.DATE_IN_THE_PAST

    def request_export(self, person: Person, enrolment_id: int, formats: tuple[str, ...] = ("pdf",),
                       to: str = "telegram") -> tuple[int, str] | Denied:
        """(candidate's Telegram id, unit code) of an enrolment the assessor may see (their own, or as an admin the
        centre's), to export; recorded in the audit trail with the formats and where the records went."""
        found = self._viewable_enrolment(person, enrolment_id)
        if isinstance(found, Denied):
            return found
        assessor, enrolment = found
        candidate = stored(self.repo.session, Candidate, enrolment.candidate_id)
        self._audit(assessor, "exported", enrolment, {"formats": list(formats), "to": to})
        return candidate.telegram_user_id, enrolment.unit_code

    # staff
    def invite_assessor(self, person: Person) -> StaffInvite | Denied:
        """A one-use code (with when it stops working) with which a new assessor registers themselves."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        if assessor.role != "admin":
            return Denied.NOT_ADMIN
        invite = self.repo.add(StaffInvite(code=secrets.token_urlsafe(12), created_by_id=stored_id(assessor), created_at=self.now(),
                                           expires_at=self.limits.invite_expires_at(self.now())))
        self._audit(assessor, "invited_assessor", None, {"invite_id": invite.id})
        return invite

def _missing_lines(coverage: UnitCoverage) -> list[str]:
    return [f"{c.ref} ({c.status})" for c in coverage.missing] + [m.code for m in coverage.methods_missing]
