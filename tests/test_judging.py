"""The assessor's side in the domain: queue, judgments, follow-ups, sign-off, cohort, staff invites, audit."""

from datetime import date, timedelta

import pytest

from bot.domain.assessment import Assessment, AssessorRegistered
from bot.domain.caseload import Caseload, SignedOff
from bot.domain.judging import AllJudged, AnswerToJudge, Asked, Denied, Judging
from bot.domain.sittings import FollowUpReplied, Person, Prompt, Refusal
from bot.storage import audit
from bot.storage.db import transaction
from bot.storage.repository import Repository
from tests.test_sittings import Candidate

ANN = Person(11, 11, "Ann Assessor")
BOB = Person(12, 12, "Bob Assessor")
SAM = Person(501, 501, "Sam Candidate")


def act(engine, banks, step, *args):
    with transaction(engine) as session:
        repo = Repository(session)
        side = Judging(repo, banks) if hasattr(Judging, step) else Caseload(repo, banks)
        return getattr(side, step)(*args)


@pytest.fixture
def submitted(engine, banks):
    """Sam (assessed by Ann) has submitted two answers; Bob assesses nobody."""
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(ANN.user_id, ANN.name, admin=True)
        assessment.add_assessor(BOB.user_id, BOB.name)
        code = assessment.create_invite("cg-310", ANN.user_id, date.today() + timedelta(days=30)).code
        assessment.redeem_invite(SAM, code)
    sam = Candidate(engine, banks, SAM)
    sam.answer()
    sam.answer()
    sam.do("submit", sam.do("review").enrolment_id)
    return sam


def test_the_queue_judging_follow_up_and_sign_off(engine, banks, submitted):
    queue = act(engine, banks, "queue", ANN)
    assert [(q.candidate, q.answers, q.judged) for q in queue] == [("Sam Candidate", 2, 0)]
    first = act(engine, banks, "next_to_judge", ANN, queue[0].submission_id)
    assert isinstance(first, AnswerToJudge) and first.criteria == ["310.4.1"] and first.look_fors
    act(engine, banks, "judge", ANN, first.answer_id, "met")
    second = act(engine, banks, "next_to_judge", ANN, queue[0].submission_id)
    assert second.number == 2
    assert act(engine, banks, "sign_off", ANN, queue[0].submission_id) is Denied.NOT_ALL_JUDGED

    act(engine, banks, "await_text", ANN, second.answer_id, "question")
    kind, asked = act(engine, banks, "take_text", ANN, "Who reviews the log?")
    assert kind == "question" and isinstance(asked, Asked) and asked.candidate_chat_id == SAM.chat_id
    replied = submitted.say("The team leader, every Monday.")
    assert isinstance(replied, FollowUpReplied) and replied.assessor_chat_id == ANN.chat_id

    act(engine, banks, "await_text", ANN, second.answer_id, "feedback")
    kind, judgment = act(engine, banks, "take_text", ANN, "Say how repeats are spotted.")
    assert kind == "feedback" and judgment.outcome == "not_yet"
    assert isinstance(act(engine, banks, "next_to_judge", ANN, queue[0].submission_id), AllJudged)

    signed = act(engine, banks, "sign_off", ANN, queue[0].submission_id)
    assert isinstance(signed, SignedOff) and signed.outcome == "not_yet"
    assert signed.referred == [(banks.unit("cg-310").knowledge_sets[0].questions[1].text, "Say how repeats are spotted.")]
    assert act(engine, banks, "queue", ANN) == []
    assert act(engine, banks, "sign_off", ANN, queue[0].submission_id) is Denied.ALREADY_SIGNED_OFF

    review = submitted.do("review")
    assert review.items[1].feedback == "Say how repeats are spotted." and not review.items[1].locked
    assert isinstance(submitted.do("reanswer", review.items[1].answer_id), Prompt)
    assert submitted.do("reanswer", review.items[0].answer_id) is Refusal.LOCKED

    with transaction(engine) as session:
        actions = [e.action for e in audit.events(session, review.enrolment_id)]
        assert actions == ["submitted", "judged", "asked", "replied", "judged", "signed_off", "reopened"]
        assert audit.broken_links(session) == []


def test_another_assessor_can_neither_see_nor_judge(engine, banks, submitted):
    submission_id = act(engine, banks, "queue", ANN)[0].submission_id
    answer_id = act(engine, banks, "next_to_judge", ANN, submission_id).answer_id
    assert act(engine, banks, "queue", BOB) == []
    assert act(engine, banks, "next_to_judge", BOB, submission_id) is Denied.NOT_YOURS
    assert act(engine, banks, "judge", BOB, answer_id, "met") is Denied.NOT_YOURS
    assert act(engine, banks, "sign_off", BOB, submission_id) is Denied.NOT_YOURS
    assert act(engine, banks, "ask", BOB, answer_id, "?") is Denied.NOT_YOURS
    assert act(engine, banks, "queue", SAM) is Denied.NOT_AN_ASSESSOR
    assert act(engine, banks, "cohort", BOB) == []


def test_the_cohort_counts_met_answered_and_missing(engine, banks, submitted):
    submission_id = act(engine, banks, "queue", ANN)[0].submission_id
    act(engine, banks, "judge", ANN, act(engine, banks, "next_to_judge", ANN, submission_id).answer_id, "met")
    row = act(engine, banks, "cohort", ANN)[0]
    total = len(banks.unit("cg-310").criteria)
    assert (row.met, row.answered, row.total) == (1, 1, total) and row.missing == total - 2
    assert row.waiting == 1


def test_an_admin_invites_an_assessor_who_registers_once(engine, banks, submitted):
    assert act(engine, banks, "invite_assessor", BOB) is Denied.NOT_ADMIN
    code = act(engine, banks, "invite_assessor", ANN).code
    newcomer = Person(13, 13, "Cat Assessor")
    with transaction(engine) as session:
        registered = Assessment(Repository(session), banks).redeem_invite(newcomer, code)
    assert registered == AssessorRegistered("Cat Assessor", "assessor")
    with transaction(engine) as session:
        again = Assessment(Repository(session), banks).redeem_invite(Person(14, 14, "Dan"), code)
    assert again.problem == "used"
    assert act(engine, banks, "queue", newcomer) == []


def test_a_wait_for_feedback_that_a_sign_off_overtook_does_not_swallow_later_messages(engine, banks, submitted):
    [queued] = act(engine, banks, "queue", ANN)
    first = act(engine, banks, "next_to_judge", ANN, queued.submission_id)
    act(engine, banks, "judge", ANN, first.answer_id, "met")
    second = act(engine, banks, "next_to_judge", ANN, queued.submission_id)
    act(engine, banks, "judge", ANN, second.answer_id, "met")
    act(engine, banks, "await_text", ANN, second.answer_id, "feedback")  # Not yet, tapped on an older message...
    assert isinstance(act(engine, banks, "sign_off", ANN, queued.submission_id, True), SignedOff)  # ...then signs off
    assert act(engine, banks, "take_text", ANN, "Say more about the log.") == ("feedback", Denied.ALREADY_SIGNED_OFF)
    assert act(engine, banks, "awaited", ANN) is None  # her next message is not swallowed as feedback
    assert act(engine, banks, "take_text", ANN, "Thanks!") == ("none", Denied.NOTHING_AWAITED)
