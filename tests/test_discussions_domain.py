"""Professional discussions in the domain: planning, holding one live, referencing criteria, the record, coverage."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.domain.assessment import Assessment
from bot.domain.assessor_work import Denied
from bot.domain.coverage import unit_coverage
from bot.domain.discussion_plans import DiscussionPlans, Plan, Planning, PlanProblem, TimeAsked, parse_time
from bot.domain.discussion_records import held_for
from bot.domain.discussion_work import Confirmed, DiscussionProblem, DiscussionRecord, Relay, Started
from bot.domain.discussions import Discussions
from bot.domain.reminders import ReminderRules, find_due
from bot.domain.sittings import IncomingMessage, Person
from bot.storage.db import transaction
from bot.storage.models import AnswerPart, Enrolment
from bot.storage.repository import Repository

ANN = Person(11, 11, "Ann Assessor")
BOB = Person(12, 12, "Bob Assessor")
SAM = Person(501, 501, "Sam Candidate")
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def clock():
    return NOW


def act(engine, banks, side, step, *args, **kwargs):
    with transaction(engine) as session:
        repo = Repository(session)
        kind = DiscussionPlans if side == "plans" else Discussions
        return getattr(kind(repo, banks, clock), step)(*args, **kwargs)


def message(person: Person, text: str | None, message_id: int) -> IncomingMessage:
    return IncomingMessage(text=text, chat_id=person.chat_id, message_id=message_id, update_id=message_id, sent_at=NOW)


@pytest.fixture
def enrolment_id(engine, banks) -> int:
    """Sam is on cg-310, assessed by Ann; Bob assesses nobody."""
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(ANN.user_id, ANN.name)
        assessment.add_assessor(BOB.user_id, BOB.name)
        code = assessment.create_invite("cg-310", ANN.user_id, date(2099, 1, 1)).code
        assessment.redeem_invite(SAM, code)
    with transaction(engine) as session:
        return session.exec(select(Enrolment.id)).one()


def planned(engine, banks, enrolment_id: int, refs=("310.1.1", "310.1.4", "310.2.1"), when="2026-12-03 10:30") -> Plan:
    draft = act(engine, banks, "plans", "begin", ANN, enrolment_id)
    for ref in refs:
        act(engine, banks, "plans", "toggle", ANN, draft.discussion_id, ref)
    assert isinstance(act(engine, banks, "plans", "ask_time", ANN, draft.discussion_id), TimeAsked)
    plan = act(engine, banks, "plans", "take_time", ANN, when)
    assert isinstance(plan, Plan)
    return plan


def test_a_plan_offers_the_missing_criteria_and_is_sent_in_each_persons_zone(engine, banks, enrolment_id):
    draft = act(engine, banks, "plans", "begin", ANN, enrolment_id)
    assert isinstance(draft, Planning) and len(draft.choices) == 28 and not any(c.chosen for c in draft.choices)
    toggled = act(engine, banks, "plans", "toggle", ANN, draft.discussion_id, "310.1.4")
    assert [c.ref for c in toggled.choices if c.chosen] == ["310.1.4"]
    assert act(engine, banks, "plans", "toggle", BOB, draft.discussion_id, "310.1.1") is Denied.NOT_YOURS
    assert act(engine, banks, "plans", "toggle", ANN, draft.discussion_id, "no-such") is Denied.NOT_YOURS
    act(engine, banks, "plans", "ask_time", ANN, draft.discussion_id)
    assert act(engine, banks, "plans", "take_time", ANN, "next week sometime") is PlanProblem.BAD_TIME
    assert act(engine, banks, "plans", "take_time", ANN, "2026-12-03 09:00") is PlanProblem.TIME_IN_PAST
    plan = act(engine, banks, "plans", "take_time", ANN, "tomorrow 14:30")
    assert plan.assessor_time == datetime(2026, 12, 4, 14, 30, tzinfo=LONDON)
    assert plan.criteria == [("310.1.4", banks.unit("cg-310").criterion("310.1.4").text)]
    assert act(engine, banks, "plans", "take_time", ANN, "tomorrow 15:00") is Denied.NOTHING_AWAITED


def test_times_are_read_as_assessors_type_them():
    now = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    assert parse_time("2026-12-04 9:05", now, LONDON) == datetime(2026, 12, 4, 9, 5, tzinfo=LONDON)
    assert parse_time("4/12 14.30", now, LONDON) == datetime(2026, 12, 4, 14, 30, tzinfo=LONDON)
    assert parse_time("Tomorrow at 10:00", now, LONDON) == datetime(2026, 12, 4, 10, 0, tzinfo=LONDON)
    assert parse_time("31/02 10:00", now, LONDON) is None
    assert parse_time("25:00", now, LONDON) is None


def test_both_are_reminded_once_within_the_lead_time(engine, banks, enrolment_id):
    planned(engine, banks, enrolment_id, when="2026-12-03 11:30")  # 90 minutes away
    rules = ReminderRules(discussion_lead=timedelta(minutes=60))
    with transaction(engine) as session:
        assert [r for r in find_due(session, rules, NOW) if r.kind == "discussion"] == []
        due = [r for r in find_due(session, rules, NOW + timedelta(minutes=45)) if r.kind == "discussion"]
    assert sorted(r.chat_id for r in due) == [ANN.chat_id, SAM.chat_id] and all(r.discussion_id for r in due)


def test_a_live_discussion_relays_keeps_references_and_counts_as_pd_once_confirmed(engine, banks, enrolment_id):
    plan = planned(engine, banks, enrolment_id)
    assert act(engine, banks, "talk", "start", BOB, plan.discussion_id) is Denied.NOT_YOURS
    started = act(engine, banks, "talk", "start", ANN, plan.discussion_id)
    assert isinstance(started, Started) and started.candidate_chat_id == SAM.chat_id

    told = act(engine, banks, "talk", "take", SAM, message(SAM, "A delivery was missed, so I rang the depot.", 20))
    assert isinstance(told, Relay) and told.to_chat_id == ANN.chat_id and told.to_assessor
    assert told.buttons == [("310.1.1", False), ("310.1.4", False), ("310.2.1", False)]
    asked = act(engine, banks, "talk", "take", ANN, message(ANN, "What did you tell the customer?", 21))
    assert isinstance(asked, Relay) and asked.to_chat_id == SAM.chat_id and not asked.buttons

    # Only the discussion's assessor references, only a candidate's message, only a criterion of the unit.
    assert act(engine, banks, "talk", "reference", SAM, told.part_id, "310.1.1") is Denied.NOT_AN_ASSESSOR
    assert act(engine, banks, "talk", "reference", BOB, told.part_id, "310.1.1") is Denied.NOT_YOURS
    assert act(engine, banks, "talk", "reference", ANN, asked.part_id, "310.1.1") is Denied.NOT_YOURS
    assert act(engine, banks, "talk", "reference", ANN, told.part_id, "9.9.9") is Denied.NOT_YOURS
    referenced = act(engine, banks, "talk", "reference", ANN, told.part_id, "310.1.1")
    assert referenced.buttons == [("310.1.1", True), ("310.1.4", False), ("310.2.1", False)]
    assert act(engine, banks, "talk", "reference", ANN, told.part_id, "310.1.1").already
    other = act(engine, banks, "talk", "other_criteria", ANN, told.part_id)
    assert len(other.refs) == 28 and ("310.1.1", True) in other.refs
    act(engine, banks, "talk", "reference", ANN, told.part_id, "310.4.2")  # not in the plan: "other…"
    act(engine, banks, "talk", "note", ANN, "Clear, real example.")

    later = act(engine, banks, "talk", "take", SAM, message(SAM, "I told them when it would come.", 22))
    assert later.buttons == [("310.1.4", False), ("310.2.1", False)]  # the plan's criteria still open
    act(engine, banks, "talk", "reference", ANN, later.part_id, "310.1.4")

    paused = act(engine, banks, "talk", "hold", ANN, plan.discussion_id, paused=True)
    assert paused.paused
    assert act(engine, banks, "talk", "take", SAM, message(SAM, "Are you there?", 23)) is DiscussionProblem.PAUSED
    act(engine, banks, "talk", "hold", ANN, plan.discussion_id, paused=False)

    record = act(engine, banks, "talk", "end", ANN, plan.discussion_id)
    assert isinstance(record, DiscussionRecord) and record.referenced == ["310.1.1", "310.1.4", "310.4.2"]
    assert [(line.author, line.private) for line in record.lines] == [
        ("candidate", False), ("assessor", False), ("assessor", True), ("candidate", False)
    ]
    assert [line.text for line in record.shown_to_candidate()] == [
        "A delivery was missed, so I rang the depot.", "What did you tell the customer?", "I told them when it would come."
    ]
    with transaction(engine) as session:
        enrolment = session.get(Enrolment, enrolment_id)
        assert unit_coverage(session, banks, enrolment).criterion("310.1.1").evidence == []  # not yet confirmed
    assert act(engine, banks, "talk", "confirm", BOB, plan.discussion_id, "true") is Denied.NOT_YOURS
    confirmed = act(engine, banks, "talk", "confirm", SAM, plan.discussion_id, "It is a true record.")
    assert isinstance(confirmed, Confirmed)
    assert act(engine, banks, "talk", "confirm", SAM, plan.discussion_id, "again") is DiscussionProblem.NOT_ENDED
    with transaction(engine) as session:
        coverage = unit_coverage(session, banks, session.get(Enrolment, enrolment_id))
        for ref in ("310.1.1", "310.1.4", "310.4.2"):
            row = coverage.criterion(ref)
            assert row.status == "answered" and [(e.ref, e.method_code) for e in row.evidence] == [("PD1.v1", "PD")]
        assert coverage.criterion("310.2.1").evidence == []
        assert session.get(Enrolment, enrolment_id).status == "active"  # confirming a record submits only it
        parts = session.exec(select(AnswerPart).order_by(col(AnswerPart.seq))).all()
        assert [p.text for p in parts if p.private] == ["Clear, real example."]


def test_a_second_discussion_cannot_start_while_one_is_held(engine, banks, enrolment_id):
    first = planned(engine, banks, enrolment_id)
    second = planned(engine, banks, enrolment_id, refs=("310.3.1",), when="2026-12-03 12:00")
    act(engine, banks, "talk", "start", ANN, first.discussion_id)
    assert act(engine, banks, "talk", "start", ANN, second.discussion_id) is DiscussionProblem.BUSY
    assert second.ref == "PD2"


def test_time_held_leaves_out_pauses():
    events = [{"event": e, "at": (NOW + timedelta(minutes=m)).isoformat()}
              for e, m in [("started", 0), ("paused", 10), ("resumed", 25), ("ended", 40)]]
    assert held_for(events, NOW + timedelta(hours=5)) == timedelta(minutes=25)
