"""Products of work: a document or photo the candidate's work produced, given as evidence for criteria they choose.

`/product` starts one (a Product row from the first tap, so a half-made one survives a restart): the candidate
picks the unit (when several take products), taps the performance criteria it shows, is reminded to take out
customers' personal details, and sends the file with a caption saying what it shows (or the line after it). It is
then one answer version (method "product", in the unit's own code, in the enrolment's "product" run) with a frozen
copy of what it evidences, complete once given: it goes with the candidate's next unit submission (their declaration
covers it, as for their answers) and is judged like any answer. The file is fingerprinted like every attachment.
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select

from bot.domain import records
from bot.domain.bank_schema import MethodKind, UnitBank
from bot.domain.candidate_work import CandidateWork, IncomingMessage, Person, Stranger
from bot.domain.records import CriterionChoice
from bot.storage import audit
from bot.storage.ids import stored, stored_id
from bot.storage.models import Answer, AnswerPart, Candidate, Enrolment, Product

PRODUCT: MethodKind = "product"
FILE_KINDS = ("document", "photo")
OFFERED_KINDS = ("performance", "range")  # what a product can show: work done, in the situations it covers
UNFINISHED = ("choosing", "awaiting_file", "awaiting_line")


class ProductProblem:
    """Why a product step did nothing (plain strings: the template words each)."""

    NO_PRODUCTS = "no_products"  # none of the candidate's units takes products of work
    NO_CRITERIA = "no_criteria"
    NOT_WAITING = "not_waiting"  # a button of a product already given or cancelled
    FILE_FIRST = "file_first"  # words before the file: send the file first
    NOT_A_FILE = "not_a_file"  # a voice note, a video…: a product is a document or a photo
    ONE_FILE = "one_file"  # a second file while the line is awaited
    TOO_LONG = "too_long"
    NOT_YOURS = "not_yours"  # a press on someone else's product


@dataclass(frozen=True)
class UnitChoice:
    enrolment_id: int
    unit_code: str
    unit_title: str


@dataclass(frozen=True)
class UnitsToChoose:
    units: list[UnitChoice]


@dataclass(frozen=True)
class Choosing:
    product_id: int
    ref: str  # e.g. "PE1": the unit's code for product evidence, and its number
    unit_code: str
    choices: list[CriterionChoice]


@dataclass(frozen=True)
class FileAsked:
    product_id: int
    ref: str
    unit_code: str
    criteria: list[tuple[str, str]]  # (ref, words)


@dataclass(frozen=True)
class LineAsked:
    product_id: int
    ref: str
    kind: str  # the file's kind


@dataclass(frozen=True)
class ProductKept:
    product_id: int
    ref: str
    unit_code: str
    criteria: list[str]
    kind: str
    shows: str


@dataclass(frozen=True)
class ProductCancelled:
    ref: str


@dataclass(frozen=True)
class Problem:
    problem: str
    product_id: int | None = None  # the product still waiting, for its buttons


class Products(CandidateWork):
    def begin(self, person: Person, enrolment_id: int | None = None) -> UnitsToChoose | Choosing | FileAsked | LineAsked | Problem | Stranger:
        """Start a product (or show the one not yet given); with several units that take products, choose one first."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        unfinished = self._unfinished(candidate)
        if unfinished is not None and enrolment_id is None:
            return self._step(unfinished)
        enrolments = [e for e in self.repo.enrolments(stored_id(candidate))
                      if e.status != "signed_off" and PRODUCT in self._bank(e).evidence_methods.codes]
        if enrolment_id is not None:
            enrolments = [e for e in enrolments if e.id == enrolment_id]
        if not enrolments:
            return Problem(ProductProblem.NO_PRODUCTS)
        if len(enrolments) > 1:
            return UnitsToChoose([UnitChoice(stored_id(e), e.unit_code, self._bank(e).unit.title) for e in enrolments])
        if unfinished is not None:  # a new unit chosen: the one not yet given is put aside
            unfinished.status = "cancelled"
            self.repo.add(unfinished)
        enrolment = enrolments[0]
        number = self.repo.session.exec(select(func.max(Product.number)).where(Product.enrolment_id == enrolment.id)).one()
        product = self.repo.add(Product(enrolment_id=stored_id(enrolment), number=(number or 0) + 1, criteria=[],
                                        status="choosing", created_at=self.now()))
        return self._choosing(product, enrolment)

    def toggle(self, person: Person, product_id: int, ref: str) -> Choosing | Problem | Stranger:
        found = self._own(person, product_id, "choosing")
        if not isinstance(found, tuple):
            return found
        product, enrolment = found
        if ref not in {c.ref for c in self._offered(self._bank(enrolment))}:
            return Problem(ProductProblem.NOT_WAITING, product_id)
        product.criteria = [r for r in product.criteria if r != ref] if ref in product.criteria else [*product.criteria, ref]
        self.repo.add(product)
        return self._choosing(product, enrolment)

    def ask_file(self, person: Person, product_id: int) -> FileAsked | Problem | Stranger:
        """The criteria are chosen: the candidate's next document or photo is the product."""
        found = self._own(person, product_id, "choosing")
        if not isinstance(found, tuple):
            return found
        product, _ = found
        if not product.criteria:
            return Problem(ProductProblem.NO_CRITERIA, product_id)
        product.status = "awaiting_file"
        self.repo.add(product)
        return self._step(product)  # type: ignore[return-value]

    def cancel(self, person: Person, product_id: int) -> ProductCancelled | Problem | Stranger:
        found = self._own(person, product_id, *UNFINISHED)
        if not isinstance(found, tuple):
            return found
        product, enrolment = found
        product.status = "cancelled"
        self.repo.add(product)
        if product.answer_id is not None:  # the file sent without its line stays in the database, out of the record
            answer = stored(self.repo.session, Answer, product.answer_id)
            answer.status = "retired"
            self.repo.add(answer)
        return ProductCancelled(self._ref(product, self._bank(enrolment)))

    def awaiting(self, person: Person) -> bool:
        """Whether the person's next message is a product's file or line."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        product = self._unfinished(candidate) if candidate else None
        return product is not None and product.status in ("awaiting_file", "awaiting_line")

    def take(self, person: Person, message: IncomingMessage) -> LineAsked | ProductKept | Problem | None:
        """A message while a product waits for its file or its line. None: no product is waiting."""
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        product = self._unfinished(candidate) if candidate else None
        if candidate is None or product is None or product.status == "choosing":
            return None
        enrolment = stored(self.repo.session, Enrolment, product.enrolment_id)
        bank = self._bank(enrolment)
        if self.limits.too_long(message.text):
            return Problem(ProductProblem.TOO_LONG, product.id)
        attachment = message.attachment
        if product.status == "awaiting_file":
            if attachment is None:
                return Problem(ProductProblem.FILE_FIRST, product.id)
            if attachment.kind not in FILE_KINDS:
                return Problem(ProductProblem.NOT_A_FILE, product.id)
            answer = self._new_answer_for(product, enrolment, bank)  # "pending" (not a sitting's draft) until its line
            product.answer_id, product.status = answer.id, "awaiting_line"
            self._keep(answer, message, 1)
            if not (message.text or "").strip():
                self.repo.add(product)
                return LineAsked(stored_id(product), self._ref(product, bank), attachment.kind)
            return self._given(candidate, product, enrolment, answer, attachment.kind, message.text or "")
        # awaiting its line
        if attachment is not None:
            return Problem(ProductProblem.ONE_FILE, product.id)
        if not (message.text or "").strip():
            return Problem(ProductProblem.FILE_FIRST, product.id)
        answer = stored(self.repo.session, Answer, product.answer_id)
        self._keep(answer, message, len(self.repo.parts(stored_id(answer))) + 1)
        first = self.repo.parts(stored_id(answer))[0]
        kind = self.repo.attachment(first.attachment_id).kind if first.attachment_id else "document"  # type: ignore[union-attr]
        return self._given(candidate, product, enrolment, answer, kind, message.text or "")

    # helpers
    def _given(self, candidate: Candidate, product: Product, enrolment: Enrolment, answer: Answer, kind: str,
               shows: str) -> ProductKept:
        answer.status, answer.completed_at = "complete", self.now()
        self.repo.add(answer)
        product.status = "complete"
        self.repo.add(product)
        ref = self._ref(product, self._bank(enrolment))
        audit.record(self.repo.session, f"candidate:{candidate.id}", "product_given", enrolment.id,
                     {"product": ref, "criteria": list(product.criteria)}, self.now())
        return ProductKept(stored_id(product), ref, enrolment.unit_code, list(product.criteria), kind, shows.strip())

    def _keep(self, answer: Answer, message: IncomingMessage, seq: int) -> None:
        attachment = self.keep_attachment(message.attachment) if message.attachment else None
        self.repo.add(AnswerPart(
            answer_id=stored_id(answer), seq=seq, text=message.text, attachment_id=attachment.id if attachment else None,
            forwarded_from=message.forwarded_from.as_record() if message.forwarded_from else None,
            text_cleaned=message.text_cleaned, chat_id=message.chat_id, message_id=message.message_id,
            update_id=message.update_id, sent_at=message.sent_at, recorded_at=self.now(),
        ))

    def _new_answer_for(self, product: Product, enrolment: Enrolment, bank: UnitBank) -> Answer:
        ref = self._ref(product, bank)
        asked = records.frozen_copy(
            self.banks, enrolment.unit_code, kind=records.PRODUCT, number=product.number, ref=ref,
            method=PRODUCT,
            about=product.criteria, evidencing=product.criteria,
        )
        answer = records.new_record(self.repo, self.banks, enrolment, asked, self.now())
        records.tag(self.repo, answer, enrolment.unit_code)
        return answer

    def _step(self, product: Product) -> Choosing | FileAsked | LineAsked:
        """Where an unfinished product stands, to show it again."""
        enrolment = stored(self.repo.session, Enrolment, product.enrolment_id)
        bank = self._bank(enrolment)
        if product.status == "choosing":
            return self._choosing(product, enrolment)
        if product.status == "awaiting_line" and product.answer_id is not None:
            first = self.repo.parts(product.answer_id)[0]
            file = self.repo.attachment(first.attachment_id) if first.attachment_id else None
            return LineAsked(stored_id(product), self._ref(product, bank), file.kind if file else "document")
        return FileAsked(stored_id(product), self._ref(product, bank), enrolment.unit_code,
                         [(ref, spec.text) for ref in product.criteria if (spec := bank.criterion(ref))])

    def _choosing(self, product: Product, enrolment: Enrolment) -> Choosing:
        bank = self._bank(enrolment)
        return Choosing(stored_id(product), self._ref(product, bank), enrolment.unit_code,
                        [CriterionChoice(c.ref, c.text, c.ref in product.criteria) for c in self._offered(bank)])

    def _unfinished(self, candidate: Candidate) -> Product | None:
        return self.repo.session.exec(
            select(Product)
            .join(Enrolment, col(Product.enrolment_id) == col(Enrolment.id))
            .where(Enrolment.candidate_id == candidate.id, col(Product.status).in_(UNFINISHED))
            .order_by(col(Product.id).desc())
        ).first()

    def _own(self, person: Person, product_id: int, *statuses: str) -> tuple[Product, Enrolment] | Problem | Stranger:
        """The person's own product, in one of `statuses`; anyone else's press changes nothing."""
        candidate = self._candidate(person)
        if isinstance(candidate, Stranger):
            return candidate
        product = self.repo.session.get(Product, product_id)
        enrolment = self.repo.session.get(Enrolment, product.enrolment_id) if product else None
        if product is None or enrolment is None or enrolment.candidate_id != candidate.id:
            return Problem(ProductProblem.NOT_YOURS)
        if product.status not in statuses:
            return Problem(ProductProblem.NOT_WAITING)
        return product, enrolment

    @staticmethod
    def _offered(bank: UnitBank):
        return [c for c in bank.criteria if c.kind in OFFERED_KINDS and c.part_of is None]

    @staticmethod
    def _ref(product: Product, bank: UnitBank) -> str:
        return f"{bank.method_code(PRODUCT)}{product.number}"
