"""How far a candidate's evidence covers a unit: the one place that decides met, answered, referred or missing.

What counts is the current version of each submitted answer (a draft, or an answer not yet submitted
with the candidate's declaration, never counts), tagged to the criteria it was asked for at the time
(its frozen copy, `Answer.asked`). Evidence given in another unit counts too where the mapping credits it
in that direction; a credit through a group marked partial counts only once an assessor has confirmed
it for this candidate. A criterion with parts (Edexcel knowledge item 2) is met only when every part
is. A unit is complete when every criterion is met and every method the unit makes mandatory has
evidence that is met.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select as select_rows  # plain rows of tables, not ORM objects
from sqlmodel import Session, col, select

from bot.domain.bank_schema import UnitBank
from bot.domain.banks import Banks
from bot.storage.ids import stored_id, table_of
from bot.storage.models import Answer, Assessor, CreditConfirmation, Enrolment, Judgment, QuestionRun

MET, ANSWERED, REFERRED, MISSING = "met", "answered", "referred", "missing"
# Witness testimony supports an assessor's decision; it never makes a criterion met on its own: a criterion whose
# only met evidence is a witness's is "answered" (evidenced, waiting for evidence that decides it).
SUPPORTS_ONLY = frozenset({"witness_testimony"})
_RANK = {MISSING: 0, REFERRED: 1, ANSWERED: 2, MET: 3}  # a criterion with parts is as far as its least covered part


@dataclass(frozen=True)
class Counted:
    """One answer version that evidences a criterion, directly or through the mapping."""

    answer_id: int
    ref: str  # its reference in the records of the unit it was given in, e.g. "Q3.v1"
    unit_code: str  # the unit it was given in
    method: str  # the method kind, e.g. "questioning"
    method_code: str  # that method in its unit's own code, e.g. "Q&A"
    judgment: str | None  # the standing judgment: "met", "not_yet", or None while unjudged
    via: str | None = None  # "unit:ref" the answer was tagged to, when credited through the mapping
    group: str | None = None  # the mapping group that credits it
    partial: bool = False  # the group is a near-match: it counts once confirmed
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @property
    def counts(self) -> bool:
        return not self.partial or self.confirmed_by is not None


@dataclass(frozen=True)
class CriterionCoverage:
    ref: str
    kind: str
    text: str
    part_of: str | None
    status: str
    evidence: list[Counted] = field(default_factory=list)  # tagged to this criterion in this unit
    credited: list[Counted] = field(default_factory=list)  # from other units, through the mapping
    parts: list[str] = field(default_factory=list)

    @property
    def awaiting_confirmation(self) -> list[Counted]:
        return [item for item in self.credited if not item.counts]


@dataclass(frozen=True)
class MethodCoverage:
    kind: str
    code: str
    evidenced: bool


@dataclass(frozen=True)
class UnitCoverage:
    unit_code: str
    criteria: list[CriterionCoverage]
    mandatory: list[MethodCoverage]

    def count(self, status: str) -> int:
        return sum(c.status == status for c in self.criteria)

    def criterion(self, ref: str) -> CriterionCoverage | None:
        return next((c for c in self.criteria if c.ref == ref), None)

    @property
    def missing(self) -> list[CriterionCoverage]:
        """Criteria not yet met (parts are listed under their parent, not twice)."""
        return [c for c in self.criteria if c.status != MET and c.part_of is None]

    @property
    def methods_missing(self) -> list[MethodCoverage]:
        return [m for m in self.mandatory if not m.evidenced]

    @property
    def awaiting_confirmation(self) -> list[tuple[CriterionCoverage, Counted]]:
        return [(c, item) for c in self.criteria for item in c.awaiting_confirmation]

    @property
    def complete(self) -> bool:
        return not self.missing and not self.methods_missing


@dataclass(frozen=True)
class _Given:
    """A counted answer of the candidate (a plain row of the answer table) with the criteria it was tagged to."""

    answer: Any
    unit_code: str
    judgment: str | None
    criteria: list[str]


def counted_answers(session: Session, candidate_id: int) -> dict[int, list[_Given]]:
    """By enrolment id: the current version of every submitted answer of the candidate, with its judgment.

    Read as plain rows: this runs for every coverage figure, and rows are several times cheaper than ORM objects."""
    answer = table_of(Answer)
    rows = session.execute(
        select_rows(answer, col(Enrolment.unit_code), col(QuestionRun.enrolment_id))
        .join(QuestionRun, answer.c.run_id == col(QuestionRun.id))
        .join(Enrolment, col(QuestionRun.enrolment_id) == col(Enrolment.id))
        .where(col(Enrolment.candidate_id) == candidate_id)
        .order_by(answer.c.run_id, answer.c.question_id, answer.c.version)
    ).all()
    latest = {(row.run_id, row.question_id): row for row in rows}
    current = [row for row in latest.values() if row.status == "complete" and row.submission_id is not None]
    judgments = _standing_judgments(session, [row.id for row in current])
    given: dict[int, list[_Given]] = defaultdict(list)
    for row in current:
        refs = [c["ref"] for c in (row.asked or {}).get("criteria", [])]
        given[row.enrolment_id].append(_Given(row, row.unit_code, judgments.get(row.id), refs))
    return given


def _standing_judgments(session: Session, answer_ids: list[int]) -> dict[int, str]:
    standing: dict[int, str] = {}
    if answer_ids:
        judgment = table_of(Judgment)
        rows = session.execute(
            select_rows(judgment.c.answer_id, judgment.c.outcome).where(judgment.c.answer_id.in_(answer_ids)).order_by(judgment.c.id)
        )
        standing.update((row.answer_id, row.outcome) for row in rows)
    return standing


def answer_ref(answer: Answer) -> str:
    return f"{(answer.asked or {}).get('ref', answer.question_id)}.v{answer.version}"


def _counted(given: _Given, **credit) -> Counted:
    asked = given.answer.asked or {}
    return Counted(
        answer_id=given.answer.id,
        ref=answer_ref(given.answer),
        unit_code=given.unit_code,
        method=asked.get("method", "questioning"),
        method_code=asked.get("method_code", ""),
        judgment=given.judgment,
        **credit,
    )


def _status(items: list[Counted]) -> str:
    counting = [item for item in items if item.counts]
    judged = [item.judgment for item in counting]
    if any(item.judgment == MET and item.method not in SUPPORTS_ONLY for item in counting):
        return MET
    if MET in judged or None in judged:  # met by witness testimony alone, or waiting for a judgment
        return ANSWERED
    return REFERRED if judged else MISSING


def unit_coverage(session: Session, banks: Banks, enrolment: Enrolment) -> UnitCoverage:
    """The coverage of the enrolment's unit by the candidate's evidence, as the current bank defines the unit."""
    bank = banks.units[enrolment.unit_code]
    given = counted_answers(session, enrolment.candidate_id)
    others = {items[0].unit_code: items for enrolment_id, items in given.items() if enrolment_id != enrolment.id}
    confirmations = {
        (c.target_ref, c.answer_id): (c, name)
        for c, name in session.exec(
            select(CreditConfirmation, Assessor.name)
            .join(Assessor, col(CreditConfirmation.assessor_id) == col(Assessor.id))
            .where(CreditConfirmation.enrolment_id == enrolment.id)
        )
    }
    own = given.get(stored_id(enrolment), [])
    statuses: dict[str, CriterionCoverage] = {}
    for spec in bank.criteria:
        direct = [_counted(g) for g in own if spec.ref in g.criteria]
        credited = []
        for credit in banks.credits_to(enrolment.unit_code, spec.ref):
            for g in others.get(credit.source.unit, []):
                if credit.source.ref not in g.criteria:
                    continue
                confirmation, name = confirmations.get((spec.ref, g.answer.id), (None, None))
                credited.append(
                    _counted(
                        g,
                        via=str(credit.source),
                        group=credit.group,
                        partial=credit.partial,
                        confirmed_by=name,
                        confirmed_at=confirmation.confirmed_at if confirmation else None,
                    )
                )
        statuses[spec.ref] = CriterionCoverage(
            spec.ref, spec.kind, spec.text, spec.part_of, _status(direct + credited), direct, credited
        )
    rows = []
    for spec in bank.criteria:
        row = statuses[spec.ref]
        parts = [p.ref for p in bank.parts_of(spec.ref)]
        if parts:
            status = min((statuses[p].status for p in parts), key=_RANK.__getitem__)
            row = CriterionCoverage(row.ref, row.kind, row.text, row.part_of, status, row.evidence, row.credited, parts)
        rows.append(row)
    return UnitCoverage(enrolment.unit_code, rows, _mandatory(bank, rows))


def _mandatory(bank: UnitBank, rows: list[CriterionCoverage]) -> list[MethodCoverage]:
    met_methods = {item.method for row in rows for item in row.evidence + row.credited if item.counts and item.judgment == MET}
    return [
        MethodCoverage(kind, bank.method_code(kind), kind in met_methods) for kind in bank.evidence_methods.mandatory
    ]
