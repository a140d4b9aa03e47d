"""Naming a witness: the unit, their four details, the criteria they saw, and the one-use link to forward to them."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from bot.domain.assessor_work import Denied
from bot.domain.bank_schema import UnitBank
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.records import CriterionChoice
from bot.domain.witnesses import CODE_PREFIX, NAMING, WT, WitnessProblem, WitnessWork
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import Candidate, Enrolment, Witness

DETAILS = ("name", "job_role", "relationship", "contact")
MAX_DETAIL_CHARS = 200
# How long after /witness the person's next message is taken as the details: a wait left open must never swallow
# their answers days later.
DETAILS_WAIT = timedelta(hours=1)


@dataclass(frozen=True)
class UnitChoice:
    enrolment_id: int
    unit_code: str
    unit_title: str
    candidate: str


@dataclass(frozen=True)
class ChooseUnit:
    choices: list[UnitChoice]
    for_assessor: bool


@dataclass(frozen=True)
class DetailsAsked:
    witness_id: int
    candidate: str
    unit_code: str
    by_assessor: bool


@dataclass(frozen=True)
class ChoosingCriteria:
    witness_id: int
    witness: str
    candidate: str
    unit_code: str
    choices: list[CriterionChoice]


@dataclass(frozen=True)
class LinkMade:
    witness_id: int
    ref: str
    witness: str
    candidate: str
    by_assessor: bool
    asked_by: str
    unit_title: str
    code: str
    expires_at: datetime
    criteria: list[tuple[str, str]]


@dataclass(frozen=True)
class NamingCancelled:
    ref: str
    witness: str


class WitnessRequests(WitnessWork):
    """The namer's steps (a candidate, or their assessor): /witness, the unit, details, criteria, link, cancel."""

    def name(self, person: Person) -> ChooseUnit | DetailsAsked | WitnessProblem | Denied:
        """/witness: the units the person may name a witness for (a candidate's own, an assessor's candidates')."""
        found = self._enrolments(person)
        if not found:
            return WitnessProblem.NO_ENROLMENT
        usable = [(e, c) for e, c in found if WT in self._bank(e).evidence_methods.codes]
        if not usable:
            return WitnessProblem.NO_WT_IN_UNIT
        if len(usable) == 1:
            return self.begin(person, stored_id(usable[0][0]))
        return ChooseUnit(
            [UnitChoice(stored_id(e), e.unit_code, self._bank(e).unit.title, c.name) for e, c in usable],
            for_assessor=self.repo.assessor_by_telegram_id(person.user_id) is not None,
        )

    def begin(self, person: Person, enrolment_id: int) -> DetailsAsked | WitnessProblem | Denied:
        """Start naming a witness for one enrolment: the person's next message is the four details."""
        found = next(((e, c) for e, c in self._enrolments(person) if e.id == enrolment_id), None)
        if found is None:
            return Denied.NOT_YOURS
        enrolment, candidate = found
        if WT not in self._bank(enrolment).evidence_methods.codes:
            return WitnessProblem.NO_WT_IN_UNIT
        for draft in self.repo.session.exec(
            select(Witness).where(Witness.named_by_telegram_id == person.user_id, col(Witness.status).in_(NAMING))
        ):
            draft.status = "cancelled"  # one witness is named at a time: starting again puts the last one aside
            self.repo.add(draft)
        number = self.repo.session.exec(select(func.max(Witness.number)).where(Witness.enrolment_id == enrolment_id)).one()
        by_assessor = self.repo.assessor_by_telegram_id(person.user_id) is not None
        witness = self.repo.add(Witness(
            enrolment_id=enrolment_id, number=(number or 0) + 1, named_by="assessor" if by_assessor else "candidate",
            named_by_telegram_id=person.user_id, name="", job_role="", relationship="", contact="", criteria=[],
            status="details", created_at=self.now(),
        ))
        return DetailsAsked(stored_id(witness), candidate.name, enrolment.unit_code, by_assessor)

    def naming(self, person: Person) -> Witness | None:
        """The witness whose details the person's next message gives, if any (asked for within DETAILS_WAIT)."""
        return self.repo.session.exec(
            select(Witness).where(Witness.named_by_telegram_id == person.user_id, Witness.status == "details",
                                  col(Witness.created_at) > self.now() - DETAILS_WAIT)
            .order_by(col(Witness.id).desc())
        ).first()

    def take_details(self, person: Person, message: IncomingMessage) -> ChoosingCriteria | WitnessProblem:
        """The four details, one a line: name, job role, relationship to the candidate, how to reach them."""
        witness = self.naming(person)
        if witness is None:
            return WitnessProblem.NOT_NAMING
        lines = [line.strip() for line in (message.text or "").splitlines() if line.strip()]
        if message.attachment is not None or len(lines) != len(DETAILS) or any(len(v) > MAX_DETAIL_CHARS for v in lines):
            return WitnessProblem.BAD_DETAILS
        witness.name, witness.job_role, witness.relationship, witness.contact = lines
        witness.status = "criteria"
        self.repo.add(witness)
        return self._choosing(witness)

    def toggle(self, person: Person, witness_id: int, ref: str) -> ChoosingCriteria | WitnessProblem | Denied:
        found = self._own_draft(person, witness_id)
        if not isinstance(found, tuple):
            return found
        witness, enrolment = found
        if ref not in {c.ref for c in _performance(self._bank(enrolment))}:
            return Denied.NOT_YOURS
        witness.criteria = [r for r in witness.criteria if r != ref] if ref in witness.criteria else [*witness.criteria, ref]
        self.repo.add(witness)
        return self._choosing(witness)

    def make_link(self, person: Person, witness_id: int) -> LinkMade | WitnessProblem | Denied:
        """The criteria are chosen: the one-use link, to forward to the witness."""
        found = self._own_draft(person, witness_id)
        if not isinstance(found, tuple):
            return found
        witness, enrolment = found
        if not witness.criteria:
            return WitnessProblem.NO_CRITERIA
        bank = self._bank(enrolment)
        witness.criteria = [c.ref for c in bank.criteria if c.ref in witness.criteria]  # in the unit's order
        witness.code = CODE_PREFIX + secrets.token_urlsafe(16)  # 22 URL-safe characters after the prefix
        witness.code_expires_at = self.limits.invite_expires_at(self.now())
        witness.status = "invited"
        self.repo.add(witness)
        self._audit_by(person, "witness_named", enrolment, {"witness": f"WT{witness.number}", "criteria": witness.criteria})
        return LinkMade(
            stored_id(witness), f"WT{witness.number}", witness.name, self._candidate(enrolment).name,
            witness.named_by == "assessor", self._namer(witness), bank.unit.title, witness.code,
            witness.code_expires_at, self._criteria(bank, witness),
        )

    def cancel(self, person: Person, witness_id: int) -> NamingCancelled | WitnessProblem | Denied:
        """Put aside a witness being named, or whose link nobody has opened yet (the link stops working)."""
        witness = self.repo.session.get(Witness, witness_id)
        if witness is None or witness.named_by_telegram_id != person.user_id:
            return Denied.NOT_YOURS
        if witness.status not in (*NAMING, "invited"):
            return WitnessProblem.NOT_NAMING
        witness.status = "cancelled"
        self.repo.add(witness)
        return NamingCancelled(f"WT{witness.number}", witness.name)

    # helpers
    def _enrolments(self, person: Person) -> list[tuple[Enrolment, Candidate]]:
        """The enrolments the person may name a witness for: an assessor's candidates', or a candidate's own."""
        query = select(Enrolment, Candidate).join(Candidate, col(Enrolment.candidate_id) == col(Candidate.id))
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None:
            query = query.where(Enrolment.assessor_id == assessor.id)
        else:
            query = query.where(Candidate.telegram_user_id == person.user_id)
        query = query.where(col(Enrolment.status) != "signed_off").order_by(col(Candidate.name), col(Enrolment.unit_code))
        return [(e, c) for e, c in self.repo.session.exec(query).all() if self.banks.unit(e.unit_code) is not None]

    def _own_draft(self, person: Person, witness_id: int) -> tuple[Witness, Enrolment] | WitnessProblem | Denied:
        witness = self.repo.session.get(Witness, witness_id)
        if witness is None or witness.named_by_telegram_id != person.user_id:
            return Denied.NOT_YOURS
        if witness.status != "criteria":
            return WitnessProblem.NOT_NAMING
        return witness, stored(self.repo.session, Enrolment, witness.enrolment_id)

    def _choosing(self, witness: Witness) -> ChoosingCriteria:
        enrolment = stored(self.repo.session, Enrolment, witness.enrolment_id)
        choices = [CriterionChoice(c.ref, c.text, c.ref in witness.criteria) for c in _performance(self._bank(enrolment))]
        return ChoosingCriteria(stored_id(witness), witness.name, self._candidate(enrolment).name, enrolment.unit_code, choices)

    def _criteria(self, bank: UnitBank, witness: Witness) -> list[tuple[str, str]]:
        return [(spec.ref, spec.text) for ref in witness.criteria if (spec := bank.criterion(ref))]

    def _audit_by(self, person: Person, action: str, enrolment: Enrolment, details: dict) -> None:
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None:
            self._audit(assessor, action, enrolment, details)
            return
        candidate = self._candidate(enrolment)
        audit.record(self.repo.session, f"candidate:{candidate.id}", action, enrolment.id, details, self.now())


def _performance(bank: UnitBank):
    """The criteria a witness can confirm: what the candidate does at work (the unit's performance criteria)."""
    return [c for c in bank.criteria if c.kind == "performance" and c.part_of is None]

