"""The witness's side: opening the link, their statement in their own words, and the declaration that submits it."""

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import Denied
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.sittings import Sittings
from bot.domain.witnesses import CODE, NAMING, WITNESSING, WT, WitnessProblem, WitnessWork
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, AnswerPart, Assessor, Attachment, Enrolment, Witness


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


class WitnessStatements(WitnessWork):
    """The witness's steps: open the link, send their statement, Done, back or confirm the declaration."""

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
    def _own_statement(self, person: Person, witness_id: int, status: str) -> Witness | WitnessProblem | Denied:
        witness = self.repo.session.get(Witness, witness_id)
        if witness is None or witness.telegram_user_id is None or witness.telegram_user_id != person.user_id:
            return Denied.NOT_YOURS
        if witness.status != status:
            return WitnessProblem.NOT_WRITING
        return witness

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

    def _answer(self, witness: Witness) -> Answer:
        return stored(self.repo.session, Answer, witness.answer_id)

    def _kind(self, part: AnswerPart) -> str:
        file = self.repo.session.get(Attachment, part.attachment_id) if part.attachment_id else None
        return file.kind.replace("_", " ") if file else "message"

    def _audit_witness(self, witness: Witness, action: str, enrolment: Enrolment, details: dict) -> None:
        audit.record(self.repo.session, f"witness:{witness.id}", action, enrolment.id, details, self.now())
