"""Witness testimony: someone who saw the candidate work (often their line manager) confirms it in their own words.

The candidate (or their assessor) names the witness with /witness: the unit (when there are several), then one
message with four lines (name, job role, relationship to the candidate, how to reach them), then the performance
criteria the witness saw. nvqbot makes a one-use link (a Telegram deep link whose code starts "wt-", so it is never
taken for an invite) that works until the invite validity runs out (bot/domain/limits.py); the namer forwards it.

The witness opens it: they read who asks, for which candidate, and the criteria's words as the bank has them, with a
reminder not to name customers; what they send (typed, or voice notes) is kept as the parts of one answer version
(method witness testimony in the unit's own code, in the enrolment's "witness" run, author "witness"). They tap Done
and confirm it with a declaration, which submits it (a submission of kind "witness"): it goes to the assessor's
queue and counts in coverage, where it supports a decision and never makes a criterion met on its own
(bot/domain/coverage.py). The link is claimed in one conditional UPDATE: of two people opening it, one gets it.

Every step's state is the Witness row's status: details, criteria, invited, writing, declaring, confirmed, cancelled.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import AssessorWork, Denied
from bot.domain.bank_schema import MethodKind, UnitBank
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.records import CriterionChoice
from bot.domain.sittings import Sittings
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import (
    Answer,
    AnswerPart,
    Assessor,
    Attachment,
    Candidate,
    Enrolment,
    Witness,
)

WT: MethodKind = "witness_testimony"
CODE_PREFIX = "wt-"  # invite codes are 16 characters of A-Za-z0-9_- with no prefix: the two never meet
CODE = re.compile(r"^wt-[A-Za-z0-9_-]{22}$")  # at most 64 characters, as a deep link's start parameter may be
NAMING = ("details", "criteria")
WITNESSING = ("writing", "declaring")
LISTED = ("invited", "writing", "declaring", "confirmed")  # in the record's witness list
DETAILS = ("name", "job_role", "relationship", "contact")
MAX_DETAIL_CHARS = 200
# How long after /witness the person's next message is taken as the details: a wait left open must never swallow
# their answers days later.
DETAILS_WAIT = timedelta(hours=1)


class WitnessProblem(StrEnum):
    NO_ENROLMENT = "no_enrolment"  # nobody to name a witness for
    NO_WT_IN_UNIT = "no_wt_in_unit"  # the unit does not take witness testimony
    BAD_DETAILS = "bad_details"  # not four lines, or a line too long
    NO_CRITERIA = "no_criteria"
    NOT_NAMING = "not_naming"  # that witness is no longer being named
    UNKNOWN = "unknown"  # no such link
    USED = "used"  # someone else opened it
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    OWN_LINK = "own_link"  # the candidate (or their assessor) cannot be the witness
    TOO_LONG = "too_long"
    FULL = "full"
    NOTHING_WRITTEN = "nothing_written"
    NOT_WRITING = "not_writing"  # Done, confirm or back pressed when the statement is not at that step
    DECLARING = "declaring"  # a message while the declaration is shown: it is not kept
    EDITED = "edited"  # an edited message: the statement keeps what was sent


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
class WitnessAsked:
    """What the witness reads on opening the link (or coming back to it): who asks, for whom, and what."""

    witness_id: int
    ref: str
    witness: str
    asked_by: str
    by_assessor: bool
    candidate: str
    assessor: str
    unit_title: str
    criteria: list[tuple[str, str]]
    parts: int  # messages already kept
    resumed: bool


@dataclass(frozen=True)
class StatementKept:
    witness_id: int
    parts: int
    forwarded: bool  # a forwarded message: kept, marked, and the witness asked for their own words


@dataclass(frozen=True)
class DeclarationShown:
    witness_id: int
    witness: str
    candidate: str
    parts: int
    texts: list[str]  # what they wrote (a file as its kind), to read before signing


@dataclass(frozen=True)
class StatementConfirmed:
    witness_id: int
    ref: str
    witness: str
    candidate: str
    candidate_chat_id: int
    assessor_chat_id: int | None
    submission_id: int


@dataclass(frozen=True)
class NamingCancelled:
    ref: str
    witness: str


class Witnesses(AssessorWork):
    # naming a witness
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

    # the witness
    def open(self, person: Person, code: str) -> WitnessAsked | WitnessProblem:
        """The witness opens their link: it is claimed for them (once, unexpired), and their statement begun."""
        witness = self.repo.session.exec(select(Witness).where(Witness.code == code)).first() if CODE.match(code) else None
        if witness is None or witness.status in NAMING:
            return WitnessProblem.UNKNOWN
        if witness.telegram_user_id == person.user_id and witness.status in WITNESSING:
            return self._asked(witness, resumed=True)  # their own link again: carry on
        if witness.status == "cancelled":
            return WitnessProblem.CANCELLED
        enrolment = stored(self.repo.session, Enrolment, witness.enrolment_id)
        assessor = stored(self.repo.session, Assessor, enrolment.assessor_id)
        if person.user_id in (self._candidate(enrolment).telegram_user_id, assessor.telegram_user_id):
            return WitnessProblem.OWN_LINK
        now = self.now()
        claimed = self.repo.session.execute(
            update(Witness)
            .where(col(Witness.id) == witness.id, col(Witness.used_at).is_(None), col(Witness.status) == "invited",
                   col(Witness.code_expires_at) > now)
            .values(used_at=now, telegram_user_id=person.user_id, telegram_name=person.name, status="writing")
        )
        self.repo.session.refresh(witness)
        if cast("CursorResult[Any]", claimed).rowcount != 1:
            return WitnessProblem.USED if witness.used_at is not None else WitnessProblem.EXPIRED
        answer = records.new_record(self.repo, self.banks, enrolment, self._asked_copy(witness, enrolment), now)
        witness.answer_id = answer.id
        self.repo.add(witness)
        self._audit_witness(witness, "witness_opened", enrolment, {"witness": f"WT{witness.number}"})
        return self._asked(witness, resumed=False)

    def writing(self, person: Person) -> Witness | None:
        """The statement the person is giving as a witness now (writing it, or with its declaration shown)."""
        return self.repo.session.exec(
            select(Witness).where(Witness.telegram_user_id == person.user_id, col(Witness.status).in_(WITNESSING))
            .order_by(col(Witness.id).desc())
        ).first()

    def again(self, person: Person) -> WitnessAsked | None:
        """What the witness was asked, shown again (e.g. at /start without a code)."""
        witness = self.writing(person)
        return self._asked(witness, resumed=True) if witness is not None else None

    def take(self, person: Person, message: IncomingMessage) -> StatementKept | WitnessProblem | None:
        """A message of the witness's statement: kept as it was sent. None: the person is giving no statement."""
        witness = self.writing(person)
        if witness is None:
            return None
        if witness.status == "declaring":
            return WitnessProblem.DECLARING
        if self.limits.too_long(message.text):
            return WitnessProblem.TOO_LONG
        answer_id = stored_id(self._answer(witness))
        parts = self.repo.parts(answer_id)
        if len(parts) >= self.limits.parts_per_answer:
            return WitnessProblem.FULL
        attachment = None
        if message.attachment is not None:
            attachment = Sittings(self.repo, self.banks, self.now, self.limits).keep_attachment(message.attachment)
        self.repo.add(AnswerPart(
            answer_id=answer_id, seq=len(parts) + 1, author="witness", text=message.text,
            attachment_id=attachment.id if attachment else None,
            forwarded_from=message.forwarded_from.as_record() if message.forwarded_from else None,
            text_cleaned=message.text_cleaned, chat_id=message.chat_id, message_id=message.message_id,
            update_id=message.update_id, sent_at=message.sent_at, recorded_at=self.now(),
        ))
        return StatementKept(stored_id(witness), len(parts) + 1, message.forwarded_from is not None)

    def edited(self, person: Person) -> WitnessProblem | None:
        """An edited message while giving a statement: the statement keeps what was sent (say so); None otherwise."""
        return WitnessProblem.EDITED if self.writing(person) is not None else None

    def finish(self, person: Person, witness_id: int) -> DeclarationShown | WitnessProblem | Denied:
        """Done: the statement so far, and the declaration to sign."""
        found = self._own_statement(person, witness_id, "writing")
        if not isinstance(found, Witness):
            return found
        parts = self.repo.parts(stored_id(self._answer(found)))
        if not parts:
            return WitnessProblem.NOTHING_WRITTEN
        found.status = "declaring"
        self.repo.add(found)
        enrolment = stored(self.repo.session, Enrolment, found.enrolment_id)
        texts = [p.text or f"[{self._kind(p)}]" for p in parts]
        return DeclarationShown(stored_id(found), found.name, self._candidate(enrolment).name, len(parts), texts)

    def back(self, person: Person, witness_id: int) -> WitnessAsked | WitnessProblem | Denied:
        """Not yet: back to writing."""
        found = self._own_statement(person, witness_id, "declaring")
        if not isinstance(found, Witness):
            return found
        found.status = "writing"
        self.repo.add(found)
        return self._asked(found, resumed=True)

    def confirm(self, person: Person, witness_id: int, statement: str) -> StatementConfirmed | WitnessProblem | Denied:
        """The witness signs the declaration (in `statement`'s words): that submits the testimony to be judged."""
        found = self._own_statement(person, witness_id, "declaring")
        if not isinstance(found, Witness):
            return found
        witness, now = found, self.now()
        enrolment = stored(self.repo.session, Enrolment, witness.enrolment_id)
        answer = self._answer(witness)
        submission = records.submit_alone(self.repo, enrolment, answer, kind=records.WITNESS, statement=statement,
                                          declared_by=witness.name, telegram_user_id=person.user_id, now=now)
        records.tag(self.repo, answer, enrolment.unit_code)
        witness.status, witness.confirmed_at = "confirmed", now
        self.repo.add(witness)
        self._audit_witness(witness, "witness_confirmed", enrolment, {"witness": f"WT{witness.number}"})
        candidate = self._candidate(enrolment)
        assessor = stored(self.repo.session, Assessor, enrolment.assessor_id)
        return StatementConfirmed(stored_id(witness), f"WT{witness.number}", witness.name, candidate.name,
                                  candidate.chat_id, assessor.chat_id or assessor.telegram_user_id, stored_id(submission))

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

    def _own_statement(self, person: Person, witness_id: int, status: str) -> Witness | WitnessProblem | Denied:
        witness = self.repo.session.get(Witness, witness_id)
        if witness is None or witness.telegram_user_id is None or witness.telegram_user_id != person.user_id:
            return Denied.NOT_YOURS
        if witness.status != status:
            return WitnessProblem.NOT_WRITING
        return witness

    def _choosing(self, witness: Witness) -> ChoosingCriteria:
        enrolment = stored(self.repo.session, Enrolment, witness.enrolment_id)
        choices = [CriterionChoice(c.ref, c.text, c.ref in witness.criteria) for c in _performance(self._bank(enrolment))]
        return ChoosingCriteria(stored_id(witness), witness.name, self._candidate(enrolment).name, enrolment.unit_code, choices)

    def _asked(self, witness: Witness, resumed: bool) -> WitnessAsked:
        enrolment = stored(self.repo.session, Enrolment, witness.enrolment_id)
        asked = self._answer(witness).asked or {}
        return WitnessAsked(
            witness_id=stored_id(witness), ref=f"WT{witness.number}", witness=witness.name, asked_by=self._namer(witness),
            by_assessor=witness.named_by == "assessor", candidate=self._candidate(enrolment).name,
            assessor=stored(self.repo.session, Assessor, enrolment.assessor_id).name,
            unit_title=self._bank(enrolment).unit.title,
            criteria=[(c["ref"], c["text"]) for c in asked.get("criteria", [])],
            parts=len(self.repo.parts(stored_id(self._answer(witness)))), resumed=resumed,
        )

    def _asked_copy(self, witness: Witness, enrolment: Enrolment) -> dict[str, Any]:
        """The frozen copy of what the witness was asked to confirm: the criteria's words as the bank has them now."""
        return records.frozen_copy(
            self.banks, enrolment.unit_code, kind=records.WITNESS, number=witness.number, ref=f"WT{witness.number}",
            method=WT,
            about=witness.criteria, evidencing=witness.criteria,
            witness={"name": witness.name, "job_role": witness.job_role, "relationship": witness.relationship},
        )

    def _criteria(self, bank: UnitBank, witness: Witness) -> list[tuple[str, str]]:
        return [(spec.ref, spec.text) for ref in witness.criteria if (spec := bank.criterion(ref))]

    def _namer(self, witness: Witness) -> str:
        if witness.named_by == "assessor":
            assessor = self.repo.assessor_by_telegram_id(witness.named_by_telegram_id)
            return assessor.name if assessor else ""
        candidate = self.repo.candidate_by_telegram_id(witness.named_by_telegram_id)
        return candidate.name if candidate else ""

    def _answer(self, witness: Witness) -> Answer:
        return stored(self.repo.session, Answer, witness.answer_id)

    def _kind(self, part: AnswerPart) -> str:
        file = self.repo.session.get(Attachment, part.attachment_id) if part.attachment_id else None
        return file.kind.replace("_", " ") if file else "message"

    def _audit_by(self, person: Person, action: str, enrolment: Enrolment, details: dict) -> None:
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None:
            self._audit(assessor, action, enrolment, details)
            return
        candidate = self._candidate(enrolment)
        audit.record(self.repo.session, f"candidate:{candidate.id}", action, enrolment.id, details, self.now())

    def _audit_witness(self, witness: Witness, action: str, enrolment: Enrolment, details: dict) -> None:
        audit.record(self.repo.session, f"witness:{witness.id}", action, enrolment.id, details, self.now())

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]


def _performance(bank: UnitBank):
    """The criteria a witness can confirm: what the candidate does at work (the unit's performance criteria)."""
    return [c for c in bank.criteria if c.kind == "performance" and c.part_of is None]


def is_link_code(code: str) -> bool:
    """Whether a /start code is a witness's link (never an invite's)."""
    return code.startswith(CODE_PREFIX)
