"""`make demo` as a newcomer meets it: the first question shows, typed answers are taken, the command line
reads what was saved, and the demo deletes no file it did not make."""

import json
import re
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from bot.devtools.demo import DEMO_APPLICATION_ID, made_by_demo
from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

ANSWER = (
    "We log every complaint on the CRM system and follow the complaints procedure, then tell the customer"
    " what happens next and when.\n:1\n"
)


def demo(database, typed: str = ANSWER + ":quit\n") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--database", str(database)],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )


def test_demo_shows_the_first_question_and_takes_typed_answers(tmp_path):
    result = demo(tmp_path / "demo.db")
    assert result.returncode == 0, result.stderr
    assert "Question 1 of 9 · 310.4.1" in result.stdout
    assert "Question 2 of 9 · 310.4.2" in result.stdout
    assert re.search(r"web console, served beside the bot: open http://127\.0\.0\.1:\d+/login\?t=\S+ in a browser", result.stdout)
    assert "Traceback" not in result.stderr


def test_after_the_demo_the_command_line_it_prints_reads_its_records(tmp_path):
    database = tmp_path / "demo.db"
    result = demo(database)
    assert result.returncode == 0, result.stderr
    commands = re.findall(r"^  (NVQBOT_DATABASE_URL=\S+ .+)$", result.stdout, re.MULTILINE)
    # e.g. NVQBOT_DATABASE_URL=sqlite:////…/var/demo.db .venv/bin/nvqbot candidates (from the project folder)
    assert re.fullmatch(rf"NVQBOT_DATABASE_URL=sqlite:///{re.escape(str(database))} \S*bin/nvqbot candidates", commands[0])

    listed = subprocess.run(commands[0], shell=True, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^2000 +Sam +cg-310 +active +1 of 9 questions ", listed.stdout, re.MULTILINE), listed.stdout

    exported = subprocess.run(commands[1], shell=True, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    assert "We log every complaint on the CRM system" in exported.stdout


def test_a_newcomer_sends_a_voice_note_a_photo_and_an_edit_and_sees_them_kept(tmp_path):
    picture = tmp_path / "till-receipt.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 a small picture \xff\xd9")
    typed = (
        "We log every complaint on the CRM system.\n"
        ":edit We log every complaint on Zendesk and my supervisor reads the log every Friday.\n"
        ":voice 12\n"
        f":photo {picture}\n"
        ":1\n:quit\n"
    )
    database = tmp_path / "demo.db"
    result = demo(database, typed)
    assert result.returncode == 0, result.stderr
    assert "kept your change as version 2" in result.stdout
    assert "(2 messages so far)" in result.stdout and "(3 messages so far)" in result.stdout
    export = re.findall(r"^  (NVQBOT_DATABASE_URL=\S+ .+)$", result.stdout, re.MULTILINE)[1]
    exported = subprocess.run(export, shell=True, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    answers = json.loads(exported.stdout)["evidence"]["answers"]
    latest = answers[-1]
    assert latest["answer"].startswith("We log every complaint on Zendesk")
    kinds = [(p["attachment"] or {}).get("kind") for p in latest["parts"]]
    assert kinds == [None, "voice", "photo"] and latest["parts"][1]["attachment"]["duration"] == 12
    assert answers[0]["answer"] == "We log every complaint on the CRM system."  # the version before the edit is kept


def test_the_demo_remakes_only_its_own_database_and_leaves_files_beside_it_alone(tmp_path):
    database = tmp_path / "demo.db"
    neighbours = {tmp_path / "demo.db.backup": b"yesterday's copy", tmp_path / "demo.dbx": b"someone else's"}
    for path, content in neighbours.items():
        path.write_bytes(content)
    assert demo(database).returncode == 0
    assert made_by_demo(database)
    again = demo(database)  # the second run deletes and remakes the first run's database
    assert again.returncode == 0, again.stderr
    assert "Question 1 of 9" in again.stdout
    assert {path: path.read_bytes() for path in neighbours} == neighbours


@pytest.mark.parametrize("kind", ["sqlite", "text"])
def test_the_demo_refuses_a_database_it_did_not_make_and_leaves_it_as_it_was(tmp_path, kind):
    real = tmp_path / "my-real.db"
    if kind == "sqlite":
        with closing(sqlite3.connect(real)) as db:
            db.execute("CREATE TABLE candidate (id INTEGER PRIMARY KEY, name TEXT)")
            db.execute("INSERT INTO candidate (name) VALUES ('A real candidate')")
            db.commit()
    else:
        real.write_text("not a database at all\n")
    before = real.read_bytes()
    result = demo(real)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"nvqbot: error: {real} exists and is not a demo database: the demo deletes and remakes its database,"
        f" so give a new file (or leave out --database to use {PROJECT_ROOT / 'var' / 'demo.db'})"
    ]
    assert real.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-real.db"]  # not even a log beside it


def test_a_leftover_journal_without_its_database_is_not_the_demos(tmp_path):
    journal = tmp_path / "demo.db-journal"
    journal.write_bytes(b"someone's journal")
    result = demo(tmp_path / "demo.db")
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1
    assert "demo.db-journal exists but" in result.stderr
    assert journal.read_bytes() == b"someone's journal"


def test_a_demo_database_is_known_by_the_mark_in_its_header_or_by_holding_only_the_demos_people(tmp_path):
    marked = tmp_path / "marked.db"
    with closing(sqlite3.connect(marked)) as db:
        db.execute(f"PRAGMA application_id = {DEMO_APPLICATION_ID}")
        db.commit()
    assert made_by_demo(marked)

    earlier = tmp_path / "earlier.db"  # made by a demo from before the mark
    with closing(sqlite3.connect(earlier)) as db:
        db.execute("CREATE TABLE assessor (telegram_user_id INTEGER, name TEXT)")
        db.execute("CREATE TABLE candidate (telegram_user_id INTEGER)")
        db.execute("INSERT INTO assessor VALUES (1000, 'Demo Assessor')")
        db.execute("INSERT INTO candidate VALUES (2000)")
        db.commit()
    assert made_by_demo(earlier)
    with closing(sqlite3.connect(earlier)) as db:
        db.execute("INSERT INTO candidate VALUES (501)")  # a real candidate: not the demo's any more
        db.commit()
    assert not made_by_demo(earlier)
    assert not made_by_demo(tmp_path / "absent.db")
