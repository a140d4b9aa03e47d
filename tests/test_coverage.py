"""Coverage and sign-off: competent only when every criterion is met and every mandatory method evidenced;
mapped credit only in its direction, near-matches only once an assessor confirms them."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.bootstrap import open_database
from bot.domain.assessment import Assessment
from bot.domain.banks import load_banks
from bot.domain.caseload import Caseload, SignedOff, UnitNotComplete
from bot.domain.coverage import ANSWERED, MET, MISSING, unit_coverage
from bot.domain.judging import AnswerToJudge, Denied, Judging
from bot.domain.reminders import ReminderRules, find_due
from bot.domain.sittings import AnswerSaved, Person, Prompt
from bot.settings import PROJECT_ROOT
from bot.storage.db import transaction
from bot.storage.repository import Repository
from tests.test_sittings import Candidate

ANN = Person(11, 11, "Ann Assessor")
BOB = Person(12, 12, "Bob Assessor")
SAM = Person(501, 501, "Sam Candidate")
UNITS = PROJECT_ROOT / "tests" / "data" / "units"


def enrol(engine, banks, *units: str, person: Person = SAM, deadline: date | None = None) -> Candidate:
    with transaction(engine) as session:
        repo = Repository(session)
        assessment = Assessment(repo, banks)
        for assessor in (ANN, BOB):
            if repo.assessor_by_telegram_id(assessor.user_id) is None:
                assessment.add_assessor(assessor.user_id, assessor.name)
        for unit in units:
            code = assessment.create_invite(unit, ANN.user_id, deadline or date.today() + timedelta(days=30)).code
            assessment.redeem_invite(person, code)
    return Candidate(engine, banks, person)


def judge(engine, banks, step, *args):
    with transaction(engine) as session:
        repo = Repository(session)
        side = Judging(repo, banks) if hasattr(Judging, step) else Caseload(repo, banks)
        return getattr(side, step)(*args)


def coverage(engine, banks, person: Person, unit: str):
    with transaction(engine) as session:
        repo = Repository(session)
        enrolment = repo.enrolment(repo.candidate_by_telegram_id(person.user_id).id, unit)
        return unit_coverage(session, banks, enrolment)


def answer_tagged(sam: Candidate, unit: str, ref: str) -> None:
    """Go through the unit's knowledge questions to one tagged to `ref` and answer it fully; questions before
    it are skipped, or answered where a set must be finished to reach the next."""
    enrolment_id = next(e.enrolment_id for e in sam.do("progress") if e.unit_code == unit)
    prompt, seen = sam.do("open_unit", enrolment_id), set()
    for _ in range(200):
        assert isinstance(prompt, Prompt) and prompt.unit_code == unit, prompt
        if ref in prompt.question.criteria:
            sam.answer()
            return
        if prompt.question.id in seen:
            sam.answer()
        else:
            seen.add(prompt.question.id)
            sam.do("skip")
        prompt = sam.do("open_unit", enrolment_id)
    raise AssertionError(f"no question of {unit} is tagged {ref}")


def answer_everything(sam: Candidate, banks, unit: str) -> None:
    """Every knowledge question, then every case walk-through, answered fully."""
    while isinstance(sam.do("resume"), Prompt):
        sam.answer()
    for choice in sam.do("pd_choices"):
        prompt = sam.do("start_pd_case", choice.enrolment_id, choice.case_id)
        while isinstance(prompt, Prompt) and prompt.set_kind == "pd":
            saved = sam.answer()
            prompt = saved.next_prompt if isinstance(saved, AnswerSaved) else None
        sam.do("pause")


def submit(sam: Candidate, unit: str) -> None:
    enrolment_id = next(e.enrolment_id for e in sam.do("progress") if e.unit_code == unit)
    sam.do("ask_declaration", enrolment_id)
    sam.do("submit", enrolment_id)


def judge_all(engine, banks, outcome: str = "met") -> int:
    """Ann judges every answer waiting in her queue; the id of the last submission."""
    submission_id = None
    for item in judge(engine, banks, "queue", ANN):
        submission_id = item.submission_id
        while isinstance(answer := judge(engine, banks, "next_to_judge", ANN, submission_id), AnswerToJudge):
            judge(engine, banks, "judge", ANN, answer.answer_id, outcome)
    return submission_id


def test_a_draft_never_counts_and_a_submitted_answer_counts_once_judged(engine, banks):
    sam = enrol(engine, banks, "cg-310")
    sam.answer()
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.4.1").status == MISSING  # finished, not submitted
    submit(sam, "cg-310")
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.4.1").status == ANSWERED
    judge_all(engine, banks)
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.4.1").status == MET


def test_a_partial_submission_cannot_be_signed_off_competent_and_keeps_reminders_going(engine, banks):
    sam = enrol(engine, banks, "cg-310", deadline=date.today() + timedelta(days=7))
    sam.answer()
    sam.answer()
    submit(sam, "cg-310")
    submission_id = judge_all(engine, banks)

    blocked = judge(engine, banks, "sign_off", ANN, submission_id)
    assert isinstance(blocked, UnitNotComplete)
    missing = {c.ref for c in blocked.coverage.missing}
    assert "310.1.1" in missing and "310.4.3" in missing and "310.4.1" not in missing
    interim = judge(engine, banks, "sign_off", ANN, submission_id, True)
    assert isinstance(interim, SignedOff) and interim.outcome == "interim" and "310.1.1 (missing)" in interim.still_missing
    with transaction(engine) as session:
        repo = Repository(session)
        enrolment = repo.enrolment(repo.candidate_by_telegram_id(SAM.user_id).id, "cg-310")
        assert enrolment.status == "active"
        noon = datetime.combine(date.today(), time(12), tzinfo=UTC)
        due = find_due(session, ReminderRules(), noon)
    assert any(r.kind == "deadline" and r.enrolment_id == enrolment.id for r in due)


def test_a_whole_unit_met_is_signed_off_competent_with_the_units_own_statement(engine, banks, settings):
    tiny = load_banks([UNITS / "tiny.yaml"])
    open_database(settings, tiny).dispose()
    sam = enrol(engine, tiny, "tiny")
    answer_everything(sam, tiny, "tiny")
    submit(sam, "tiny")
    submission_id = judge_all(engine, tiny)
    signed = judge(engine, tiny, "sign_off", ANN, submission_id)
    assert isinstance(signed, SignedOff) and signed.outcome == "competent"
    assert signed.statement == tiny.unit("tiny").unit.declarations.assessor.text
    with transaction(engine) as session:  # the unit is done: no more reminders
        soon = datetime.combine(date.today() + timedelta(days=23), time(12), tzinfo=UTC)
        assert [r for r in find_due(session, ReminderRules(), soon) if r.kind != "digest"] == []


def test_a_mandatory_method_missing_blocks_competent_even_with_every_criterion_met(engine, banks, settings):
    tiny = load_banks([UNITS / "tiny-observed.yaml"])
    open_database(settings, tiny).dispose()
    sam = enrol(engine, tiny, "tiny-observed")
    answer_everything(sam, tiny, "tiny-observed")
    submit(sam, "tiny-observed")
    blocked = judge(engine, tiny, "sign_off", ANN, judge_all(engine, tiny))
    assert isinstance(blocked, UnitNotComplete)
    assert blocked.coverage.missing == [] and [m.code for m in blocked.coverage.methods_missing] == ["DO"]


@pytest.mark.slow
def test_the_nhs_unit_with_everything_answered_cannot_be_competent_without_observation(engine, banks):
    sam = enrol(engine, banks, "nhs-cs")
    answer_everything(sam, banks, "nhs-cs")
    submit(sam, "nhs-cs")
    blocked = judge(engine, banks, "sign_off", ANN, judge_all(engine, banks))
    assert isinstance(blocked, UnitNotComplete)
    codes = [m.code for m in blocked.coverage.methods_missing]
    assert "DO" in codes
    assert blocked.coverage.count(MET) > 0


def test_level_2_evidence_never_meets_level_3_but_level_3_credits_level_2(engine, banks):
    sam = enrol(engine, banks, "cg-310", "ocr-c3")
    answer_tagged(sam, "ocr-c3", "4.3")
    submit(sam, "ocr-c3")
    judge_all(engine, banks)
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.4.4").status == MISSING
    assert coverage(engine, banks, SAM, "cg-310").criterion("310.4.4").credited == []

    answer_tagged(sam, "cg-310", "310.4.4")
    submit(sam, "cg-310")
    judge_all(engine, banks)
    credited = coverage(engine, banks, SAM, "ocr-c3").criterion("4.3").credited
    assert [(c.unit_code, c.via) for c in credited] == [("cg-310", "cg-310:310.4.4")]
    assert credited[0].judgment == MET


def _a_partial_credit(banks):
    """(source unit, source ref, target unit, target ref) of a near-match whose source a knowledge question asks."""
    for code, bank in sorted(banks.units.items()):
        asked = {ref for s in bank.knowledge_sets for q in s.questions for ref in q.criteria}
        for spec in bank.criteria:
            for credit in banks.credits_from(code, spec.ref):
                if credit.partial and spec.ref in asked:
                    return code, spec.ref, credit.target.unit, credit.target.ref
    raise AssertionError("the mapping has no partial group with a knowledge source")


def test_a_partial_group_counts_only_after_the_assessor_confirms_it(engine, banks):
    source_unit, source_ref, target_unit, target_ref = _a_partial_credit(banks)
    sam = enrol(engine, banks, source_unit, target_unit)
    answer_tagged(sam, source_unit, source_ref)
    submit(sam, source_unit)
    judge_all(engine, banks)
    row = coverage(engine, banks, SAM, target_unit).criterion(target_ref)
    assert row.status == MISSING and [item.via for item in row.awaiting_confirmation] == [f"{source_unit}:{source_ref}"]

    waiting = row.awaiting_confirmation[0]
    with transaction(engine) as session:
        repo = Repository(session)
        enrolment_id = repo.enrolment(repo.candidate_by_telegram_id(SAM.user_id).id, target_unit).id
    assert judge(engine, banks, "confirm_credit", BOB, enrolment_id, waiting.answer_id, target_ref) is Denied.NOT_YOURS
    assert judge(engine, banks, "confirm_credit", ANN, enrolment_id, waiting.answer_id, "no-such") is Denied.NO_SUCH_CREDIT
    confirmed = judge(engine, banks, "confirm_credit", ANN, enrolment_id, waiting.answer_id, target_ref)
    assert confirmed.target_ref == target_ref
    row = coverage(engine, banks, SAM, target_unit).criterion(target_ref)
    assert row.status == MET and row.credited[0].confirmed_by == "Ann Assessor"


def test_edexcel_item_2_is_met_only_when_all_five_aspects_are(engine, banks):
    parts = [p.ref for p in banks.unit("edexcel-f6").parts_of("2")]
    assert len(parts) == 5
    sam = enrol(engine, banks, "edexcel-f6")
    answer_tagged(sam, "edexcel-f6", parts[0])
    submit(sam, "edexcel-f6")
    judge_all(engine, banks)
    result = coverage(engine, banks, SAM, "edexcel-f6")
    assert result.criterion(parts[0]).status == MET and result.criterion("2").status == MISSING
    for part in parts[1:]:
        answer_tagged(sam, "edexcel-f6", part)
    submit(sam, "edexcel-f6")
    judge_all(engine, banks)
    assert coverage(engine, banks, SAM, "edexcel-f6").criterion("2").status == MET
