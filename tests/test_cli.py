"""The command line as an assessor or an operator uses it."""

import json
import re
from datetime import UTC, date, datetime
from itertools import count

import pytest
from sqlmodel import select

from bot.domain.assessment import Assessment
from bot.domain.sittings import IncomingMessage, Person, ProbeAsked, Sittings
from bot.storage.db import transaction
from bot.storage.models import AuditEvent
from bot.storage.repository import Repository
from tests.botprocess import nvqbot


def test_run_without_a_token_says_so_in_one_line(database_url):
    result = nvqbot(database_url, "run", env={"NVQBOT_TELEGRAM_TOKEN": ""})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nvqbot: error: NVQBOT_TELEGRAM_TOKEN is not set: give the bot token from @BotFather (or try 'make demo')"
    ]


def test_an_unreachable_database_is_one_clear_line():
    result = nvqbot("postgresql+psycopg://nobody@127.0.0.1:1/none", "db", "upgrade")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nvqbot: error: cannot reach the database at postgresql")


def test_a_bad_setting_is_one_clear_line(database_url):
    result = nvqbot(database_url, "db", "upgrade", env={"NVQBOT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nvqbot: error: bad setting: NVQBOT_TIMEZONE: Value error, unknown time zone 'Mars/Olympus'"
        " (use an IANA name such as Europe/London)"
    ]


def test_invite_prints_a_one_use_code_and_the_deep_link(database_url):
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", "11", "--name", "Ann").returncode == 0
    result = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "2099-12-12",
                    env={"NVQBOT_BOT_USERNAME": "nvq_test_bot"})
    assert result.returncode == 0, result.stderr
    code = re.search(r"Invite code: (\S+)", result.stdout).group(1)
    assert f"https://t.me/nvq_test_bot?start={code}" in result.stdout
    assert "12 Dec 2099" in result.stdout


def test_refusals_are_one_clear_line(database_url):
    bad_date = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "12/12/2099")
    assert bad_date.returncode == 1 and "not a date in the form YYYY-MM-DD" in bad_date.stderr
    no_assessor = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "2099-12-12")
    assert no_assessor.returncode == 1 and "no assessor with Telegram id 11" in no_assessor.stderr
    no_candidate = nvqbot(database_url, "export", "--candidate", "5")
    assert no_candidate.returncode == 1 and no_candidate.stderr.strip() == "nvqbot: error: no candidate with Telegram id 5"


def test_a_candidates_time_zone_is_set_and_checked(database_url, engine, banks):
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann")
        assessment.redeem_invite(Person(501, 501, "Sam"), assessment.create_invite("cg-310", 11, date(2099, 1, 1)).code)
    assert "America/New_York" in nvqbot(database_url, "timezone", "--candidate", "501", "--zone", "America/New_York").stdout
    wrong = nvqbot(database_url, "timezone", "--candidate", "501", "--zone", "Mars/Base")
    assert wrong.returncode == 1 and "unknown time zone 'Mars/Base'" in wrong.stderr
    with transaction(engine) as session:
        assert Repository(session).candidate_by_telegram_id(501).timezone == "America/New_York"


# --- the assessor's command line, tried as a new user would --------------------------------------------

FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)
_message_ids = count(1)


def enrol(engine, banks, person: Person, unit: str = "cg-310", deadline: date = date(2099, 12, 31)) -> None:
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        if Repository(session).assessor_by_telegram_id(11) is None:
            assessment.add_assessor(11, "Ann Assessor")
        assessment.redeem_invite(person, assessment.create_invite(unit, 11, deadline).code)


def answer(engine, banks, person: Person, text: str = FULL_ANSWER) -> None:
    """The candidate answers the question in front of them and taps Done (twice if probed)."""
    def step(name, *args):
        with transaction(engine) as session:
            return getattr(Sittings(Repository(session), banks), name)(person, *args)

    message_id = next(_message_ids)
    step("take_message", IncomingMessage(text, person.chat_id, message_id, 10_000 + message_id, datetime.now(UTC)))
    while isinstance(step("finish"), ProbeAsked):
        pass


SAM, BEA = Person(501, 501, "Sam Candidate"), Person(502, 502, "Bea Candidate")


@pytest.fixture
def sam(database_url, engine, banks) -> Person:
    """Sam is on cg-310 (two answers given) and on edexcel-f6 (none yet)."""
    enrol(engine, banks, SAM)
    answer(engine, banks, SAM)
    answer(engine, banks, SAM, "Our team leader reviews the complaints log every Monday and we spot the problems that repeat.")
    enrol(engine, banks, SAM, "edexcel-f6", date(2099, 6, 30))
    return SAM


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("fmt", ["pdf", "html"])
def test_pdf_or_html_without_out_says_to_add_out_and_prints_no_json(database_url, sam, fmt):
    result = nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-310", "--format", fmt)
    assert result.returncode == 1 and result.stdout == ""
    assert one_line(result) == (
        f"nvqbot: error: {fmt.upper()} records are written to files: add --out FOLDER,"
        f" e.g. nvqbot export --candidate 501 --unit cg-310 --format {fmt} --out records/"
    )
    no_unit = nvqbot(database_url, "export", "--candidate", "501", "--format", fmt)
    assert no_unit.returncode == 1 and no_unit.stdout == ""
    assert "add --out FOLDER and --unit CODE" in one_line(no_unit)


def test_an_unknown_unit_is_named_with_the_known_ones_and_a_real_unit_not_taken_is_not_enrolled(database_url, sam, banks):
    known = ", ".join(sorted(banks.units))
    for args in ([], ["--format", "pdf", "--out", "records"]):
        unknown = nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-999", *args)
        assert unknown.returncode == 1 and unknown.stdout == ""
        assert one_line(unknown) == f"nvqbot: error: unknown unit 'cg-999' (known units: {known})"
    not_taken = nvqbot(database_url, "export", "--candidate", "501", "--unit", "ocr-c3")
    assert not_taken.returncode == 1
    assert one_line(not_taken) == "nvqbot: error: Sam Candidate (Telegram id 501) is not enrolled on unit 'ocr-c3'"


def test_candidates_lists_each_enrolment_with_status_progress_and_deadline_under_a_header(database_url, engine, banks):
    assert nvqbot(database_url, "candidates").stdout.strip() == (
        "No candidates yet: invite one with nvqbot invite --unit CODE --assessor ID --deadline YYYY-MM-DD."
    )
    enrol(engine, banks, SAM)
    answer(engine, banks, SAM)
    answer(engine, banks, SAM)
    enrol(engine, banks, SAM, "edexcel-f6", date(2099, 6, 30))
    enrol(engine, banks, BEA)
    with transaction(engine) as session:
        repo = Repository(session)
        repo.enrolment(repo.candidate_by_telegram_id(502).id, "cg-310").status = "signed_off"
    cg310 = len([q for s in banks.unit("cg-310").knowledge_sets for q in s.questions])
    f6 = len([q for s in banks.unit("edexcel-f6").knowledge_sets for q in s.questions])

    listed = nvqbot(database_url, "candidates")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.rstrip("\n").splitlines()
    assert [line.split() for line in lines] == [
        ["TELEGRAM", "ID", "NAME", "UNIT", "STATUS", "ANSWERED", "DEADLINE"],
        ["501", "Sam", "Candidate", "cg-310", "active", "2", "of", str(cg310), "questions", "31", "Dec", "2099"],
        ["501", "Sam", "Candidate", "edexcel-f6", "active", "0", "of", str(f6), "questions", "30", "Jun", "2099"],
        ["502", "Bea", "Candidate", "cg-310", "signed", "off", "0", "of", str(cg310), "questions", "31", "Dec", "2099"],
    ]
    for column in ("NAME", "UNIT", "STATUS", "ANSWERED", "DEADLINE"):  # a table: every column starts where its header does
        at = lines[0].index(column)
        assert all(line[at - 2 : at] == "  " and line[at] != " " for line in lines[1:]), (column, lines)


def test_the_printed_json_is_the_record_that_out_writes_and_without_unit_one_per_unit(database_url, sam, tmp_path):
    printed = nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-310")
    assert printed.returncode == 0, printed.stderr
    written = nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-310", "--format", "json", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    on_stdout = json.loads(printed.stdout)
    in_file = json.loads((tmp_path / "cg-310_501_evidence.json").read_text(encoding="utf-8"))
    assert set(on_stdout) == {"format", "evidence", "digest", "generated_at", "software"}
    assert set(on_stdout["digest"]) == {"algorithm", "method", "value", "sections"}
    assert {k: v for k, v in on_stdout.items() if k != "generated_at"} == {k: v for k, v in in_file.items() if k != "generated_at"}
    assert [a["answer"] for a in on_stdout["evidence"]["answers"]][0] == FULL_ANSWER

    every_unit = nvqbot(database_url, "export", "--candidate", "501")
    assert every_unit.returncode == 0, every_unit.stderr
    records = json.loads(every_unit.stdout)
    assert isinstance(records, list) and [r["evidence"]["unit"]["code"] for r in records] == ["cg-310", "edexcel-f6"]
    assert records[0]["digest"] == on_stdout["digest"] and records[0]["evidence"] == on_stdout["evidence"]
    saved = tmp_path / "every_unit.json"
    saved.write_text(every_unit.stdout, encoding="utf-8")
    verified = nvqbot(database_url, "verify", str(saved))
    assert verified.returncode == 0, verified.stderr
    assert [line.split(" (")[0] for line in verified.stdout.splitlines() if not line.startswith("  ")] == [
        f"intact: {saved}", f"intact: {saved}"]


def export_json(database_url: str, folder) -> dict:
    written = nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-310", "--format", "json", "--out", str(folder))
    assert written.returncode == 0, written.stderr
    return folder / "cg-310_501_evidence.json"


def test_verify_says_intact_for_an_unchanged_export_and_names_the_changed_answer_in_a_copy(database_url, sam, tmp_path):
    exported = export_json(database_url, tmp_path)
    record = json.loads(exported.read_text(encoding="utf-8"))
    intact = nvqbot(database_url, "verify", str(exported))
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.splitlines() == [
        f"intact: {exported} (cg-310, Sam Candidate, Telegram id 501)",
        f"  SHA-256 {record['digest']['value']}",
    ]

    second = record["evidence"]["answers"][1]
    changed_text = second["answer"].replace("Monday", "Munday", 1)  # one character of the answer
    assert sum(a != b for a, b in zip(second["answer"], changed_text)) == 1
    second["answer"] = changed_text
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")

    differs = nvqbot(database_url, "verify", str(copy))
    assert differs.returncode == 1
    lines = differs.stdout.splitlines()
    assert lines[0] == f"CHANGED: {copy} (cg-310, Sam Candidate, Telegram id 501) does not match its digest"
    assert f"  answers/{second['ref']}: changed" in lines
    assert not any(f"answers/{record['evidence']['answers'][0]['ref']}" in line for line in lines)


def test_verify_refuses_what_is_not_a_record_in_one_line(database_url, tmp_path):
    not_json = tmp_path / "notes.txt"
    not_json.write_text("Sam did well.\n", encoding="utf-8")
    not_record = tmp_path / "other.json"
    not_record.write_text('{"name": "Sam"}', encoding="utf-8")
    for path, expected in [
        (not_json, f"nvqbot: error: {not_json} is not JSON (line 1 column 1: Expecting value): give the .json file that nvqbot export wrote"),
        (not_record, f"nvqbot: error: {not_record} is not an nvqbot evidence record: it has no \"evidence\" object"),
        (tmp_path / "missing.json", f"nvqbot: error: cannot read {tmp_path / 'missing.json'}: there is no such file"),
    ]:
        result = nvqbot(database_url, "verify", str(path))
        assert result.returncode == 2 and result.stdout == ""
        assert one_line(result) == expected


def test_two_exports_in_a_row_of_the_same_evidence_have_the_same_digest(database_url, sam, tmp_path):
    first = json.loads(export_json(database_url, tmp_path / "first").read_text(encoding="utf-8"))
    second = json.loads(export_json(database_url, tmp_path / "second").read_text(encoding="utf-8"))
    assert first["digest"]["value"] == second["digest"]["value"]
    assert first["generated_at"] != second["generated_at"]
    printed = json.loads(nvqbot(database_url, "export", "--candidate", "501", "--unit", "cg-310").stdout)
    assert printed["digest"]["value"] == first["digest"]["value"]


def test_audit_verify_says_intact_then_names_an_edited_event(database_url, sam, engine, tmp_path):
    export_json(database_url, tmp_path)  # an "exported" event
    assert nvqbot(database_url, "deadline", "--candidate", "501", "--unit", "cg-310", "--date", "2099-11-30").returncode == 0
    with transaction(engine) as session:
        events = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
        count_, exported_id = len(events), next(e.id for e in events if e.action == "exported")
    assert count_ >= 2
    intact = nvqbot(database_url, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == f"intact: {count_} events, each chained to the one before by its hash."

    with transaction(engine) as session:
        event = session.get(AuditEvent, exported_id)
        event.details = {**event.details, "formats": ["pdf"]}  # someone edits the trail
    broken = nvqbot(database_url, "audit", "verify")
    assert broken.returncode == 1
    lines = broken.stdout.strip().splitlines()
    assert lines[0].startswith(f"BROKEN: 1 of {count_} events do not match")
    assert lines[1].startswith(f"  event {exported_id}: exported by cli at ") and len(lines) == 2
