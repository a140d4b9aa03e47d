"""Products of work in the domain: choosing criteria, the personal-details reminder step, the file and its line,
one complete answer version that goes with the next unit submission, is judged and counts in coverage."""

from datetime import UTC, datetime
from itertools import count

from sqlmodel import select

from bot.domain.coverage import ANSWERED, MET, MISSING
from bot.domain.products import Choosing, FileAsked, LineAsked, Problem, ProductKept, Products, UnitsToChoose
from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person, Stranger
from bot.storage.db import transaction
from bot.storage.models import Answer, AnswerPart, Attachment, Product
from bot.storage.repository import Repository
from tests.test_coverage import ANN, SAM, coverage, enrol, judge, judge_all, submit

KIM = Person(502, 502, "Kim Candidate")
_ids = count(1)
PHOTO = IncomingAttachment("photo", "photo-file", "photo-unique", 52_000, None, "image/jpeg")
VOICE = IncomingAttachment("voice", "voice-file", "voice-unique", 9_000, 4, "audio/ogg")


def product(engine, banks, step: str, person: Person, *args):
    with transaction(engine) as session:
        return getattr(Products(Repository(session), banks), step)(person, *args)


def sent(person: Person, text: str | None, attachment: IncomingAttachment | None = None) -> IncomingMessage:
    number = next(_ids)
    return IncomingMessage(text, person.chat_id, number, 70_000 + number, datetime.now(UTC), attachment)


def chosen(engine, banks, person: Person, *refs: str) -> FileAsked:
    started = product(engine, banks, "begin", person)
    assert isinstance(started, Choosing)
    for ref in refs:
        product(engine, banks, "toggle", person, started.product_id, ref)
    asked = product(engine, banks, "ask_file", person, started.product_id)
    assert isinstance(asked, FileAsked)
    return asked


def test_a_product_is_one_complete_answer_that_goes_with_the_next_submission_and_counts(engine, banks):
    sam = enrol(engine, banks, "cg-310")
    started = product(engine, banks, "begin", SAM)
    assert isinstance(started, Choosing) and started.ref == "PE1"
    kinds = {banks.unit("cg-310").criterion(c.ref).kind for c in started.choices}
    assert kinds == {"performance", "range"} and not any(c.chosen for c in started.choices)
    assert product(engine, banks, "ask_file", SAM, started.product_id) == Problem("no_criteria", started.product_id)
    product(engine, banks, "toggle", SAM, started.product_id, "310.1.4")
    product(engine, banks, "toggle", SAM, started.product_id, "310.2.1")
    product(engine, banks, "toggle", SAM, started.product_id, "310.2.1")  # tapped again: not chosen
    assert product(engine, banks, "toggle", SAM, started.product_id, "310.4.1") == Problem("not_waiting", started.product_id)
    asked = product(engine, banks, "ask_file", SAM, started.product_id)
    assert isinstance(asked, FileAsked) and [ref for ref, _ in asked.criteria] == ["310.1.4"]
    assert product(engine, banks, "awaiting", SAM)

    assert product(engine, banks, "take", SAM, sent(SAM, "here it comes")) == Problem("file_first", asked.product_id)
    assert product(engine, banks, "take", SAM, sent(SAM, None, VOICE)) == Problem("not_a_file", asked.product_id)
    line = product(engine, banks, "take", SAM, sent(SAM, None, PHOTO))
    assert isinstance(line, LineAsked) and line.kind == "photo"
    assert not sam.do("progress")[0].draft_waiting  # a product waiting for its line is no draft to /continue
    assert product(engine, banks, "begin", SAM) == line  # /product again shows where it stands
    kept = product(engine, banks, "take", SAM, sent(SAM, "The e-mail I sent the customer with the new delivery date"))
    assert isinstance(kept, ProductKept) and kept.criteria == ["310.1.4"] and kept.kind == "photo"
    assert product(engine, banks, "take", SAM, sent(SAM, "more")) is None  # nothing waits now: a sitting's message
    assert not product(engine, banks, "awaiting", SAM)

    # Not counted until it is submitted with the unit's declaration; /review shows it, with no "answer again".
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.1.4").status == MISSING
    review = sam.do("review")
    item = next(i for i in review.items if i.question_ref == "PE1")
    assert item.criteria == ["310.1.4"] and not item.locked and not item.changeable
    assert item.preview.startswith("The e-mail I sent")
    sam.answer()  # a knowledge answer, submitted with it
    submit(sam, "cg-310")
    row = coverage(engine, banks, SAM, "cg-310").criterion("310.1.4")
    assert row.status == ANSWERED and [(e.ref, e.method, e.method_code) for e in row.evidence] == [("PE1.v1", "product", "PE")]
    judge_all(engine, banks)
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.1.4").status == MET
    with transaction(engine) as session:
        answer = session.exec(select(Answer).where(Answer.question_id == "PE1")).one()
        assert answer.status == "complete" and answer.submission_id is not None
        assert answer.asked["method"] == "product" and answer.asked["criteria"][0]["text"].startswith("keep customers")
        parts = session.exec(select(AnswerPart).where(AnswerPart.answer_id == answer.id).order_by(AnswerPart.seq)).all()
        assert [(p.text is None, p.attachment_id is not None) for p in parts] == [(True, True), (False, False)]
        file = session.get(Attachment, parts[0].attachment_id)
        assert file.kind == "photo" and file.file_unique_id == "photo-unique"  # the fetcher fingerprints it


def test_a_caption_is_the_line_and_a_second_product_is_numbered_on(engine, banks):
    enrol(engine, banks, "cg-310")
    first = chosen(engine, banks, SAM, "310.1.1")
    kept = product(engine, banks, "take", SAM, sent(SAM, "Case log of the repeat fault", PHOTO))
    assert isinstance(kept, ProductKept) and kept.ref == first.ref == "PE1" and kept.shows == "Case log of the repeat fault"
    second = chosen(engine, banks, SAM, "310.3.1")
    assert second.ref == "PE2"
    assert isinstance(product(engine, banks, "cancel", SAM, second.product_id), object)
    assert product(engine, banks, "take", SAM, sent(SAM, None, PHOTO)) is None  # cancelled: nothing waits
    with transaction(engine) as session:
        assert [p.status for p in session.exec(select(Product).order_by(Product.number))] == ["complete", "cancelled"]


def test_only_units_that_take_products_and_only_the_candidates_own(engine, banks):
    enrol(engine, banks, "ocr-c3")  # no product evidence in OCR C3
    assert product(engine, banks, "begin", SAM) == Problem("no_products")
    enrol(engine, banks, "cg-310", "nhs-cs", person=KIM)
    units = product(engine, banks, "begin", KIM)
    assert isinstance(units, UnitsToChoose) and [u.unit_code for u in units.units] == ["cg-310", "nhs-cs"]
    nhs = product(engine, banks, "begin", KIM, units.units[1].enrolment_id)
    assert isinstance(nhs, Choosing) and nhs.ref == "P1" and nhs.unit_code == "nhs-cs"
    # A forged press: someone else's product, or an assessor's, changes nothing.
    assert product(engine, banks, "toggle", SAM, nhs.product_id, "1") == Problem("not_yours")
    assert product(engine, banks, "toggle", ANN, nhs.product_id, "1") is Stranger.ASSESSOR
    assert product(engine, banks, "cancel", SAM, nhs.product_id) == Problem("not_yours")
    with transaction(engine) as session:
        assert session.get(Product, nhs.product_id).criteria == [] and session.get(Product, nhs.product_id).status == "choosing"
    assert judge(engine, banks, "queue", ANN) == []
