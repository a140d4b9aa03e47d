"""What the console's pages show, read through the same domain classes the Telegram handlers use.

Nothing here decides a rule: access is the domain's (an enrolment is shown only if the assessor may see it,
`Caseload.centre_cohort` and `Caseload.row_for`; only its own assessor may judge it), statuses are coverage's
(`unit_coverage`, which each cohort row carries), the record is the documents' own (`evidence_for`). This module only arranges them for a page: grouping, filtering, sorting, days left.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import col, select

from bot.domain.assessor_work import sees_whole_centre
from bot.domain.caseload import DUE_SOON_DAYS, CohortRow, Pace, pace_of
from bot.domain.coverage import ANSWERED, MET, MISSING, REFERRED, answer_ref
from bot.domain.evidence import evidence_for
from bot.domain.judging import AllJudged
from bot.domain.sittings import Person
from bot.storage.ids import stored
from bot.storage.models import Answer, Assessor, Candidate, Enrolment, QuestionRun
from bot.telegram.work import Work

STATUSES = (MET, ANSWERED, REFERRED, MISSING)
SORTS = ("deadline", "name", "progress", "waiting", "risk")


def person_for(assessor: Assessor) -> Person:
    """The assessor as the domain knows them (their private chat is their user id when none is recorded)."""
    return Person(assessor.telegram_user_id, assessor.chat_id or assessor.telegram_user_id, assessor.name)


@dataclass(frozen=True)
class Cell:
    ref: str
    text: str
    status: str
    mapped: bool  # the status comes from credited (mapped) evidence from another unit, not this unit's own


@dataclass(frozen=True)
class DashboardRow:
    row: CohortRow
    cells: list[Cell]
    pace: Pace

    @property
    def at_risk(self) -> bool:
        return self.pace.at_risk


@dataclass
class UnitTable:
    unit_code: str
    criteria: list[tuple[str, str]]  # (ref, text): the columns
    rows: list[DashboardRow] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    unit: str | None = None
    status: str | None = None
    assessor: int | None = None  # an admin's choice of one assessor's candidates
    risk: bool = False
    sort: str = "deadline"
    descending: bool = False

    @classmethod
    def from_query(cls, query) -> "Filters":
        status = query.get("status") or None
        sort = query.get("sort") or "deadline"
        assessor = query.get("assessor") or ""
        return cls(
            unit=query.get("unit") or None,
            status=status if status in STATUSES else None,
            assessor=int(assessor) if assessor.isdigit() else None,
            risk=query.get("risk") == "1",
            sort=sort if sort in SORTS else "deadline",
            descending=query.get("order") == "desc",
        )


def dashboard(work: Work, assessor: Assessor, filters: Filters, idle_days: int, today: date) -> dict[str, Any]:
    now = work.now()
    tables: dict[str, UnitTable] = {}
    units: set[str] = set()
    assessors: dict[int, str] = {}
    for row in work.caseload.centre_cohort(assessor):
        units.add(row.unit_code)
        assessors[row.assessor_id] = row.assessor
        enrolment = stored(work.session, Enrolment, row.enrolment_id)
        coverage = row.coverage
        cells = [
            Cell(c.ref, c.text, c.status, mapped=c.status != MISSING and not any(e.counts for e in c.evidence)
                 and any(e.counts for e in c.credited))
            for c in coverage.criteria
        ]
        dashboard_row = DashboardRow(row, cells, pace_of(row, enrolment, now, today, idle_days))
        if filters.unit and row.unit_code != filters.unit:
            continue
        if filters.assessor and row.assessor_id != filters.assessor:
            continue
        if filters.status and not any(cell.status == filters.status for cell in cells):
            continue
        if filters.risk and not dashboard_row.at_risk:
            continue
        table = tables.setdefault(row.unit_code, UnitTable(row.unit_code, [(c.ref, c.text) for c in coverage.criteria]))
        table.rows.append(dashboard_row)
    keys = {
        "deadline": lambda r: (r.row.deadline, r.row.candidate),
        "name": lambda r: (r.row.candidate.casefold(), r.row.deadline),
        "progress": lambda r: (r.pace.percent, r.row.candidate),
        "waiting": lambda r: (r.row.waiting, r.row.candidate),
        "risk": lambda r: (not r.at_risk, r.pace.days_left),
    }
    for table in tables.values():
        table.rows.sort(key=keys[filters.sort], reverse=filters.descending)
    centre = sees_whole_centre(assessor)
    return {"tables": [tables[code] for code in sorted(tables)], "units": sorted(units), "filters": filters,
            "statuses": STATUSES, "sorts": SORTS, "idle_days": idle_days, "due_soon_days": DUE_SOON_DAYS, "centre": centre,
            "assessors": sorted(assessors.items(), key=lambda item: item[1].casefold()) if centre else []}


@dataclass(frozen=True)
class SubmissionState:
    submission_id: int
    ref: str
    signed_off: bool
    outcome: str | None
    all_judged: AllJudged | None  # set when every answer is judged: sign-off is offered


def candidate_page(work: Work, assessor: Assessor, row: CohortRow) -> dict[str, Any]:
    enrolment = stored(work.session, Enrolment, row.enrolment_id)
    candidate = stored(work.session, Candidate, enrolment.candidate_id)
    evidence = evidence_for(work.session, work.judging.banks, candidate.telegram_user_id, enrolment.unit_code)
    answers = work.session.exec(
        select(Answer).join(QuestionRun, col(Answer.run_id) == col(QuestionRun.id)).where(QuestionRun.enrolment_id == enrolment.id)
    ).all()
    ids = {answer_ref(a): a for a in answers}
    person = person_for(assessor)
    judges = row.assessor_id == assessor.id  # an admin reads others' candidates; only their assessor judges
    states = []
    open_ids = set()
    for number, submission in enumerate(work.repo.submissions(row.enrolment_id), 1):
        assert submission.id is not None
        if submission.signed_off_at is None:
            open_ids.add(submission.id)
        next_up = work.judging.next_to_judge(person, submission.id) if judges and submission.signed_off_at is None else None
        states.append(SubmissionState(submission.id, f"S{number}", submission.signed_off_at is not None,
                                      submission.outcome, next_up if isinstance(next_up, AllJudged) else None))
    judgeable = {
        ref: answer.id for ref, answer in ids.items()
        if judges and answer.submission_id in open_ids and answer.id is not None
    }
    awaiting = row.coverage.awaiting_confirmation if judges else []
    return {"row": row, "e": evidence, "judgeable": judgeable, "submissions": states, "candidate": candidate,
            "judges": judges, "awaiting": awaiting}
