"""Witness testimony in the domain: naming a witness, the one-use link, the statement, its declaration, the record,
and coverage, where testimony supports a decision and never makes a criterion met on its own."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.domain.assessment import INVITE_CODE_PATTERN, Assessment
from bot.domain.assessor_work import Denied
from bot.domain.coverage import Counted, _status, unit_coverage
from bot.domain.evidence import evidence_for
from bot.domain.judging import Judging
from bot.domain.limits import DEFAULT_LIMITS
from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person
from bot.domain.witness_requests import ChooseUnit, ChoosingCriteria, DetailsAsked, LinkMade, WitnessRequests
from bot.domain.witness_statements import (
    DeclarationShown,
    StatementConfirmed,
    StatementKept,
    WitnessAsked,
    WitnessStatements,
)
from bot.domain.witnesses import WitnessProblem
from bot.storage.db import transaction
from bot.storage.models import AnswerPart, Enrolment, Submission, Witness
from bot.storage.repository import Repository

ANN = Person(11, 11, "Ann Assessor")
BOB = Person(12, 12, "Bob Assessor")
SAM = Person(501, 501, "Sam Candidate")
JO = Person(901, 901, "Jo Telegram")  # the witness
EVE = Person(902, 902, "Eve Stranger")
START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
DETAILS = "Jo Smith\nTeam leader\nMy line manager\njo.smith@example.org"
STATEMENT = "On 12 November I saw Sam ring a customer back twice to say when the delivery would come."


class Clock:
    def __init__(self):
        self.now = START

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def act(engine, banks, clock, step, *args):
    """One step in a transaction of its own, on the task that has it: naming the witness, or the witness's side."""
    task = WitnessRequests if hasattr(WitnessRequests, step) else WitnessStatements
    with transaction(engine) as session:
        return getattr(task(Repository(session), banks, clock), step)(*args)


def message(person: Person, text: str | None, message_id: int, attachment=None) -> IncomingMessage:
    return IncomingMessage(text=text, chat_id=person.chat_id, message_id=message_id, update_id=message_id,
                           sent_at=START, attachment=attachment)


@pytest.fixture
def enrolment_id(engine, banks) -> int:
    """Sam is on cg-310, assessed by Ann; Bob assesses nobody."""
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(ANN.user_id, ANN.name)
        assessment.add_assessor(BOB.user_id, BOB.name)
        assessment.redeem_invite(SAM, assessment.create_invite("cg-310", ANN.user_id, date(2099, 1, 1)).code)
    with transaction(engine) as session:
        return session.exec(select(Enrolment.id)).one()


def linked(engine, banks, clock, refs=("310.1.4", "310.1.1")) -> LinkMade:
    asked = act(engine, banks, clock, "name", SAM)
    assert isinstance(asked, DetailsAsked)
    act(engine, banks, clock, "take_details", SAM, message(SAM, DETAILS, 1))
    for ref in refs:
        act(engine, banks, clock, "toggle", SAM, asked.witness_id, ref)
    link = act(engine, banks, clock, "make_link", SAM, asked.witness_id)
    assert isinstance(link, LinkMade)
    return link


def confirmed(engine, banks, clock) -> StatementConfirmed:
    link = linked(engine, banks, clock)
    act(engine, banks, clock, "open", JO, link.code)
    act(engine, banks, clock, "take", JO, message(JO, STATEMENT, 2))
    act(engine, banks, clock, "finish", JO, link.witness_id)
    done = act(engine, banks, clock, "confirm", JO, link.witness_id, "I confirm it is true.")
    assert isinstance(done, StatementConfirmed)
    return done


def test_a_candidate_names_a_witness_and_gets_a_one_use_link(engine, banks, clock, enrolment_id):
    asked = act(engine, banks, clock, "name", SAM)  # one unit: no choice to make
    assert isinstance(asked, DetailsAsked) and asked.unit_code == "cg-310" and not asked.by_assessor
    assert act(engine, banks, clock, "take_details", SAM, message(SAM, "Jo Smith, my manager", 1)) is WitnessProblem.BAD_DETAILS
    choosing = act(engine, banks, clock, "take_details", SAM, message(SAM, f"\n{DETAILS}\n\n", 2))
    assert isinstance(choosing, ChoosingCriteria) and choosing.witness == "Jo Smith"
    assert len(choosing.choices) == 14 and all(c.ref.startswith(("310.1", "310.2", "310.3")) for c in choosing.choices)
    assert act(engine, banks, clock, "take_details", SAM, message(SAM, DETAILS, 3)) is WitnessProblem.NOT_NAMING
    assert act(engine, banks, clock, "toggle", BOB, asked.witness_id, "310.1.4") is Denied.NOT_YOURS
    assert act(engine, banks, clock, "toggle", SAM, asked.witness_id, "310.4.2") is Denied.NOT_YOURS  # knowledge
    assert act(engine, banks, clock, "make_link", SAM, asked.witness_id) is WitnessProblem.NO_CRITERIA
    for ref in ("310.2.1", "310.1.4", "310.2.1", "310.1.1"):  # 310.2.1 chosen, then not
        choosing = act(engine, banks, clock, "toggle", SAM, asked.witness_id, ref)
    assert [c.ref for c in choosing.choices if c.chosen] == ["310.1.1", "310.1.4"]
    link = act(engine, banks, clock, "make_link", SAM, asked.witness_id)
    assert isinstance(link, LinkMade) and link.ref == "WT1" and link.witness == "Jo Smith"
    assert link.criteria == [(ref, banks.unit("cg-310").criterion(ref).text) for ref in ("310.1.1", "310.1.4")]
    assert link.code.startswith("wt-") and len(link.code) <= 64 and not INVITE_CODE_PATTERN.match(link.code)
    assert set(link.code) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
    assert link.expires_at == START + DEFAULT_LIMITS.invite_valid_for
    with transaction(engine) as session:
        witness = session.exec(select(Witness)).one()
        assert (witness.job_role, witness.relationship, witness.contact) == ("Team leader", "My line manager", "jo.smith@example.org")
        assert witness.status == "invited" and witness.named_by == "candidate"


def test_several_units_are_chosen_from_and_a_unit_without_witness_testimony_is_not_offered(engine, banks, clock, enrolment_id):
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        for unit in ("edexcel-f6", "ocr-c3"):  # OCR C3 takes no witness testimony
            assessment.redeem_invite(SAM, assessment.create_invite(unit, ANN.user_id, date(2099, 1, 1)).code)
    choose = act(engine, banks, clock, "name", SAM)
    assert isinstance(choose, ChooseUnit) and [c.unit_code for c in choose.choices] == ["cg-310", "edexcel-f6"]
    ocr = next(e for e in _enrolments(engine) if e.unit_code == "ocr-c3")
    assert act(engine, banks, clock, "begin", SAM, ocr.id) is WitnessProblem.NO_WT_IN_UNIT
    assert act(engine, banks, clock, "begin", EVE, choose.choices[0].enrolment_id) is Denied.NOT_YOURS
    waiting = act(engine, banks, clock, "begin", SAM, choose.choices[1].enrolment_id)
    clock.now += timedelta(hours=2)  # a wait for the details left open never swallows later messages
    assert act(engine, banks, clock, "take_details", SAM, message(SAM, DETAILS, 1)) is WitnessProblem.NOT_NAMING
    assert act(engine, banks, clock, "toggle", SAM, waiting.witness_id, "1.1") is WitnessProblem.NOT_NAMING
    by_ann = act(engine, banks, clock, "name", ANN)
    assert isinstance(by_ann, ChooseUnit) and by_ann.for_assessor
    assert act(engine, banks, clock, "name", BOB) is WitnessProblem.NO_ENROLMENT
    asked = act(engine, banks, clock, "begin", ANN, by_ann.choices[1].enrolment_id)
    assert isinstance(asked, DetailsAsked) and asked.by_assessor and asked.unit_code == "edexcel-f6"


def _enrolments(engine) -> list[Enrolment]:
    with transaction(engine) as session:
        return list(session.exec(select(Enrolment)))


def test_the_witness_writes_speaks_and_confirms_which_submits_it_to_be_judged(engine, banks, clock, enrolment_id):
    link = linked(engine, banks, clock)
    assert act(engine, banks, clock, "open", SAM, link.code) is WitnessProblem.OWN_LINK
    assert act(engine, banks, clock, "open", ANN, link.code) is WitnessProblem.OWN_LINK
    clock.now += timedelta(hours=2)
    asked = act(engine, banks, clock, "open", JO, link.code)
    assert isinstance(asked, WitnessAsked) and not asked.resumed and asked.candidate == "Sam Candidate"
    assert asked.asked_by == "Sam Candidate" and asked.assessor == "Ann Assessor"
    assert asked.criteria == link.criteria
    assert act(engine, banks, clock, "finish", JO, link.witness_id) is WitnessProblem.NOTHING_WRITTEN
    assert act(engine, banks, clock, "open", JO, link.code).resumed  # their own link again: carry on

    kept = act(engine, banks, clock, "take", JO, message(JO, STATEMENT, 10))
    assert isinstance(kept, StatementKept) and kept.parts == 1
    voice = IncomingAttachment("voice", "voice-file", "voice-unique", 12_000, 9, "audio/ogg")
    assert act(engine, banks, clock, "take", JO, message(JO, None, 11, voice)).parts == 2
    assert act(engine, banks, clock, "take", EVE, message(EVE, "hello", 12)) is None  # not a witness: other handlers
    assert act(engine, banks, clock, "finish", EVE, link.witness_id) is Denied.NOT_YOURS
    shown = act(engine, banks, clock, "finish", JO, link.witness_id)
    assert isinstance(shown, DeclarationShown) and shown.texts == [STATEMENT, "[voice]"]
    assert act(engine, banks, clock, "take", JO, message(JO, "one more thing", 13)) is WitnessProblem.DECLARING
    assert isinstance(act(engine, banks, clock, "back", JO, link.witness_id), WitnessAsked)
    act(engine, banks, clock, "take", JO, message(JO, "It was on a Tuesday morning.", 14))
    act(engine, banks, clock, "finish", JO, link.witness_id)
    assert act(engine, banks, clock, "confirm", EVE, link.witness_id, "x") is Denied.NOT_YOURS
    done = act(engine, banks, clock, "confirm", JO, link.witness_id, "I confirm it is true.")
    assert isinstance(done, StatementConfirmed) and done.assessor_chat_id == ANN.chat_id
    assert act(engine, banks, clock, "confirm", JO, link.witness_id, "again") is WitnessProblem.NOT_WRITING

    with transaction(engine) as session:
        witness = session.exec(select(Witness)).one()
        assert (witness.telegram_user_id, witness.telegram_name, witness.status) == (JO.user_id, "Jo Telegram", "confirmed")
        assert witness.used_at == START + timedelta(hours=2) and witness.confirmed_at == START + timedelta(hours=2)
        submission = session.exec(select(Submission)).one()
        assert (submission.kind, submission.declared_by, submission.declared_by_telegram_id) == ("witness", "Jo Smith", JO.user_id)
        parts = session.exec(select(AnswerPart).order_by(col(AnswerPart.seq))).all()
        assert [(p.author, p.text) for p in parts] == [
            ("witness", STATEMENT), ("witness", None), ("witness", "It was on a Tuesday morning.")
        ]
        coverage = unit_coverage(session, banks, session.get(Enrolment, enrolment_id))
        row = coverage.criterion("310.1.4")
        assert row.status == "answered" and [(e.ref, e.method_code) for e in row.evidence] == [("WT1.v1", "WT")]
        assert session.get(Enrolment, enrolment_id).status == "active"  # it submits the testimony alone
        queue = Judging(Repository(session), banks).queue(ANN)
        assert [(item.candidate, item.answers) for item in queue] == [("Sam Candidate", 1)]


def test_a_used_expired_or_unknown_link_is_refused_and_changes_nothing(engine, banks, clock, enrolment_id):
    link = linked(engine, banks, clock)
    act(engine, banks, clock, "open", JO, link.code)
    assert act(engine, banks, clock, "open", EVE, link.code) is WitnessProblem.USED
    with transaction(engine) as session:
        assert session.exec(select(Witness.telegram_user_id)).one() == JO.user_id
    assert act(engine, banks, clock, "take", EVE, message(EVE, "hijack", 5)) is None
    assert act(engine, banks, clock, "open", EVE, "wt-" + "x" * 22) is WitnessProblem.UNKNOWN
    assert act(engine, banks, clock, "open", EVE, "wt-bad code") is WitnessProblem.UNKNOWN

    later = linked(engine, banks, clock, refs=("310.2.1",))
    assert later.ref == "WT2"
    clock.now = later.expires_at
    assert act(engine, banks, clock, "open", EVE, later.code) is WitnessProblem.EXPIRED
    cancelled = linked(engine, banks, clock, refs=("310.3.1",))
    assert act(engine, banks, clock, "cancel", EVE, cancelled.witness_id) is Denied.NOT_YOURS
    act(engine, banks, clock, "cancel", SAM, cancelled.witness_id)
    assert act(engine, banks, clock, "open", EVE, cancelled.code) is WitnessProblem.CANCELLED
    with transaction(engine) as session:
        untouched = session.exec(select(Witness).where(col(Witness.number).in_([2, 3]))).all()
        assert all(w.telegram_user_id is None and w.used_at is None and w.answer_id is None for w in untouched)


def test_testimony_supports_a_decision_but_never_makes_a_criterion_met_on_its_own(engine, banks, clock, enrolment_id):
    done = confirmed(engine, banks, clock)
    with transaction(engine) as session:
        judging = Judging(Repository(session), banks, clock)
        item = judging.next_to_judge(ANN, done.submission_id)
        assert item.method == "WT" and STATEMENT in item.text
        judging.judge(ANN, item.answer_id, "met")
    with transaction(engine) as session:
        row = unit_coverage(session, banks, session.get(Enrolment, enrolment_id)).criterion("310.1.4")
        assert [e.judgment for e in row.evidence] == ["met"] and row.status == "answered"

    def counted(method: str, judgment: str | None) -> Counted:
        return Counted(1, "X.v1", "cg-310", method, "", judgment)

    assert _status([counted("witness_testimony", "met")]) == "answered"
    assert _status([counted("witness_testimony", "met"), counted("questioning", "not_yet")]) == "answered"
    assert _status([counted("witness_testimony", "met"), counted("observation", "met")]) == "met"
    assert _status([counted("witness_testimony", "not_yet")]) == "referred"


def test_the_record_lists_the_witnesses_only_when_there_are_some(engine, banks, clock, enrolment_id):
    with transaction(engine) as session:
        assert "witnesses" not in evidence_for(session, banks, SAM.user_id, "cg-310", "Europe/London")
    confirmed(engine, banks, clock)
    with transaction(engine) as session:
        record = evidence_for(session, banks, SAM.user_id, "cg-310", "Europe/London")
    assert record["witnesses"] == [{
        "ref": "WT1", "name": "Jo Smith", "job_role": "Team leader", "relationship": "My line manager",
        "contact": "jo.smith@example.org", "criteria": ["310.1.1", "310.1.4"], "named_by": "candidate",
        "status": "confirmed", "opened_at": START.isoformat(), "telegram_user_id": JO.user_id,
        "telegram_name": "Jo Telegram", "confirmed_at": START.isoformat(), "date_confirmed": "2026-12-03",
        "answer": "WT1.v1",
    }]
    testimony = next(a for a in record["answers"] if a["ref"] == "WT1.v1")
    assert testimony["method"] == "WT" and testimony["parts"][0]["author"] == "witness"
    assert any(e["actor"] == "Jo Smith (witness)" and e["action"] == "witness confirmed" for e in record["audit"])
