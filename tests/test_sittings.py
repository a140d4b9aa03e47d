"""Sittings in the domain, without Telegram: gathering answers, probes, skips, PD, edits, review and submission."""

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlmodel import func, select

from bot.domain import probing
from bot.domain.assessment import Assessment
from bot.domain.evidence import record_for
from bot.domain.sittings import (
    AnswerSaved,
    Edited,
    EditProblem,
    IncomingAttachment,
    IncomingMessage,
    NothingToFinish,
    PartKept,
    Person,
    ProbeAsked,
    Prompt,
    Refusal,
    Sittings,
    Stranger,
)
from bot.domain.submissions import Submissions
from bot.storage.db import transaction
from bot.storage.models import Answer, Attachment, Judgment, QuestionRun
from bot.storage.repository import Repository

SAM = Person(user_id=501, chat_id=501, name="Sam Candidate")
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)
_message_ids = count(1)


class Candidate:
    """Plays a candidate against the domain, one transaction per step, as the bot does."""

    def __init__(self, engine, banks, person: Person = SAM):
        self.engine, self.banks, self.person = engine, banks, person

    def do(self, step, *args):
        """One step, by Sittings (answering) or Submissions (review and submission)."""
        with transaction(self.engine) as session:
            repo = Repository(session)
            side = Sittings(repo, self.banks) if hasattr(Sittings, step) else Submissions(repo, self.banks)
            return getattr(side, step)(self.person, *args)

    def say(self, text: str | None = None, attachment: IncomingAttachment | None = None, message_id: int | None = None):
        message_id = message_id or next(_message_ids)
        incoming = IncomingMessage(text, self.person.chat_id, message_id, 10_000 + message_id, datetime.now(UTC), attachment)
        return self.do("take_message", incoming)

    def answer(self, text: str = FULL_ANSWER):
        """Answer and tap Done (again after each probe, left unanswered, until the answer is kept)."""
        self.say(text)
        outcome = self.do("finish")
        while isinstance(outcome, ProbeAsked):
            outcome = self.do("finish")
        return outcome

    def transcript(self, unit: str = "cg-310"):
        """The evidence of the candidate's record for a unit, as exported."""
        with transaction(self.engine) as session:
            return record_for(session, self.banks, self.person.user_id, unit)["evidence"]


@pytest.fixture
def enrol(engine, banks):
    def enrol(unit: str = "cg-310", person: Person = SAM) -> Candidate:
        with transaction(engine) as session:
            assessment = Assessment(Repository(session), banks)
            if Repository(session).assessor_by_telegram_id(11) is None:
                assessment.add_assessor(11, "Ann Assessor")
            code = assessment.create_invite(unit, 11, date.today() + timedelta(days=30)).code
            assessment.redeem_invite(person, code)
        return Candidate(engine, banks, person)

    return enrol


def questions_of(banks, unit: str):
    return [q for question_set in banks.unit(unit).knowledge_sets for q in question_set.questions]


def test_several_messages_make_one_answer_until_done(enrol, banks):
    sam = enrol()
    kept = [sam.say(text) for text in ["We record every complaint", "on the CRM system and follow the", "complaints procedure; the team leader reviews the log weekly and we tell the customer what happens next."]]
    assert [k.parts for k in kept] == [1, 2, 3]
    saved = sam.do("finish")
    assert isinstance(saved, AnswerSaved) and saved.next_prompt.number == 2
    answer = sam.transcript()["answers"][0]
    assert len(answer["parts"]) == 3 and answer["status"] == "complete"
    assert answer["answer"].startswith("We record every complaint on the CRM system")


def test_thin_replies_climb_the_probe_ladder_aimed_at_what_is_missing_at_most_three(enrol, banks):
    sam = enrol()
    first = questions_of(banks, "cg-310")[0]
    sam.say("I sort it out.")
    asked = []
    for number in range(1, probing.MAX_PROBES + 2):
        probed = sam.do("finish")
        if not isinstance(probed, ProbeAsked):
            break
        probe = next(p for p in first.probes if p.text == probed.probe)
        missing = {lf.id for lf in first.look_fors} - probing.covered(first, "I sort it out. Not sure.")
        assert probed.number == number and probe.text not in asked and set(probe.aims) & missing
        asked.append(probe.text)
        assert sam.say("Not sure.").probe_number == number
    assert 1 <= len(asked) <= probing.MAX_PROBES and isinstance(probed, AnswerSaved)
    answer = sam.transcript()["answers"][0]
    assert [p["text"] for p in answer["probes"]] == asked
    assert answer["answer"] == "I sort it out." and [p["reply"] for p in answer["probes"]] == ["Not sure."] * len(asked)


def test_the_last_probe_says_so_and_a_pending_probe_is_shown_again(enrol, banks):
    sam = enrol()
    sam.say("I sort it out.")
    probed = sam.do("finish")
    assert isinstance(probed, ProbeAsked)
    assert sam.do("current").pending_probe == probed.probe  # Ask again
    sam.do("pause")
    assert sam.do("resume").pending_probe == probed.probe  # /continue
    while not probed.last:
        sam.say("Not sure.")
        probed = sam.do("finish")
    assert probed.number <= probing.MAX_PROBES
    sam.say("Not sure.")
    assert isinstance(sam.do("finish"), AnswerSaved)  # after the last probe, Done moves on


def test_an_answer_covering_the_look_fors_gets_no_probe_and_a_voice_note_none(enrol, banks):
    sam = enrol()
    first = questions_of(banks, "cg-310")[0]
    covering = "Where I work we use " + " and ".join(look_for.evidence[0] for look_for in first.look_fors) + ", every time."
    assert probing.sufficient(first, covering)
    sam.say(covering)
    assert isinstance(sam.do("finish"), AnswerSaved)
    sam.say(attachment=IncomingAttachment("voice", "f-1", "u-1", 9_000, 30, "audio/ogg"))
    assert isinstance(sam.do("finish"), AnswerSaved)  # a voice note cannot be read here: the assessor reads it


def test_skipping_says_skipped(enrol):
    sam = enrol()
    skipped = sam.do("skip")
    assert isinstance(skipped, AnswerSaved) and skipped.skipped


def test_done_before_answering_asks_for_an_answer(enrol):
    sam = enrol()
    assert isinstance(sam.do("finish"), NothingToFinish)


def test_skipped_questions_come_back_after_the_others(enrol, banks):
    sam = enrol()
    total = len(questions_of(banks, "cg-310"))
    assert sam.do("skip").next_prompt.number == 2
    numbers = [sam.answer().next_prompt.number for _ in range(total - 1)]
    assert numbers[-1] == 1  # the skipped first question, last
    final = sam.answer()
    assert final.next_prompt is None and final.finished_set


def test_whole_knowledge_set_tagged_and_mapped(enrol, banks):
    sam = enrol()
    questions = questions_of(banks, "cg-310")
    for _ in questions:
        sam.answer()
    answers = sam.transcript()["answers"]
    assert [{c["ref"] for c in a["criteria"]} for a in answers] == [set(q.criteria) for q in questions]
    assert {(m["unit"], m["ref"]) for m in answers[0]["credits"]} == {
        ("edexcel-f6", "10"), ("ocr-c3", "4.1"), ("ics-nos", "K1"), ("nhs-cs", "K1")}


def test_a_unit_with_several_knowledge_sets_runs_them_one_after_another(enrol, banks, engine):
    sam = enrol("edexcel-f6")
    sets = banks.unit("edexcel-f6").knowledge_sets
    finished = [o.finished_set for o in (sam.answer() for _ in questions_of(banks, "edexcel-f6")) if o.finished_set]
    assert finished == [s.title for s in sets]
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Answer)).one() == sum(len(s.questions) for s in sets)


def test_a_pd_case_is_recorded_against_its_criteria_then_the_questions_resume(enrol, banks):
    sam = enrol()
    choices = sam.do("pd_choices")
    assert [c.case_id for c in choices] == [c.id for c in banks.unit("cg-310").pd_cases]
    case = banks.unit("cg-310").pd_case(choices[0].case_id)
    prompt = sam.do("start_pd_case", choices[0].enrolment_id, case.id)
    assert prompt.set_kind == "pd" and prompt.question.text == case.parts[0].prompt
    for _ in case.parts:
        outcome = sam.answer("In my case the customer rang about a late delivery and I checked the order system, then called them back.")
    assert outcome.finished_set == case.case_type
    assert outcome.next_prompt.set_kind == "knowledge" and outcome.next_prompt.number == 1
    pd_answers = [a for a in sam.transcript()["answers"] if a["question_set"].startswith("pd:")]
    assert [{c["ref"] for c in a["criteria"]} for a in pd_answers] == [set(p.criteria) for p in case.parts]
    assert sam.do("start_pd_case", choices[0].enrolment_id, case.id) is Refusal.ALREADY_DONE
    progress = sam.do("progress")[0]
    assert case.case_type not in progress.cases_missing
    assert len(progress.cases_missing) == len(banks.unit("cg-310").pd_cases) - 1


def test_pd_cases_of_someone_else_or_unknown_are_refused(enrol):
    sam = enrol()
    other = enrol(person=Person(user_id=777, chat_id=777, name="Other"))
    enrolment_id = sam.do("pd_choices")[0].enrolment_id
    assert other.do("start_pd_case", enrolment_id, "customer-raised") is Refusal.NOT_YOURS
    assert sam.do("start_pd_case", enrolment_id, "made-up") is Refusal.UNKNOWN_CASE
    assert sam.do("start_pd_case", 9999, "customer-raised") is Refusal.NOT_YOURS


def test_pausing_and_resuming_a_sitting_keeps_an_unfinished_answer(enrol):
    sam = enrol()
    sam.say("We record every complaint")
    assert sam.do("pause") is True
    assert sam.say("hello") is Stranger.OUTSIDE_SITTING
    resumed = sam.do("resume")
    assert isinstance(resumed, Prompt) and resumed.number == 1 and resumed.draft_parts == 1
    assert isinstance(sam.say("on the CRM."), PartKept)


def test_an_edited_message_makes_a_new_version_and_keeps_the_old(enrol):
    sam = enrol()
    sam.say("We record every complaint on the CRM system and follow the procedure.", message_id=7001)
    sam.do("finish")
    edit = IncomingMessage("We record every complaint on Zendesk and follow the procedure.", SAM.chat_id, 7001, 99_001, datetime.now(UTC))
    edited = sam.do("edit", edit)
    assert isinstance(edited, Edited) and edited.version == 2
    versions = [a for a in sam.transcript()["answers"] if a["question"] == edited.question]
    assert [v["answer"] for v in versions] == [
        "We record every complaint on the CRM system and follow the procedure.",
        "We record every complaint on Zendesk and follow the procedure.",
    ]
    assert versions[1]["parts"][0]["edited_at"] is not None
    not_an_answer = IncomingMessage("hi", SAM.chat_id, 424242, 99_002, datetime.now(UTC))
    assert sam.do("edit", not_an_answer) is None


def test_review_reanswer_declaration_and_submission_lock_the_answers(enrol, banks, engine):
    sam = enrol()
    sam.answer()
    sam.answer()
    review = sam.do("review")
    assert [item.question_ref for item in review.items] == ["Q1", "Q2"] and review.unlocked == 2
    assert review.items[0].short == questions_of(banks, "cg-310")[0].short
    again = sam.do("reanswer", review.items[0].answer_id)
    assert isinstance(again, Prompt) and again.number == 1
    sam.answer("Second go: " + FULL_ANSWER)
    review = sam.do("review")
    assert review.items[0].version == 2 and review.items[0].preview.startswith("Second go")

    asked = sam.do("ask_declaration", review.enrolment_id)
    assert asked.declaration == banks.unit("cg-310").unit.declarations.candidate.text and asked.answers == 2
    total = sum(len(s.questions) for s in banks.unit("cg-310").knowledge_sets) + len(banks.unit("cg-310").pd_cases)
    assert asked.unanswered == total - 2
    assert sam.say("typed while the declaration is shown") is Stranger.DECLARING  # never filed into an answer
    back = sam.do("cancel_declaration")
    assert back.unlocked == 2 and isinstance(sam.say("now it is an answer again"), PartKept)
    sam.do("ask_declaration", review.enrolment_id)
    submitted = sam.do("submit", review.enrolment_id)
    assert submitted.answers == 2 and not submitted.complete and submitted.unanswered == total - 2
    assert all(item.locked for item in sam.do("review").items)
    assert sam.do("reanswer", review.items[0].answer_id) is Refusal.LOCKED
    assert sam.do("submit", review.enrolment_id) is Refusal.NOTHING_TO_SUBMIT
    first_part = sam.transcript()["answers"][0]["parts"][0]["telegram_message_id"]
    edit = IncomingMessage("changed", SAM.chat_id, first_part, 99_003, datetime.now(UTC))
    assert sam.do("edit", edit) in (EditProblem.LOCKED, EditProblem.OLD_VERSION)
    record = sam.transcript()
    # Two of the unit's questions: the unit stays in progress for the rest.
    assert record["enrolment"]["status"] == "active" and record["submissions"][0]["declared_by"] == "Sam Candidate"
    other = enrol(person=Person(user_id=777, chat_id=777, name="Other"))
    assert other.do("submit", review.enrolment_id) is Refusal.NOT_YOURS
    assert other.do("reanswer", review.items[0].answer_id) is Refusal.NOT_YOURS


def test_progress_counts_knowledge_points_and_missing_case_types(enrol, banks):
    sam = enrol()
    sam.answer()
    progress = sam.do("progress")[0]
    assert (progress.knowledge_met, progress.knowledge_total) == (1, 4)
    assert progress.questions_answered == 1 and progress.questions_total == len(questions_of(banks, "cg-310"))
    assert progress.cases_missing == [c.case_type for c in banks.unit("cg-310").pd_cases]


def test_an_attachment_is_kept_as_part_of_the_answer(enrol, engine):
    sam = enrol()
    voice = IncomingAttachment("voice", "file-1", "unique-1", file_size=1234, duration=12, mime_type="audio/ogg")
    assert sam.say(None, voice).parts == 1
    assert isinstance(sam.do("finish"), AnswerSaved)  # a voice note is not judged thin by its words
    with transaction(engine) as session:
        stored = session.exec(select(Attachment)).one()
    assert (stored.kind, stored.duration, stored.sha256) == ("voice", 12, None)
    assert sam.transcript()["answers"][0]["parts"][0]["attachment"]["file_unique_id"] == "unique-1"


def test_reminders_can_be_paused_and_resumed(enrol):
    sam = enrol()
    assert sam.do("reminders") is False
    assert sam.do("reminders", True) is True
    assert sam.do("reminders") is True


def test_strangers_are_told_apart(engine, banks):
    stranger = Candidate(engine, banks, Person(999, 999, "Stranger"))
    assert stranger.say("hello") is Stranger.NOT_ENROLLED
    assert stranger.do("resume") is Stranger.NOT_ENROLLED
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(QuestionRun)).one() == 0


def test_a_referred_answer_can_be_answered_again_and_submitted_again(enrol, engine):
    sam = enrol()
    sam.answer()
    enrolment_id = sam.do("review").enrolment_id
    sam.do("submit", enrolment_id)
    first = sam.do("review").items[0]
    assert sam.do("reanswer", first.answer_id) is Refusal.LOCKED
    with transaction(engine) as session:  # the assessor's "not yet", as the assessor's side records it
        assessor = Repository(session).assessor_by_telegram_id(11)
        session.add(Judgment(answer_id=first.answer_id, assessor_id=assessor.id, outcome="not_yet", feedback="Name the system <you> use."))
    referred = sam.do("review").items[0]
    assert not referred.locked and referred.feedback == "Name the system <you> use."
    assert isinstance(sam.do("reanswer", first.answer_id), Prompt)
    sam.answer("We use Zendesk. " + FULL_ANSWER)
    assert sam.do("submit", enrolment_id).answers == 1
    assert sam.do("review").items[0].version == 2 and sam.do("review").items[0].locked
