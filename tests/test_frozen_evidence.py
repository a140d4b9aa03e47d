"""Evidence is fixed once given: a bank edited or a question withdrawn later changes no record already made."""

import shutil
from datetime import date, timedelta

import yaml

from bot.bootstrap import open_database
from bot.domain.assessment import Assessment
from bot.domain.bank_schema import UnitBank
from bot.domain.banks import Banks, load_banks
from bot.domain.evidence import record_for
from bot.domain.sittings import PartKept, Person, Prompt
from bot.settings import PROJECT_ROOT
from bot.storage.db import transaction
from bot.storage.models import Answer, BankVersion, Criterion
from bot.storage.repository import Repository
from tests.test_sittings import FULL_ANSWER, Candidate

SAM = Person(501, 501, "Sam Candidate")
TOM = Person(502, 502, "Tom Candidate")


def enrol(engine, banks, person: Person) -> Candidate:
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        if Repository(session).assessor_by_telegram_id(11) is None:
            assessment.add_assessor(11, "Ann Assessor")
        code = assessment.create_invite("cg-310", 11, date.today() + timedelta(days=30)).code
        assessment.redeem_invite(person, code)
    return Candidate(engine, banks, person)


def record(engine, banks, person: Person = SAM) -> dict:
    with transaction(engine) as session:
        return record_for(session, banks, person.user_id, "cg-310", timezone="Europe/London")


def edited_bank_folder(tmp_path, banks: Banks) -> tuple[Banks, str, str]:
    """A copy of the banks in which cg-310's first question and the words of criterion 310.4.1 are changed."""
    folder = tmp_path / "banks"
    shutil.copytree(PROJECT_ROOT / "question_banks", folder)
    file = folder / "cg-310.yaml"
    data = yaml.safe_load(file.read_text(encoding="utf-8"))
    question = data["question_sets"][0]["questions"][0]
    question["text"] = "What do you do first when a customer tells you about a problem?"
    criterion = next(c for c in data["criteria"] if c["ref"] == "310.4.1")
    criterion["text"] = "describe, in new words, " + criterion["text"]
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return load_banks([folder]), question["text"], criterion["text"]


def test_a_bank_edit_changes_no_record_already_made_and_new_answers_get_the_new_words(engine, banks, settings, tmp_path):
    sam = enrol(engine, banks, SAM)
    sam.answer()
    sam.answer()
    sam.do("submit", sam.do("review").enrolment_id)
    before = record(engine, banks)
    old_question = banks.unit("cg-310").knowledge_sets[0].questions[0].text
    old_words = banks.unit("cg-310").criterion("310.4.1").text

    edited, new_question, new_words = edited_bank_folder(tmp_path, banks)
    assert edited.version("cg-310").sha256 != banks.version("cg-310").sha256
    open_database(settings, edited).dispose()  # the bot restarts on the edited bank

    after = record(engine, edited)
    assert after["digest"]["value"] == before["digest"]["value"]
    first = after["evidence"]["answers"][0]
    assert first["question"] == old_question
    assert first["criteria"][0] == {"unit": "cg-310", "ref": "310.4.1", "text": old_words}
    assert after["evidence"]["bank_versions"] == [
        {"file": "cg-310.yaml", "sha256": banks.version("cg-310").sha256, "source": banks.unit("cg-310").unit.source}
    ]
    with transaction(engine) as session:  # the criterion's words are never overwritten in place
        assert session.exec(Criterion.__table__.select().where(Criterion.ref == "310.4.1")).one().text == old_words
        versions = session.exec(BankVersion.__table__.select().where(BankVersion.unit_code == "cg-310")).all()
        assert len(versions) == 2  # the edit is a new bank version, the old one kept

    tom = enrol(engine, edited, TOM)
    tom.answer()
    fresh = record(engine, edited, TOM)["evidence"]
    assert fresh["answers"][0]["question"] == new_question
    assert fresh["answers"][0]["criteria"][0]["text"] == new_words
    assert fresh["bank_versions"][0]["sha256"] == edited.version("cg-310").sha256


def without_question(banks: Banks, unit: str, question_id: str) -> Banks:
    data = banks.unit(unit).model_dump()
    for question_set in data["question_sets"]:
        question_set["questions"] = [q for q in question_set["questions"] if q["id"] != question_id]
    units = dict(banks.units) | {unit: UnitBank.model_validate(data)}
    return Banks(units, banks.mapping)


def test_a_question_withdrawn_mid_sitting_is_retired_and_the_candidate_carries_on(engine, banks):
    sam = enrol(engine, banks, SAM)
    sam.answer()
    second = banks.unit("cg-310").knowledge_sets[0].questions[1]
    sam.say("Half an answer to the second question")
    trimmed = without_question(banks, "cg-310", second.id)
    assert trimmed.version("cg-310").sha256 != banks.version("cg-310").sha256

    sam.banks = trimmed  # the bot restarted on the bank without that question
    kept = sam.say("This now answers the next question")
    assert isinstance(kept, PartKept) and kept.prompt.question.id != second.id
    assert isinstance(sam.do("resume"), Prompt)
    answers = record(engine, trimmed)["evidence"]["answers"]
    retired = next(a for a in answers if a["question_id"] == second.id)
    assert retired["status"] == "retired" and retired["answer"] == "Half an answer to the second question"
    assert retired["question"] == second.text
    with transaction(engine) as session:
        assert session.exec(Answer.__table__.select().where(Answer.question_id == second.id)).one().status == "retired"


def test_a_withdrawn_question_already_answered_stays_in_review_and_records(engine, banks):
    sam = enrol(engine, banks, SAM)
    sam.answer()
    first = banks.unit("cg-310").knowledge_sets[0].questions[0]
    sam.banks = without_question(banks, "cg-310", first.id)
    review = sam.do("review")
    assert [item.question for item in review.items] == [first.text]
    assert sam.do("reanswer", review.items[0].answer_id).value == "withdrawn"
    sam.do("submit", review.enrolment_id)
    assert record(engine, sam.banks)["evidence"]["answers"][0]["answer"] == FULL_ANSWER
