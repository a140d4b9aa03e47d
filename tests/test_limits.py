"""Held against abuse, in the domain and the command line: parts per answer, characters per message, the flood
rule, and invites that expire, can be revoked, are claimed atomically and are not for staff."""

import re
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from itertools import count

import pytest
from sqlmodel import func, select

from bot.domain import flood
from bot.domain.assessment import Assessment, AssessorRegistered, DomainError, Enrolled, InviteProblem, InviteRefused
from bot.domain.banks import Banks
from bot.domain.caseload import Caseload
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.domain.sittings import AnswerSaved, Edited, IncomingMessage, NotKept, PartKept, Person, ProbeAsked, Sittings
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import transaction
from bot.storage.flood import next_release
from bot.storage.models import AnswerPart, Enrolment, Invite, StaffInvite
from bot.storage.repository import Repository
from bot.storage.updates import claim, pending_updates, store_updates
from tests.botprocess import nvqbot

SAM = Person(user_id=501, chat_id=501, name="Sam Candidate")
KIM = Person(user_id=502, chat_id=502, name="Kim Candidate")
ANN = Person(user_id=11, chat_id=11, name="Ann Assessor")
T0 = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
SMALL = replace(DEFAULT_LIMITS, parts_per_answer=3, message_chars=100)
_message_ids = count(1)


def test_the_limits_default_to_the_documented_settings():
    assert Limits(30, 4096, 20, timedelta(days=30)) == DEFAULT_LIMITS
    assert Limits.from_settings(Settings(_env_file=None, max_parts_per_answer=5, invite_valid_days=7)) == replace(
        DEFAULT_LIMITS, parts_per_answer=5, invite_valid_for=timedelta(days=7))


# --- what one answer and one message may hold ------------------------------------------------------------

@cache
def the_banks() -> Banks:
    return Banks.load(PROJECT_ROOT / "question_banks")


def assessment(session, now=lambda: T0, limits: Limits = DEFAULT_LIMITS) -> Assessment:
    return Assessment(Repository(session), the_banks(), now, limits)


def enrolled(engine, person: Person = SAM, made_at: datetime = T0) -> None:
    with transaction(engine) as session:
        making = assessment(session, lambda: made_at)
        if Repository(session).assessor_by_telegram_id(ANN.user_id) is None:
            making.add_assessor(ANN.user_id, ANN.name)
        code = making.create_invite("cg-310", ANN.user_id, date(2099, 12, 31)).code
        assert isinstance(making.redeem_invite(person, code), Enrolled)


def sitting(engine, step: str, *args, limits: Limits = SMALL):
    with transaction(engine) as session:
        return getattr(Sittings(Repository(session), the_banks(), limits=limits), step)(SAM, *args)


def message(text: str, message_id: int | None = None) -> IncomingMessage:
    message_id = message_id or next(_message_ids)
    return IncomingMessage(text, SAM.chat_id, message_id, 10_000 + message_id, datetime.now(UTC))


def stored_texts(engine) -> list[str | None]:
    with transaction(engine) as session:
        return list(session.exec(select(AnswerPart.text).order_by(AnswerPart.id)))


def test_an_answer_full_of_messages_refuses_the_next_says_how_to_go_on_and_is_not_probed(engine):
    enrolled(engine)
    assert [sitting(engine, "take_message", message(f"I sort it {n}.")).parts for n in (1, 2, 3)] == [1, 2, 3]

    refused = sitting(engine, "take_message", message("one more"))
    assert isinstance(refused, NotKept) and (refused.reason, refused.limit) == ("answer_full", 3)
    assert refused.prompt.number == 1  # shown with the question's buttons: Done finishes it
    assert stored_texts(engine) == ["I sort it 1.", "I sort it 2.", "I sort it 3."]
    assert isinstance(sitting(engine, "finish", limits=replace(SMALL, parts_per_answer=4)), ProbeAsked)  # thin
    assert isinstance(sitting(engine, "finish"), AnswerSaved)  # but full: no room for a reply to a probe


def test_a_message_within_the_character_limit_is_kept_whole_and_a_longer_one_is_refused_whole(engine):
    enrolled(engine)
    whole = "x" * 99 + "é"
    assert isinstance(sitting(engine, "take_message", message(whole, message_id=7)), PartKept)
    refused = sitting(engine, "take_message", message("y" * 101))
    assert isinstance(refused, NotKept) and (refused.reason, refused.limit, refused.length) == ("too_long", 100, 101)
    assert stored_texts(engine) == [whole]

    edit = sitting(engine, "edit", message("z" * 101, message_id=7))
    assert isinstance(edit, NotKept) and edit.reason == "edit_too_long"
    assert stored_texts(engine) == [whole]  # no new version
    assert isinstance(sitting(engine, "edit", message("z" * 100, message_id=7)), Edited)


# --- floods ---------------------------------------------------------------------------------------------

def inbox(engine, *senders: int) -> None:
    """Updates 1, 2… from these senders, stored as the pipeline stores them."""
    raw = [{"update_id": n, "message": {"from": {"id": s}}} for n, s in enumerate(senders, 1)]
    with transaction(engine) as session:
        store_updates(session, raw)


def process(engine, update_id: int, sender: int, at: datetime, per_minute: int = 3) -> flood.Held | None:
    """Claim an update and ask the flood rule, as the pipeline does before dispatching it."""
    with transaction(engine) as session:
        assert claim(session, update_id, at)
        return flood.admit(session, sender, update_id, per_minute, at)


def pending(engine, at: datetime) -> list[int]:
    with transaction(engine) as session:
        return [update_id for update_id, _ in pending_updates(session, at)]


def test_a_flood_is_held_in_order_with_one_slow_down_and_no_one_else_is_held(engine):
    sam, kim = SAM.user_id, KIM.user_id
    inbox(engine, *[sam] * 6, kim, sam)
    assert [process(engine, n, sam, T0) for n in (1, 2, 3)] == [None] * 3
    minute_over = T0 + flood.WINDOW
    assert [process(engine, n, sam, T0 + timedelta(seconds=1)) for n in (4, 5, 6)] == [
        flood.Held(minute_over, first=True), flood.Held(minute_over, first=False), flood.Held(minute_over, first=False)]
    assert process(engine, 7, kim, T0 + timedelta(seconds=2)) is None  # Kim is not held for Sam

    assert pending(engine, minute_over - timedelta(seconds=1)) == [8]
    with transaction(engine) as session:
        assert next_release(session, T0) == minute_over  # the pipeline wakes then

    # A new minute has begun, but update 8 may not overtake Sam's held ones: it waits with them, after them.
    later = minute_over + timedelta(seconds=1)
    assert process(engine, 8, sam, later) == flood.Held(minute_over, first=False)
    assert pending(engine, later) == [4, 5, 6, 8]
    assert [process(engine, n, sam, later) for n in (4, 5, 6)] == [None] * 3  # counted in the new minute
    assert process(engine, 8, sam, later) == flood.Held(later + flood.WINDOW, first=False)  # still one slow-down
    assert process(engine, 8, sam, later + flood.WINDOW) is None
    assert pending(engine, later + flood.WINDOW) == []

    # Once all that was held is processed, a new flood is a new one: one more slow-down.
    inbox_more = [{"update_id": n, "message": {}} for n in range(9, 13)]
    with transaction(engine) as session:
        store_updates(session, inbox_more)
    again = T0 + timedelta(minutes=10)
    assert [process(engine, n, sam, again) for n in range(9, 13)] == [None] * 3 + [flood.Held(again + flood.WINDOW, True)]


# --- invites --------------------------------------------------------------------------------------------

def make_invite(engine, made_at: datetime = T0, valid_for: timedelta = timedelta(days=30)) -> str:
    with transaction(engine) as session:
        making = assessment(session, lambda: made_at, replace(DEFAULT_LIMITS, invite_valid_for=valid_for))
        if Repository(session).assessor_by_telegram_id(ANN.user_id) is None:
            making.add_assessor(ANN.user_id, ANN.name, admin=True)
        return making.create_invite("cg-310", ANN.user_id, date(2099, 12, 31)).code


def redeem(engine, person: Person, code: str, at: datetime = T0):
    with transaction(engine) as session:
        return assessment(session, lambda: at).redeem_invite(person, code)


def test_an_invite_works_until_it_expires(engine):
    code = make_invite(engine, valid_for=timedelta(days=30))
    assert redeem(engine, SAM, code, T0 + timedelta(days=30, seconds=1)) == InviteRefused(InviteProblem.EXPIRED)
    assert isinstance(redeem(engine, SAM, code, T0 + timedelta(days=30, seconds=-1)), Enrolled)
    assert redeem(engine, KIM, code, T0 + timedelta(days=31)) == InviteRefused(InviteProblem.USED)


def test_a_revoked_invite_no_longer_works_and_only_an_unused_one_can_be_revoked(engine):
    code, used = make_invite(engine), make_invite(engine)
    assert isinstance(redeem(engine, KIM, used), Enrolled)
    with transaction(engine) as session:
        assert assessment(session).revoke_invite(code).revoked_at == T0
    assert redeem(engine, SAM, code) == InviteRefused(InviteProblem.REVOKED)
    for bad, said in [(code, "already revoked"), (used, "already used"), ("A" * 16, "no invite with the code")]:
        with pytest.raises(DomainError, match=said), transaction(engine) as session:
            assessment(session).revoke_invite(bad)


def test_a_candidates_invite_cannot_be_taken_by_staff_and_still_works_for_the_candidate(engine):
    code = make_invite(engine)
    assert redeem(engine, ANN, code) == InviteRefused(InviteProblem.STAFF)
    assert isinstance(redeem(engine, SAM, code), Enrolled)


def test_a_staff_invite_expires_can_be_revoked_and_is_claimed_once(engine):
    make_invite(engine)  # Ann, an admin

    def staff_code(at: datetime) -> str:
        with transaction(engine) as session:
            return Caseload(Repository(session), the_banks(), lambda: at).invite_assessor(ANN).code

    old, revoked, fresh = staff_code(T0 - timedelta(days=31)), staff_code(T0), staff_code(T0)
    with transaction(engine) as session:
        assessment(session).revoke_invite(revoked)
    bob, cat = Person(21, 21, "Bob Assessor"), Person(22, 22, "Cat Assessor")
    assert redeem(engine, bob, old) == InviteRefused(InviteProblem.EXPIRED)
    assert redeem(engine, bob, revoked) == InviteRefused(InviteProblem.REVOKED)
    assert redeem(engine, bob, fresh) == AssessorRegistered("Bob Assessor", "assessor")
    assert redeem(engine, cat, fresh) == InviteRefused(InviteProblem.USED)
    with transaction(engine) as session:
        invite = session.exec(select(StaffInvite).where(StaffInvite.code == fresh)).one()
        assert invite.used_by_id == Repository(session).assessor_by_telegram_id(21).id


def test_two_people_claiming_one_code_at_once_exactly_one_wins(engine):
    """Each claim runs in its own thread, session and connection, started together; a check-then-set claim lets
    both through here (both read the code unused before either writes)."""
    rounds = 8
    codes = [make_invite(engine) for _ in range(rounds)]
    for number, code in enumerate(codes):
        people = [Person(1000 + 2 * number + i, 1000 + 2 * number + i, f"Person {i}") for i in (0, 1)]
        start: threading.Barrier = threading.Barrier(2)
        outcomes: dict[int, Enrolled | InviteRefused] = {}

        def claim(person: Person, code: str = code, start: threading.Barrier = start, outcomes: dict = outcomes) -> None:
            with transaction(engine) as session:
                session.exec(select(Invite.id).where(Invite.code == code)).one()  # each has a connection open
                start.wait()
                outcomes[person.user_id] = assessment(session).redeem_invite(person, code)

        threads = [threading.Thread(target=claim, args=(p,)) for p in people]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        kinds = sorted(type(outcome).__name__ for outcome in outcomes.values())
        assert kinds == ["Enrolled", "InviteRefused"], outcomes
        assert [o.problem for o in outcomes.values() if isinstance(o, InviteRefused)] == [InviteProblem.USED]
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Enrolment)).one() == rounds
        assert all(i.used_by_candidate_id for i in session.exec(select(Invite)))


# --- the command line -----------------------------------------------------------------------------------

def test_invite_prints_when_it_expires_and_revoke_is_one_clear_line(database_url):
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", "11", "--name", "Ann").returncode == 0
    made = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "2099-12-12",
                  env={"NVQBOT_INVITE_VALID_DAYS": "7", "NVQBOT_TIMEZONE": "Europe/London"})
    assert made.returncode == 0, made.stderr
    code = re.search(r"Invite code: (\S+)", made.stdout).group(1)
    expiry = re.search(r"works once, until (\d+ \w+ \d{4}) (\d\d:\d\d) \(Europe/London\)", made.stdout)
    assert expiry, made.stdout
    week = datetime.now(UTC) + timedelta(days=7)
    assert expiry.group(1) in {f"{d.day} {d:%b %Y}" for d in (week - timedelta(days=1), week, week + timedelta(days=1))}

    revoked = nvqbot(database_url, "invite", "--revoke", code)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"Revoked the invite to cg-310 with the code {code}: it no longer works."
    again = nvqbot(database_url, "invite", "--revoke", code)
    assert (again.returncode, again.stderr.strip()) == (
        1, f"nvqbot: error: the invite {code} was already revoked: nothing to revoke")
    unknown = nvqbot(database_url, "invite", "--revoke", "nosuchcode")
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "nvqbot: error: no invite with the code 'nosuchcode'")
    half = nvqbot(database_url, "invite", "--unit", "cg-310")
    assert half.returncode == 1 and half.stderr.strip().startswith("nvqbot: error: an invite needs --unit, --assessor")
    assert len(half.stderr.strip().splitlines()) == 1


def test_revoking_a_used_code_or_a_staff_code_from_the_command_line(database_url, engine):
    code = make_invite(engine, made_at=datetime.now(UTC))
    assert isinstance(redeem(engine, SAM, code, datetime.now(UTC)), Enrolled)
    used = nvqbot(database_url, "invite", "--revoke", code)
    assert (used.returncode, used.stderr.strip()) == (1, f"nvqbot: error: the invite {code} was already used: nothing to revoke")
    with transaction(engine) as session:
        staff = Caseload(Repository(session), the_banks()).invite_assessor(ANN).code
    revoked = nvqbot(database_url, "invite", "--revoke", staff)
    assert revoked.stdout.strip() == f"Revoked the assessor invite with the code {staff}: it no longer works."
