"""The PDF evidence records as a verifier reads them: every character drawn, no text over a column's edge,
and on every page where it is (page N of M), what it is sealed with (digest), what it was asked from
(bank versions) and what made it (nvqbot's version).

The candidate is played through the real domain against a real database; the question bank is the
real one with one professional-discussion case given a long id, so that its evidence reference is 60
characters long, as a centre's own case naming may make it.
"""

import io
import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pdfplumber
import pytest

from bot import documents
from bot import pdf as pdf_layout
from bot.bootstrap import open_database
from bot.domain.assessment import Assessment
from bot.domain.banks import Banks
from bot.domain.digest import METHOD, differences
from bot.domain.evidence import record_for
from bot.domain.judging import Judging
from bot.domain.sittings import IncomingMessage, Person, ProbeAsked, Sittings
from bot.domain.submissions import Submissions
from bot.settings import PROJECT_ROOT
from bot.storage.db import transaction
from bot.storage.repository import Repository

LLYR = Person(user_id=501, chat_id=501, name="Llŷr Gŵyn")
ANN = Person(user_id=11, chat_id=11, name="Ann Assessor")
CLOCK = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
LONG_CASE = "a-very-long-case-identifier-for-a-system-failure-1"
# What the candidate typed: Welsh, accented names, Chinese, Japanese, Korean, emoji (one a sequence: a flag).
TYPED = (
    "Llŷr Gŵyn here: I log every complaint on the CRM system 😀 and follow the complaints procedure. "
    "Zoë, Ólafur and François in the team check it; the café's naïve façade. "
    "客户投诉 日本語のテキスト 한국어 고객 🇬🇧 done ✓"
)
# The same as the PDF draws it: each emoji, and the tick none of the fonts has, by its name.
DRAWN = (
    "Llŷr Gŵyn here: I log every complaint on the CRM system [grinning face] and follow the complaints procedure. "
    "Zoë, Ólafur and François in the team check it; the café's naïve façade. "
    "客户投诉 日本語のテキスト 한국어 고객 [flag: United Kingdom] done [check mark]"
)
CASE_ANSWER = (
    "A customer rang because the booking system lost her order; I logged it on the CRM, apologised, and"
    " rebooked the delivery for the next morning, then told my team leader so the fault was reported."
)
CJK_FACES = ("STSongStd-Light", "HeiseiMin-W3", "HYSMyeongJo-Medium")  # reportlab's names for them in a PDF
# Faces the PDF may draw with: FiraGO, reportlab's CJK faces, Courier for the (ASCII) hashes, Symbol for bullets.
FACES = re.compile(
    r"^(?:[A-Z]{6}\+)?(FiraGO-(Regular|Bold|Italic|BoldItalic)|STSongStd-Light|HeiseiMin-W3|HYSMyeongJo-Medium|Courier|Symbol)$"
)


@pytest.fixture(scope="module")
def banks_folder(tmp_path_factory):
    """The real question banks, with cg-310's first PD case renamed to a long id."""
    folder = tmp_path_factory.mktemp("banks")
    shutil.copytree(PROJECT_ROOT / "question_banks", folder, dirs_exist_ok=True)
    bank = folder / "cg-310.yaml"
    text = bank.read_text(encoding="utf-8")
    assert "\npd_cases:\n- id: customer-raised\n" in text
    bank.write_text(text.replace("\npd_cases:\n- id: customer-raised\n", f"\npd_cases:\n- id: {LONG_CASE}\n"), "utf-8")
    return folder


@pytest.fixture(scope="module")
def long_banks(banks_folder) -> Banks:
    return Banks.load(banks_folder)


class Player:
    def __init__(self, engine, banks):
        self.engine, self.banks, self.message_id = engine, banks, 0

    def do(self, work, step, *args, person=LLYR):
        with transaction(self.engine) as session:
            return getattr(work(Repository(session), self.banks, now=lambda: CLOCK), step)(person, *args)

    def answer(self, text):
        self.message_id += 1
        self.do(Sittings, "take_message", IncomingMessage(text, LLYR.chat_id, self.message_id, self.message_id, CLOCK))
        if isinstance(self.do(Sittings, "finish"), ProbeAsked):
            self.message_id += 1
            follow_up = "My team leader reads the log every Friday and rings the customer back."
            self.do(Sittings, "take_message", IncomingMessage(follow_up, LLYR.chat_id, self.message_id, self.message_id, CLOCK))
            while isinstance(self.do(Sittings, "finish"), ProbeAsked):
                pass


@pytest.fixture
def db(settings, long_banks):
    engine = open_database(settings, long_banks)
    yield engine
    engine.dispose()


@pytest.fixture
def record(db, long_banks) -> dict:
    """Llŷr answers a knowledge question and the first part of the long-named case, submits, and is judged."""
    with transaction(db) as session:
        assessment = Assessment(Repository(session), long_banks)
        assessment.add_assessor(ANN.user_id, ANN.name)
        code = assessment.create_invite("cg-310", ANN.user_id, date.today() + timedelta(days=30)).code
        assessment.redeem_invite(LLYR, code)
    llyr = Player(db, long_banks)
    llyr.answer(TYPED)
    enrolment_id = llyr.do(Submissions, "review").enrolment_id
    llyr.do(Sittings, "start_pd_case", enrolment_id, LONG_CASE)
    llyr.answer(CASE_ANSWER)
    review = llyr.do(Submissions, "review")
    llyr.do(Submissions, "submit", review.enrolment_id)
    llyr.do(Judging, "judge", review.items[0].answer_id, "met", "Clear — diolch.", person=ANN)
    with transaction(db) as session:
        return record_for(session, long_banks, LLYR.user_id, "cg-310", timezone="Europe/London")


def long_ref(record) -> str:
    [ref] = [a["ref"] for a in record["evidence"]["answers"] if LONG_CASE in a["ref"]]
    return ref


def pages(pdf: bytes) -> list:
    return pdfplumber.open(io.BytesIO(pdf)).pages


def squeezed(text: str) -> str:
    """Without white space: a line break inside a wrapped word or sentence is not a character of it."""
    return "".join(text.split())


def overruns(pdf: bytes) -> list[str]:
    """Every word on a table that starts in one cell and runs past that cell's right edge."""
    found = []
    for number, page in enumerate(pages(pdf), 1):
        cells = [cell for table in page.find_tables() for cell in table.cells if cell]
        for word in page.extract_words():
            middle = (word["top"] + word["bottom"]) / 2
            home = [c for c in cells if c[0] - 0.5 <= word["x0"] < c[2] and c[1] <= middle <= c[3]]
            if home and word["x1"] > min(c[2] for c in home) + 0.5:
                found.append(f"page {number}: {word['text']!r} ends at {word['x1']:.1f}, its cell at {min(c[2] for c in home):.1f}")
    return found


def test_the_record_holds_a_60_character_reference_and_what_was_typed(record):
    assert len(long_ref(record)) == 60
    assert record["evidence"]["answers"][0]["answer"].startswith(TYPED)
    assert record["evidence"]["candidate"]["name"] == "Llŷr Gŵyn"


@pytest.mark.parametrize("kind", documents.DOCUMENT_KINDS)
def test_every_page_says_page_n_of_m_the_digest_the_bank_versions_and_nvqbots_version(record, kind):
    found = pages(documents.render_pdf(kind, record))
    versions = [(b["file"], b["sha256"][: documents.SHORT_SHA]) for b in record["evidence"]["bank_versions"]]
    assert versions and all(len(sha) == 12 for _, sha in versions)
    for number, page in enumerate(found, 1):
        text = page.extract_text()
        assert f"page {number} of {len(found)}" in text, (kind, number)
        assert record["digest"]["value"] in text
        for file, sha in versions:
            assert f"{file} {sha}" in text
        assert f"nvqbot {record['software']['version']}" in text
        assert "Llŷr Gŵyn" in text  # the footer names the candidate, Welsh letters and all
    if kind == "transcript":
        assert len(found) > 1  # the check above has more than one page to look at


@pytest.mark.parametrize("kind", documents.DOCUMENT_KINDS)
def test_the_record_says_how_its_digest_is_computed_and_how_to_check_it(record, kind):
    text = squeezed(" ".join(page.extract_text() for page in pages(documents.render_pdf(kind, record))))
    assert squeezed(METHOD) in text
    assert squeezed(f"{documents.VERIFY_COMMAND} recomputes the digest") in text


def test_the_transcript_draws_every_character_the_candidate_typed(record):
    pdf = documents.render_pdf("transcript", record)
    text = squeezed(" ".join(page.extract_text() for page in pages(pdf)))
    assert squeezed(DRAWN) in text
    assert squeezed("Clear — diolch.") in text
    for page in pages(pdf):
        for char in page.chars:
            # Every glyph comes from a face that has it: FiraGO or a CJK face (no Helvetica, no Vera fallback).
            assert FACES.match(char["fontname"]), (char["text"], char["fontname"])
            if char["fontname"] in CJK_FACES:
                assert re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]", char["text"]), char
            if char["fontname"] == "Symbol":  # a list's bullet, in the PDF's own Symbol face
                assert char["text"] == "•", char
                continue
            if char["fontname"] == "Courier":  # hashes and ids: the PDF's own Courier draws Windows-1252
                char["text"].encode("cp1252")
    cjk = {c["text"]: c["fontname"] for page in pages(pdf) for c in page.chars if not c["text"].isascii()}
    assert (cjk["客"], cjk["テ"], cjk["한"]) == CJK_FACES
    assert "FiraGO" in cjk["ŵ"] and "FiraGO" in cjk["ŷ"]


# Beyond what the story typed: other scripts, symbols, sequences, invisible and unassigned characters.
MANY_SCRIPTS = (
    "Arabic مرحبا Hebrew שלום Devanagari नमस्ते Thai สวัสดี Georgian გამარჯობა Armenian Բարեւ Greek Ελλάδα "
    "Cyrillic Привет math ∑∫√∞≠≈≤ box ┌─┐ combining e\u0301 ZWJ 👩‍💻 family 👨‍👩‍👧 ❤️ 1️⃣ 👋🏿 🫠 "
    "private \ue000 unassigned \U000e0000 bidi \u202eevil\u202c soft\u00adhyphen "
    "CJK Ext B 𠀀 ＡＢＣ ｶﾀｶﾅ ᄀ 〜「引用」 © ® ™ ‼ 𝔘 ½ № ℃ 中文 한국어 テスト"
)


def test_every_glyph_of_any_script_is_in_the_face_that_draws_it(record, capfd):
    """Whatever is typed, each character is drawn from a face that has it, or named: never a blank or a box."""
    from pdfminer.cmapdb import CMapDB

    record["evidence"]["answers"][0]["parts"][0]["text"] = MANY_SCRIPTS
    record["evidence"]["candidate"]["name"] = "李小龍 Ólafur 😀"
    capfd.readouterr()
    pdf = documents.render_pdf("transcript", record)
    assert capfd.readouterr().err == ""  # no "cannot draw" warning, nor any other
    firago = pdf_layout._text_font_coverage()
    cmaps = {"STSongStd-Light": "UniGB-UCS2-H", "HeiseiMin-W3": "UniJIS-UCS2-H", "HYSMyeongJo-Medium": "UniKS-UCS2-H"}
    seen = set()
    for page in pages(pdf):
        for char in page.chars:
            text, font = char["text"], char["fontname"]
            if font in cmaps:
                assert len(text) == 1 and ord(text) <= 0xFFFF, char
                assert list(CMapDB.get_cmap(cmaps[font]).decode(ord(text).to_bytes(2, "big"))) != [0], char
            elif "FiraGO" in font:
                assert all(ord(c) in firago for c in text), char
            seen.add(text)
    assert {"中", "한", "テ", "ש", "न", "П", "≤", "李"} <= seen
    text = squeezed(" ".join(page.extract_text() for page in pages(pdf)))
    for named in ("[woman technologist]", "[family man woman girl]", "[red heart]", "[keycap 1]",
                  "[waving hand dark skin tone]", "[melting face]", "[cjk unified ideograph-20000]",
                  "[hangul choseong kiyeok]", "[U+E000]", "[box drawings light horizontal]"):
        assert squeezed(named) in text, named


def test_the_html_and_json_keep_the_characters_themselves(record, tmp_path):
    html = documents.render_html("transcript", record)
    assert "😀" in html and "🇬🇧" in html and "客户投诉" in html and "Llŷr Gŵyn" in html
    assert "[grinning face]" not in html
    exported = json.loads(documents.render_json(record))
    assert exported["evidence"]["answers"][0]["answer"].startswith(TYPED)
    assert differences(exported) == []


@pytest.mark.parametrize("kind", documents.DOCUMENT_KINDS)
def test_no_word_runs_over_its_table_column(record, kind):
    pdf = documents.render_pdf(kind, record)
    assert overruns(pdf) == []
    # The 60-character reference is in the document, whole, in the characters it has.
    text = squeezed(" ".join(page.extract_text() for page in pages(pdf)))
    assert long_ref(record) in text


def test_the_long_reference_wraps_inside_its_coverage_cell_and_reads_back_whole(record):
    pdf = documents.render_pdf("coverage", record)
    ref = long_ref(record)
    for page in pages(pdf):
        for table in page.find_tables():
            for cell in table.cells:
                if not cell:
                    continue
                inside = page.crop(cell).extract_text()
                if ref[:12] in inside:
                    assert ref in squeezed(inside)  # nothing added: no hyphen, no zero-width space
                    assert "\u200b" not in inside and "\xad" not in inside
                    assert not any(ref in line for line in inside.splitlines())  # it did wrap: the column is narrower
                    return
    pytest.fail("the long reference is in no cell of the coverage table")


def test_the_column_check_finds_a_word_that_runs_over(record):
    """A control: without the wrapping rule the long reference runs over its column, and the check says so."""
    html = documents.render_html("coverage", record).replace("overflow-wrap: break-word; word-wrap: break-word;", "")
    pdf_layout._text_font_coverage()
    out = io.BytesIO()
    pdf_layout.pisa.CreatePDF(pdf_layout._pdf_ready(html), dest=out, encoding="utf-8")
    assert any(long_ref(record)[:20] in line for line in overruns(out.getvalue()))


def test_the_audit_trail_starts_from_its_stated_hash(record):
    evidence = record["evidence"]
    assert evidence["audit"] and evidence["audit"][0]["previous_hash"] == evidence["audit_starts_from"]
    text = squeezed(" ".join(page.extract_text() for page in pages(documents.render_pdf("transcript", record))))
    assert squeezed(f"starts from {evidence['audit_starts_from']}") in text
    assert evidence["audit"][-1]["summary"].split(";")[0].replace(" ", "") in text


EXPORT = """
import sys
from pathlib import Path
from sqlalchemy import create_engine
from bot.documents import write_exports
from bot.domain.banks import Banks
engine = create_engine(sys.argv[1])
written = write_exports(engine, Banks.load(Path(sys.argv[2])), 501, "cg-310", ["pdf", "html", "json"], Path(sys.argv[3]))
print(len(written))
"""


def test_nothing_is_printed_to_stderr_while_exporting(record, settings, banks_folder, tmp_path):
    """A fresh process (so no warning has been shown before): every document in every format, stderr empty."""
    run = subprocess.run(
        [sys.executable, "-c", EXPORT, settings.database_url, str(banks_folder), str(tmp_path / "out")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "7"
    assert run.stderr == ""
    assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".html"] * 3 + [".json"] + [".pdf"] * 3
