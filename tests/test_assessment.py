"""The domain, without Telegram: invites, enrolment, question runs and the transcript."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import func, select

from bot.domain.assessment import Assessment, DomainError, Enrolled, InviteProblem, InviteRefused
from bot.domain.sittings import IncomingMessage, Person, Sittings, Stranger
from bot.storage.db import transaction
from bot.storage.models import Answer, Candidate, Enrolment, Invite
from bot.storage.repository import Repository

ASSESSOR = 11
SAM = Person(user_id=501, chat_id=501, name="Sam Candidate")
DEADLINE = date.today() + timedelta(days=30)
# Long enough, and naming enough of the look-fors, not to be probed.
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)


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
    """One message, then Done."""
    incoming = IncomingMessage(text, person.chat_id, 1000 + update_id, update_id, datetime.now(UTC))

    def act(sittings):
        kept = sittings.take_message(person, incoming)
        return kept if isinstance(kept, Stranger) else sittings.finish(person)

    with transaction(engine) as session:
        return act(Sittings(Repository(session), banks))


def count(engine, model) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_invite_enrols_and_asks_the_first_knowledge_question(engine, banks, invite_code):
    outcome = in_transaction(engine, banks, lambda a, _: a.redeem_invite(SAM, invite_code))
    assert isinstance(outcome, Enrolled)
    assert outcome.deadline == DEADLINE
    assert (outcome.prompt.number, outcome.prompt.total) == (1, len(banks.unit("cg-310").knowledge_sets[0].questions))
    assert outcome.prompt.question.criteria == ["310.4.1"]


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
    answer(engine, banks, SAM, FULL_ANSWER, 1)
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


def test_a_person_is_looked_up_once_a_transaction_and_known_once_added(engine, banks):
    """Every message asks several times whether its sender is an assessor: one query a transaction, found or
    not; someone who becomes an assessor or a candidate in the transaction is known from then on."""
    from sqlalchemy import event

    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql))
    with transaction(engine) as session:
        repo = Repository(session)
        for _ in range(3):
            assert repo.assessor_by_telegram_id(777) is None
        assert sum("FROM assessor" in sql for sql in statements) == 1
        Assessment(repo, banks).add_assessor(777, "Ada Admin", admin=True)
        assert repo.assessor_by_telegram_id(777).name == "Ada Admin"
        assert repo.candidate_by_telegram_id(SAM.user_id) is None
        code = Assessment(repo, banks).create_invite("cg-310", 777, DEADLINE).code
        Assessment(repo, banks).redeem_invite(SAM, code)
        assert repo.candidate_by_telegram_id(SAM.user_id).name == SAM.name
