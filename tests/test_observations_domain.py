"""Direct observation in the domain: the assessor picks the candidate, the criteria and where, records what they see
as it happens, finishes; the candidate countersigns, which submits it; it is judged and counts with the unit's code.
A unit that makes observation mandatory (the NHS unit) is never competent without it."""

from datetime import UTC, datetime
from itertools import count

import pytest
from sqlmodel import select

from bot.domain.assessor_work import Denied
from bot.domain.caseload import SignedOff, UnitNotComplete
from bot.domain.coverage import ANSWERED, MET
from bot.domain.discussions import Discussions
from bot.domain.observation_countersignatures import Countersigned
from bot.domain.observation_work import ObservationRecord, Problem
from bot.domain.observations import Choosing, Observations, ObserveChoices, PlaceAsked, Recording, SeenKept
from bot.domain.records import Disputed
from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person
from bot.storage.db import transaction
from bot.storage.models import Answer, Observation, Submission
from bot.storage.repository import Repository
from tests.test_coverage import ANN, BOB, SAM, answer_everything, coverage, enrol, judge, judge_all, submit
from tests.test_discussions_domain import act, planned

KIM = Person(502, 502, "Kim Candidate")
_ids = count(1)
VOICE = IncomingAttachment("voice", "voice-file", "voice-unique", 9_000, 12, "audio/ogg")
STATEMENT = "I confirm that this is a true record of what I did while my assessor observed me."


def observe(engine, banks, step: str, person: Person, *args):
    with transaction(engine) as session:
        return getattr(Observations(Repository(session), banks), step)(person, *args)


def sent(person: Person, text: str | None, attachment: IncomingAttachment | None = None) -> IncomingMessage:
    number = next(_ids)
    return IncomingMessage(text, person.chat_id, number, 80_000 + number, datetime.now(UTC), attachment)


def enrolment_of(choices: ObserveChoices, unit: str, candidate: str = SAM.name) -> int:
    return next(c.enrolment_id for c in choices.candidates if c.unit_code == unit and c.candidate == candidate)


def recorded(engine, banks, unit: str, refs, seen=("Greets the customer and listens without interrupting.",)) -> ObservationRecord:
    """Ann observes Sam on `unit` for `refs`, at the service desk, and finishes."""
    began = observe(engine, banks, "begin", ANN, enrolment_of(observe(engine, banks, "choices", ANN), unit))
    assert isinstance(began, Choosing)
    for ref in refs:
        observe(engine, banks, "toggle", ANN, began.observation_id, ref)
    assert isinstance(observe(engine, banks, "ask_place", ANN, began.observation_id), PlaceAsked)
    assert isinstance(observe(engine, banks, "take", ANN, sent(ANN, "Service desk, Leeds store")), Recording)
    for words in seen:
        assert isinstance(observe(engine, banks, "take", ANN, sent(ANN, words)), SeenKept)
    record = observe(engine, banks, "finish", ANN, began.observation_id)
    assert isinstance(record, ObservationRecord)
    return record


def test_an_observation_recorded_as_it_happens_is_countersigned_judged_and_counts_with_the_units_code(engine, banks):
    sam = enrol(engine, banks, "cg-310")
    enrol(engine, banks, "ocr-c3", person=KIM)  # OCR C3 uses no observation
    choices = observe(engine, banks, "choices", ANN)
    assert isinstance(choices, ObserveChoices) and [(c.candidate, c.unit_code) for c in choices.candidates] == [
        (SAM.name, "cg-310")
    ]
    assert observe(engine, banks, "choices", SAM) is Denied.NOT_AN_ASSESSOR
    began = observe(engine, banks, "begin", ANN, choices.candidates[0].enrolment_id)
    assert isinstance(began, Choosing) and began.ref == "O1" and not any(c.chosen for c in began.choices)
    assert observe(engine, banks, "begin", BOB, choices.candidates[0].enrolment_id) is Denied.NOT_YOURS
    assert observe(engine, banks, "toggle", BOB, began.observation_id, "310.1.1") is Denied.NOT_YOURS
    assert observe(engine, banks, "ask_place", ANN, began.observation_id) == Problem("no_criteria", began.observation_id)
    for ref in ("310.1.1", "310.1.2", "310.1.4"):
        observe(engine, banks, "toggle", ANN, began.observation_id, ref)
    observe(engine, banks, "toggle", ANN, began.observation_id, "310.1.2")  # tapped again: not chosen
    assert observe(engine, banks, "take", ANN, sent(ANN, "not yet recording")) is None
    asked = observe(engine, banks, "ask_place", ANN, began.observation_id)
    assert isinstance(asked, PlaceAsked) and observe(engine, banks, "taking", ANN)
    assert observe(engine, banks, "take", ANN, sent(ANN, None, VOICE)) == Problem("no_place", began.observation_id)
    started = observe(engine, banks, "take", ANN, sent(ANN, "  Customer service desk,   Leeds store "))
    assert isinstance(started, Recording) and started.place == "Customer service desk, Leeds store"
    assert [ref for ref, _ in started.criteria] == ["310.1.1", "310.1.4"]
    assert observe(engine, banks, "finish", BOB, began.observation_id) is Denied.NOT_YOURS

    kept = observe(engine, banks, "take", ANN, sent(ANN, "Listens to the customer's complaint about a late delivery."))
    assert isinstance(kept, SeenKept) and kept.count == 1
    assert observe(engine, banks, "take", ANN, sent(ANN, None, VOICE)).kind == "voice"
    assert observe(engine, banks, "take", SAM, sent(SAM, "I am the candidate")) is None  # not the assessor's
    record = observe(engine, banks, "finish", ANN, began.observation_id)
    assert isinstance(record, ObservationRecord) and record.candidate_chat_id == SAM.chat_id
    assert record.place == "Customer service desk, Leeds store" and [r for r, _ in record.criteria] == ["310.1.1", "310.1.4"]
    assert [line.text for line in record.lines] == ["Listens to the customer's complaint about a late delivery.", None]
    assert record.lines[1].attachment.startswith("voice 12 s")
    assert not observe(engine, banks, "taking", ANN)
    assert not sam.do("progress")[0].draft_waiting  # waiting for a countersignature is no draft to /continue
    assert observe(engine, banks, "take", ANN, sent(ANN, "after Finish")) is None  # for the other handlers again

    # Not counted until countersigned; only the candidate observed can countersign.
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.1.1").evidence == []
    assert observe(engine, banks, "countersign", KIM, began.observation_id, STATEMENT) is Denied.NOT_YOURS
    assert observe(engine, banks, "countersign", ANN, began.observation_id, STATEMENT) is Denied.NOT_YOURS
    disputed = observe(engine, banks, "dispute", SAM, began.observation_id)
    assert isinstance(disputed, Disputed) and disputed.assessor_chat_id == ANN.chat_id
    signed = observe(engine, banks, "countersign", SAM, began.observation_id, STATEMENT)
    assert isinstance(signed, Countersigned) and signed.ref == "O1"
    assert observe(engine, banks, "countersign", SAM, began.observation_id, STATEMENT) == Problem("not_to_sign")
    with transaction(engine) as session:
        submission = session.get(Submission, signed.submission_id)
        assert submission.kind == "observation" and submission.declaration == STATEMENT
        observation = session.get(Observation, began.observation_id)
        assert observation.status == "countersigned" and observation.countersigned_at is not None
        answer = session.get(Answer, observation.answer_id)
        assert answer.asked["place"] == "Customer service desk, Leeds store" and answer.asked["method_code"] == "O"
    row = coverage(engine, banks, SAM, "cg-310").criterion("310.1.4")
    assert row.status == ANSWERED and [(e.ref, e.method, e.method_code) for e in row.evidence] == [("O1.v1", "observation", "O")]
    assert [item.submission_id for item in judge(engine, banks, "queue", ANN)] == [signed.submission_id]
    judge_all(engine, banks)
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.1.1").status == MET


def test_one_observation_at_a_time_and_a_cancelled_one_leaves_nothing(engine, banks):
    enrol(engine, banks, "cg-310")
    enrolment_id = enrolment_of(observe(engine, banks, "choices", ANN), "cg-310")
    first = observe(engine, banks, "begin", ANN, enrolment_id)
    observe(engine, banks, "toggle", ANN, first.observation_id, "310.1.1")
    observe(engine, banks, "ask_place", ANN, first.observation_id)
    assert observe(engine, banks, "begin", ANN, enrolment_id) == Problem("busy", first.observation_id)
    observe(engine, banks, "take", ANN, sent(ANN, "Till 3"))
    assert observe(engine, banks, "finish", ANN, first.observation_id) == Problem("nothing_seen", first.observation_id)
    observe(engine, banks, "take", ANN, sent(ANN, "Greets the customer."))
    assert observe(engine, banks, "cancel", BOB, first.observation_id) is Denied.NOT_YOURS
    observe(engine, banks, "cancel", ANN, first.observation_id)
    assert observe(engine, banks, "take", ANN, sent(ANN, "anything")) is None
    second = observe(engine, banks, "begin", ANN, enrolment_id)
    assert second.ref == "O2"
    with transaction(engine) as session:
        assert [a.status for a in session.exec(select(Answer))] == ["retired"]


def test_an_observation_cannot_start_during_a_discussion(engine, banks):
    enrol(engine, banks, "cg-310")
    enrolment_id = enrolment_of(observe(engine, banks, "choices", ANN), "cg-310")
    plan = planned(engine, banks, enrolment_id)
    act(engine, banks, "talk", "start", ANN, plan.discussion_id)
    assert observe(engine, banks, "begin", ANN, enrolment_id) == Problem("busy")


@pytest.mark.slow
def test_the_nhs_unit_is_competent_only_once_a_countersigned_observation_is_met(engine, banks):
    sam = enrol(engine, banks, "nhs-cs")
    answer_everything(sam, banks, "nhs-cs")
    submit(sam, "nhs-cs")
    submission_id = judge_all(engine, banks)
    blocked = judge(engine, banks, "sign_off", ANN, submission_id)
    assert isinstance(blocked, UnitNotComplete)
    assert [m.code for m in blocked.coverage.methods_missing] == ["DO", "PD"]

    # A professional discussion, confirmed and met: observation is still missing.
    enrolment_id = enrolment_of(observe(engine, banks, "choices", ANN), "nhs-cs")
    missing = [c.ref for c in blocked.coverage.missing]
    plan = planned(engine, banks, enrolment_id, refs=("1",))
    act(engine, banks, "talk", "start", ANN, plan.discussion_id)
    said = act(engine, banks, "talk", "take", SAM, sent(SAM, "I explained the delay to the patient's relative."))
    act(engine, banks, "talk", "reference", ANN, said.part_id, "1")
    act(engine, banks, "talk", "end", ANN, plan.discussion_id)
    act(engine, banks, "talk", "confirm", SAM, plan.discussion_id, "It is a true record.")
    with transaction(engine) as session:
        assert Discussions(Repository(session), banks).held_for(ANN) is None
    submission_id = judge_all(engine, banks)
    blocked = judge(engine, banks, "sign_off", ANN, submission_id)
    assert isinstance(blocked, UnitNotComplete) and [m.code for m in blocked.coverage.methods_missing] == ["DO"]

    # Recorded but not countersigned: still not competent.
    record = recorded(engine, banks, "nhs-cs", [ref for ref in missing if banks.unit("nhs-cs").criterion(ref).kind != "knowledge"] or ["1"])
    blocked = judge(engine, banks, "sign_off", ANN, submission_id)
    assert isinstance(blocked, UnitNotComplete) and [m.code for m in blocked.coverage.methods_missing] == ["DO"]
    signed = observe(engine, banks, "countersign", SAM, record.observation_id, STATEMENT)
    assert judge_all(engine, banks) == signed.submission_id
    outcome = judge(engine, banks, "sign_off", ANN, signed.submission_id)
    assert isinstance(outcome, SignedOff), [c.ref for c in outcome.coverage.missing]
    assert outcome.outcome == "competent"
