"""The domain, without Telegram: invites, enrolment, question runs and the transcript."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.domain.assessment import (
    AnswerSaved,
    Assessment,
    DomainError,
    Enrolled,
    IncomingAnswer,
    InviteProblem,
    InviteRefused,
    PdRefusal,
    Person,
    Stranger,
)
from bot.domain.transcript import candidate_transcript
from bot.storage.db import transaction
from bot.storage.models import Answer, Candidate, Enrolment, Invite
from bot.storage.repository import Repository

ASSESSOR = 11
SAM = Person(user_id=501, chat_id=501, name="Sam Candidate")
DEADLINE = date.today() + timedelta(days=30)


def in_transaction(engine, banks, action):
    with transaction(engine) as session:
        repo = Repository(session)
        return action(Assessment(repo, banks), repo)


@pytest.fixture
def invite_code(engine, banks) -> str:
    def make(assessment, _):
        assessment.add_assessor(ASSESSOR, "Ann Assessor")
        return assessment.create_invite("cg-310", ASSESSOR, DEADLINE).code

    return in_transaction(engine, banks, make)


def answer(engine, banks, person: Person, text: str, update_id: int):
    incoming = IncomingAnswer(text, person.chat_id, 1000 + update_id, update_id, datetime.now(UTC))
    return in_transaction(engine, banks, lambda assessment, _: assessment.record_answer(person, incoming))


def count(engine, model) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_invite_enrols_and_asks_the_first_knowledge_question(engine, banks, invite_code):
    outcome = in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    assert isinstance(outcome, Enrolled)
    assert outcome.deadline == DEADLINE
    assert (outcome.prompt.number, outcome.prompt.total) == (1, len(banks.unit("cg-310").knowledge_sets[0].questions))
    assert outcome.prompt.question.criteria == ["310.4.1"]


def knowledge_questions(banks, unit: str):
    return [q for question_set in banks.unit(unit).knowledge_sets for q in question_set.questions]


def test_answers_finish_the_knowledge_set_each_tagged_to_its_criteria_and_mapped(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    questions = knowledge_questions(banks, "cg-310")
    outcomes = [answer(engine, banks, SAM, f"answer {n}", n) for n in range(1, len(questions) + 1)]
    assert [o.next_prompt.number for o in outcomes[:-1]] == list(range(2, len(questions) + 1))
    assert outcomes[-1].next_prompt is None and outcomes[-1].finished_set == "What you must know"
    assert outcomes[-1].pd_cases_left == len(banks.unit("cg-310").pd_cases)

    transcript = in_transaction(engine, banks, lambda _, repo: candidate_transcript(repo, banks, SAM.user_id))
    answers = transcript["units"][0]["answers"]
    assert [a["answer"] for a in answers] == [f"answer {n}" for n in range(1, len(questions) + 1)]
    assert [{c["ref"] for c in a["criteria"]} for a in answers] == [set(q.criteria) for q in questions]
    first_mapped = {(m["unit"], m["ref"]) for m in answers[0]["mapped_criteria"]}
    assert first_mapped == {("edexcel-f6", "10"), ("ocr-c3", "4.1"), ("ics-nos", "K1"), ("nhs-cs", "K1")}
    assert all(a["sent_at"] and a["recorded_at"] and a["method"] == "Q" for a in answers)


def test_a_unit_with_several_knowledge_sets_runs_them_one_after_another(engine, banks, invite_code):
    code = in_transaction(engine, banks, lambda a, _: a.create_invite("edexcel-f6", ASSESSOR, DEADLINE).code)
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, code))
    sets = banks.unit("edexcel-f6").knowledge_sets
    seen_sets = []
    for n in range(1, len(knowledge_questions(banks, "edexcel-f6")) + 1):
        outcome = answer(engine, banks, SAM, f"answer {n}", n)
        if outcome.finished_set:
            seen_sets.append(outcome.finished_set)
    assert seen_sets == [s.title for s in sets]
    assert outcome.next_prompt is None
    assert count(engine, Answer) == sum(len(s.questions) for s in sets)


def test_a_pd_case_records_each_part_against_its_criteria_then_returns_to_the_questions(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    choices = in_transaction(engine, banks, lambda a, _: a.pd_choices(SAM))
    assert [c.case_id for c in choices] == [c.id for c in banks.unit("cg-310").pd_cases]
    first = choices[0]
    prompt = in_transaction(engine, banks, lambda a, _: a.start_pd_case(SAM, first.enrolment_id, first.case_id))
    case = banks.unit("cg-310").pd_case(first.case_id)
    assert prompt.set_kind == "pd" and prompt.question.text == case.parts[0].prompt
    for n, part in enumerate(case.parts, 1):
        outcome = answer(engine, banks, SAM, f"part {n}", 100 + n)
    assert outcome.finished_set == case.case_type
    assert outcome.next_prompt.set_kind == "knowledge" and outcome.next_prompt.number == 1

    transcript = in_transaction(engine, banks, lambda _, repo: candidate_transcript(repo, banks, SAM.user_id))
    pd_answers = [a for a in transcript["units"][0]["answers"] if a["method"] == "PD"]
    assert [{c["ref"] for c in a["criteria"]} for a in pd_answers] == [set(p.criteria) for p in case.parts]
    again = in_transaction(engine, banks, lambda a, _: a.start_pd_case(SAM, first.enrolment_id, first.case_id))
    assert again is PdRefusal.ALREADY_DONE


def test_pd_cases_of_someone_else_or_unknown_are_refused(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    enrolment_id = in_transaction(engine, banks, lambda a, _: a.pd_choices(SAM))[0].enrolment_id
    other = Person(user_id=777, chat_id=777, name="Other")
    assert in_transaction(engine, banks, lambda a, _: a.start_pd_case(other, enrolment_id, "customer-raised")) is PdRefusal.NOT_ENROLLED
    assert in_transaction(engine, banks, lambda a, _: a.start_pd_case(SAM, enrolment_id, "made-up")) is PdRefusal.UNKNOWN_CASE
    assert in_transaction(engine, banks, lambda a, _: a.start_pd_case(SAM, 9999, "customer-raised")) is PdRefusal.NOT_ENROLLED


def test_an_update_cannot_be_applied_twice(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    answer(engine, banks, SAM, "first", 7)
    with pytest.raises(Exception):
        answer(engine, banks, SAM, "first", 7)
    assert count(engine, Answer) == 1


@pytest.mark.parametrize(
    "code, problem",
    [("short", InviteProblem.MALFORMED), ("<b>bad</b>code!!", InviteProblem.MALFORMED), ("A" * 16, InviteProblem.UNKNOWN)],
)
def test_bad_codes_are_refused_and_create_nothing(engine, banks, invite_code, code, problem):
    outcome = in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, code))
    assert outcome == InviteRefused(problem)
    assert count(engine, Candidate) == 0 and count(engine, Enrolment) == 0


def test_a_used_code_is_refused_to_someone_else(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    other = Person(user_id=777, chat_id=777, name="Other")
    outcome = in_transaction(engine, banks, lambda a, _: a.redeem_invite(other, invite_code))
    assert outcome == InviteRefused(InviteProblem.USED)
    assert count(engine, Candidate) == 1 and count(engine, Enrolment) == 1


def test_an_enrolled_candidate_reopening_a_link_carries_on_and_keeps_new_invites_unused(engine, banks, invite_code):
    in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    answer(engine, banks, SAM, "first", 1)
    second = in_transaction(engine, banks, lambda a, _: a.create_invite("cg-310", ASSESSOR, DEADLINE).code)
    outcome = in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, second))
    assert outcome.problem is InviteProblem.ALREADY_ENROLLED and outcome.prompt.number == 2
    with transaction(engine) as session:
        assert Repository(session).invite_by_code(second).used_at is None
    assert count(engine, Invite) == 2


def test_messages_from_strangers_and_assessors_are_not_evidence(engine, banks, invite_code):
    stranger = Person(user_id=999, chat_id=999, name="Stranger")
    assessor = Person(user_id=ASSESSOR, chat_id=ASSESSOR, name="Ann")
    assert answer(engine, banks, stranger, "hello", 1) is Stranger.NOT_ENROLLED
    assert answer(engine, banks, assessor, "hello", 2) is Stranger.ASSESSOR
    assert count(engine, Answer) == 0 and count(engine, Candidate) == 0


def test_invites_need_a_known_unit_a_known_assessor_and_a_future_deadline(engine, banks, invite_code):
    with pytest.raises(DomainError, match="no unit"):
        in_transaction(engine, banks, lambda a, _: a.create_invite("cg-999", ASSESSOR, DEADLINE))
    with pytest.raises(DomainError, match="no assessor"):
        in_transaction(engine, banks, lambda a, _: a.create_invite("cg-310", 12345, DEADLINE))
    with pytest.raises(DomainError, match="in the past"):
        in_transaction(engine, banks, lambda a, _: a.create_invite("cg-310", ASSESSOR, date(2020, 1, 1)))
    with pytest.raises(DomainError, match="already exists"):
        in_transaction(engine, banks, lambda a, _: a.add_assessor(ASSESSOR, "Again"))
