"""The evidence documents (transcript, knowledge evidence record, coverage) built from a real candidate's data."""

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import select

from bot import documents, pdf
from bot.domain.assessment import Assessment, DomainError
from bot.domain.digest import differences, sha256_hex
from bot.domain.evidence import record_for
from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person, ProbeAsked, Sittings
from bot.domain.submissions import Submissions
from bot.storage import audit
from bot.storage.db import transaction
from bot.storage.models import Answer, AnswerPart, Assessor, AssessorQuestion, Attachment, Judgment, Submission
from bot.storage.repository import Repository

SAM = Person(user_id=501, chat_id=501, name="Sam Candidate")
TITLE = "Monitor and solve customer service problems"
# 23:30 UTC on 1 July is 00:30 on 2 July in London (BST): dates and times must be the centre's.
CLOCK = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
LOCAL_DAY = "2026-07-02"
HOSTILE = "<b>bold</b> & <script>alert(1)</script>"
FULL = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)
VOICE_SHA = "ab" * 32
FEEDBACK_SHA = "cd" * 32


@dataclass
class Story:
    enrolment_id: int
    answer_ids: dict[str, list[int]]  # by question id, oldest version first


class Player:
    """Plays the candidate against the domain, one transaction per step, as the bot does."""

    def __init__(self, engine, banks):
        self.engine, self.banks, self.message_id = engine, banks, 0

    def do(self, step, *args):
        with transaction(self.engine) as session:
            repo = Repository(session)
            side = Sittings if hasattr(Sittings, step) else Submissions
            return getattr(side(repo, self.banks, now=lambda: CLOCK), step)(SAM, *args)

    def say(self, words=None, attachment=None, message_id=None):
        if message_id is None:
            self.message_id += 1
            message_id = self.message_id
        self.do("take_message", IncomingMessage(words, SAM.chat_id, message_id, 10_000 + message_id, CLOCK, attachment))
        return message_id

    def done(self):
        while isinstance(self.do("finish"), ProbeAsked):
            pass


def enrol(engine, banks, unit):
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        if Repository(session).assessor_by_telegram_id(11) is None:
            assessment.add_assessor(11, "Ann Assessor")
        code = assessment.create_invite(unit, 11, date.today() + timedelta(days=30)).code
        assessment.redeem_invite(SAM, code)


def answer_ids(engine) -> dict[str, list[int]]:
    with transaction(engine) as session:
        rows = session.exec(select(Answer).order_by(Answer.question_id, Answer.version)).all()
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row.question_id, []).append(row.id)
    return found


def build_cg310(engine, banks) -> Story:
    """On cg-310: a hostile answer, probed (met); one with a voice note (not yet); one edited; submitted; a draft."""
    enrol(engine, banks, "cg-310")
    sam = Player(engine, banks)
    sam.say(HOSTILE)  # 310.4.1: thin, so probed
    assert isinstance(sam.do("finish"), ProbeAsked)
    sam.say("We log it on the CRM and my team leader checks the log every Friday.")
    sam.done()
    sam.say(FULL)  # 310.4.2, with a voice note
    sam.say(attachment=IncomingAttachment("voice", "file-1", "uniq-1", 85_000, 42, "audio/ogg"))
    sam.done()
    edited = sam.say(FULL + " Customers come back because we sort it out.")  # 310.4.3, then edited: a version 2
    sam.done()
    sam.do("edit", IncomingMessage(FULL + " Loyal customers stay with us.", SAM.chat_id, edited, 20_000, CLOCK))
    enrolment_id = sam.do("review").enrolment_id
    sam.do("ask_declaration", enrolment_id)
    sam.do("submit", enrolment_id)
    sam.say("Half an answer to 310.4.4")  # a draft: not finished, so no evidence yet
    ids = answer_ids(engine)
    with transaction(engine) as session:
        assessor = session.exec(select(Assessor)).one()
        session.add(
            Judgment(
                answer_id=ids["k-310-4-1-a"][-1], assessor_id=assessor.id, outcome="met",
                feedback="Clear & complete.", judged_at=CLOCK,
            )
        )
        session.exec(select(Attachment)).one().sha256 = VOICE_SHA  # as if fetched
        spoken = Attachment(
            kind="voice", file_id="file-2", file_unique_id="uniq-2", file_size=2048, duration=65, sha256=FEEDBACK_SHA
        )
        session.add(spoken)
        session.flush()
        session.add(
            Judgment(
                answer_id=ids["k-310-4-2-a"][-1], assessor_id=assessor.id, outcome="not_yet",
                feedback="Say who <reviews> the log.", feedback_attachment_id=spoken.id, judged_at=CLOCK,
            )
        )
        session.add(
            AssessorQuestion(
                answer_id=ids["k-310-4-3-a"][-1], assessor_id=assessor.id, text="Which customer came back?",
                asked_at=CLOCK, reply_text="Mrs B — twice, after the refund.", replied_at=CLOCK + timedelta(minutes=5),
            )
        )
        submission = session.exec(select(Submission)).one()
        submission.signed_off_at, submission.signed_off_by_id, submission.outcome = CLOCK, assessor.id, "not_yet"
        details = {"answer": "Q1.v1", "outcome": "met"}
        audit.record(session, f"assessor:{assessor.id}", "judged", enrolment_id, details, CLOCK)
    return Story(enrolment_id, ids)


def add_edexcel_f6(engine, banks) -> None:
    """On edexcel-f6: item 10 (mapped to 310.4.1) and item 12 (mapped to 310.4.4, unanswered on cg-310)."""
    enrol(engine, banks, "edexcel-f6")
    sam = Player(engine, banks)
    sam.message_id = 500
    sam.say(FULL)  # k-10-a
    sam.done()
    for _ in range(4):  # k-10-b, k-10-c, k-11-a, k-11-b
        sam.do("skip")
    sam.say("I listen, say sorry, tell the customer what I will do and when, and keep them updated until it is fixed.")
    sam.done()  # k-12-a
    sam.do("submit", sam.do("review").enrolment_id)


@pytest.fixture
def story(engine, banks) -> Story:
    return build_cg310(engine, banks)


def record(engine, banks, unit="cg-310"):
    with transaction(engine) as session:
        return record_for(session, banks, SAM.user_id, unit, timezone="Europe/London")


def evidence(engine, banks, unit="cg-310"):
    return record(engine, banks, unit)["evidence"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.mark.parametrize("kind", ["transcript", "knowledge_record", "coverage"])
def test_every_document_renders_in_html_and_pdf(engine, banks, story, kind):
    r = record(engine, banks)
    sealed = r["digest"]["value"]
    html = documents.render_html(kind, r)
    assert f"<h1>Evidence record — {TITLE} (cg-310)</h1>" in html
    for shown in ("Sam Candidate", "Ann Assessor", "310.4.1", sealed, "Level 3, City &amp; Guilds"):
        assert shown in html
    assert re.fullmatch(r"[0-9a-f]{64}", sealed)
    pdf = documents.render_pdf(kind, r)
    assert pdf.startswith(b"%PDF")
    words = pdf_text(pdf)
    for shown in ("Sam Candidate", TITLE, "310.4.1", sealed, "Ann Assessor"):
        assert shown in words


def test_what_a_candidate_typed_stays_literal(engine, banks, story):
    r = record(engine, banks)
    assert r["evidence"]["answers"][0]["answer"] == HOSTILE
    html = documents.render_html("transcript", r)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html and "<b>bold" not in html
    assert "Say who &lt;reviews&gt; the log." in html
    assert HOSTILE in pdf_text(documents.render_pdf("transcript", r))


def test_the_transcript_shows_every_version_follow_up_attachment_judgment_and_sign_off(engine, banks, story):
    r = record(engine, banks)
    e = r["evidence"]
    assert [a["ref"] for a in e["answers"]] == ["Q1.v1", "Q2.v1", "Q3.v1", "Q3.v2", "Q4.v1"]
    first, voice, old, new, draft = e["answers"]
    assert (first["method"], first["question_id"], first["status"]) == ("Q", "k-310-4-1-a", "complete")
    assert first["question"] == banks.unit("cg-310").knowledge_sets[0].questions[0].text
    assert first["bank"]["sha256"] == banks.version("cg-310").sha256
    assert first["probes"][0]["text"] and first["probes"][0]["reply"].startswith("We log it on the CRM")
    assert [c["ref"] for c in first["criteria"]] == ["310.4.1"]
    assert {(c["unit"], c["ref"]) for c in first["credits"]} == {
        (c.target.unit, c.target.ref) for c in banks.credits_from("cg-310", "310.4.1")}
    assert voice["parts"][1]["attachment"]["sha256"] == VOICE_SHA
    assert [j["outcome"] for j in voice["judgments"]] == ["not_yet"]
    assert voice["judgments"][0]["feedback_attachment"]["sha256"] == FEEDBACK_SHA
    assert (old["current"], old["submission"]) == (False, None)
    assert new["current"] and new["submission"] == "S1"
    assert (draft["status"], draft["current"], draft["answer"]) == ("open", False, "Half an answer to 310.4.4")
    assert new["assessor_questions"][0]["reply_text"] == "Mrs B — twice, after the refund."
    assert e["submissions"][0]["signed_off_by"] == "Ann Assessor"
    assert e["audit"][-1]["action"] == "judged" and e["audit"][-1]["summary"] == "answer: Q1.v1; outcome: met"
    assert e["audit"][-1]["actor"] == "Ann Assessor (assessor)"
    submitted = next(event for event in e["audit"] if event["action"] == "submitted")
    assert submitted["actor"] == "Sam Candidate (candidate)" and "Q1.v1, Q2.v1, Q3.v2" in submitted["summary"]
    assert e["audit_starts_from"] == e["audit"][0]["previous_hash"]

    html = documents.render_html("transcript", r)
    for shown in (
        "Q3.v1", "Q3.v2", "superseded by a later version", "draft, not finished", first["probes"][0]["text"], "every Friday",
        "voice · 0:42 · 83 KB · audio/ogg", VOICE_SHA, "voice · 1:05 · 2 KB", FEEDBACK_SHA,
        "Clear &amp; complete.", "not yet",
        "Which customer came back?", "Mrs B — twice",
        "I confirm that the evidence provided is a result of my own work.",
        e["audit"][-1]["hash"], e["audit"][-1]["actor"], "answer: Q1.v1; outcome: met",
        "2 Jul 2026 00:30",  # 23:30 UTC in London summer time
        "2 Jul 2026 00:35",
    ):
        assert shown in html, shown


def test_the_knowledge_record_has_one_row_per_knowledge_criterion_with_method_and_date(engine, banks, story):
    r = record(engine, banks)
    rows = {row["ref"]: row["evidence"] for row in r["evidence"]["knowledge_record"]}
    assert list(rows) == ["310.4.1", "310.4.2", "310.4.3", "310.4.4"]

    def entry(ref, judgment):
        return {"ref": ref, "unit": "cg-310", "method": "Q", "date": LOCAL_DAY, "judgment": judgment, "via": None,
                "counts": True}

    assert rows["310.4.1"] == [entry("Q1.v1", "met")]
    assert rows["310.4.2"] == [entry("Q2.v1", "not_yet")]
    assert rows["310.4.3"] == [entry("Q3.v2", None)]
    assert rows["310.4.4"] == []

    html = documents.render_html("knowledge_record", r)
    rows = re.findall(r'<tr class="knowledge-item">(.*?)</tr>', html, re.DOTALL)
    assert len(rows) == 4
    assert "310.4.1" in rows[0] and "Q1.v1" in rows[0] and ">Q<" in rows[0] and "2 Jul 2026" in rows[0]
    assert "Q3.v2" in rows[2] and "Q3.v1" not in rows[2]
    assert "no evidence" in rows[3]
    words = pdf_text(documents.render_pdf("knowledge_record", r))
    assert "Knowledge evidence record" in words and "Q1.v1 Q 2 Jul" in words


def test_coverage_marks_met_answered_and_missing_criteria(engine, banks, story):
    coverage = {row["ref"]: row for row in evidence(engine, banks)["coverage"]}
    assert list(coverage) == [c.ref for c in banks.unit("cg-310").criteria]
    assert coverage["310.4.1"]["status"] == "met" and [i["ref"] for i in coverage["310.4.1"]["evidence"]] == ["Q1.v1"]
    assert (coverage["310.4.2"]["status"], coverage["310.4.3"]["status"]) == ("referred", "answered")
    assert [i["ref"] for i in coverage["310.4.3"]["evidence"]] == ["Q3.v2"]
    missing = {ref for ref, row in coverage.items() if row["status"] == "missing"}
    assert missing == set(coverage) - {"310.4.1", "310.4.2", "310.4.3"}  # the unfinished draft counts for nothing
    assert all(not row["credited"] for row in coverage.values())


def test_coverage_shows_evidence_from_another_unit_through_the_mapping(engine, banks, story):
    add_edexcel_f6(engine, banks)
    r = record(engine, banks)
    coverage = {row["ref"]: row for row in r["evidence"]["coverage"]}
    credits = banks.credits_to("cg-310", "310.4.1")
    assert ("edexcel-f6", "10") in {(c.source.unit, c.source.ref) for c in credits}
    credited = coverage["310.4.1"]["credited"][0]
    assert (credited["unit"], credited["ref"], credited["via"], credited["judgment"]) == (
        "edexcel-f6", "Q1.v1", "edexcel-f6:10", None)
    assert coverage["310.4.1"]["status"] == "met"

    html = documents.render_html("coverage", r)
    row = re.search(r'<tr class="criterion">\s*<td>310\.4\.1<br>(.*?)</tr>', html, re.DOTALL).group(1)
    assert "edexcel-f6 Q1.v1" in row and "via edexcel-f6:10" in row and 'class="status-met">met<' in row
    row = re.search(r'<tr class="criterion">\s*<td>1a<br>(.*?)</tr>', html, re.DOTALL).group(1)
    assert 'class="status-missing">missing<' in row
    assert "edexcel-f6 Q1.v1" in pdf_text(documents.render_pdf("coverage", r))

    f6 = evidence(engine, banks, "edexcel-f6")
    assert [row["ref"] for row in f6["knowledge_record"]][:5] == ["a", "b", "c", "d", "1"]
    from_cg = {row["ref"]: row["credited"] for row in f6["coverage"]}["10"]
    assert [(i["unit"], i["ref"], i["via"], i["judgment"]) for i in from_cg] == [("cg-310", "Q1.v1", "cg-310:310.4.1", "met")]
    assert {row["ref"]: row["status"] for row in f6["coverage"]}["10"] == "met"


def test_one_changed_character_changes_the_digest_and_an_export_does_not(engine, banks, story):
    before = record(engine, banks)
    with transaction(engine) as session:  # an export is recorded in the audit trail, but is not evidence
        audit.record(session, "cli", "exported", story.enrolment_id, {"formats": ["pdf"]}, CLOCK)
    again = record(engine, banks)
    assert again["digest"]["value"] == before["digest"]["value"]  # the same evidence, the same digest
    assert differences(again) == []
    answer_id = story.answer_ids["k-310-4-2-a"][-1]
    with transaction(engine) as session:
        stored = session.exec(select(AnswerPart).where(AnswerPart.answer_id == answer_id, AnswerPart.seq == 1)).one()
        changed = stored.text.replace("week", "weak", 1)
        session.execute(text("UPDATE answerpart SET text = :text WHERE id = :id"), {"text": changed, "id": stored.id})
    after = record(engine, banks)
    assert after["evidence"]["answers"][1]["parts"][0]["text"] == changed
    assert after["digest"]["value"] != before["digest"]["value"]
    tampered = json.loads(json.dumps(before))
    tampered["evidence"]["answers"][1]["parts"][0]["text"] = changed
    lines = differences(tampered)
    assert lines[0].startswith("digest differs") and "answers/Q2.v1: changed" in lines


def test_an_xhtml2pdf_error_is_raised(engine, banks, story, monkeypatch):
    r = record(engine, banks)

    def failing(html, dest, **options):
        class Result:
            err = 1
            log = [("error", 1, "cannot draw this", "")]

        return Result()

    monkeypatch.setattr(pdf.pisa, "CreatePDF", failing)
    with pytest.raises(documents.DocumentError, match="cannot draw this"):
        documents.render_pdf("transcript", r)


def test_unknown_candidate_or_unit_is_refused(engine, banks, story):
    with transaction(engine) as session:
        with pytest.raises(DomainError, match="no candidate with Telegram id 999"):
            record_for(session, banks, 999, "cg-310")
        with pytest.raises(DomainError, match="not enrolled on unit 'ocr-c3'"):
            record_for(session, banks, SAM.user_id, "ocr-c3")
        with pytest.raises(DomainError, match="unknown unit 'no-such-unit'"):
            record_for(session, banks, SAM.user_id, "no-such-unit")
    with pytest.raises(ValueError, match="unknown document"):
        documents.render_html("portfolio", record(engine, banks))


def test_write_exports_writes_every_document_in_every_format(engine, banks, story, tmp_path):
    formats = ["html", "pdf", "json"]
    paths = documents.write_exports(engine, banks, SAM.user_id, "cg-310", formats, tmp_path / "out", "Europe/London")
    names = sorted(path.name for path in paths)
    assert names == sorted(
        [f"cg-310_501_{kind}.{ext}" for kind in documents.DOCUMENT_KINDS for ext in ("html", "pdf")]
        + ["cg-310_501_evidence.json"]
    )
    assert all(path.parent == tmp_path / "out" and path.stat().st_size > 0 for path in paths)
    data = json.loads((tmp_path / "out" / "cg-310_501_evidence.json").read_text(encoding="utf-8"))
    assert data["digest"]["value"] == record(engine, banks)["digest"]["value"] == sha256_hex(data["evidence"])
    assert differences(data) == []  # a verifier can recompute it
    assert "Mrs B — twice" in (tmp_path / "out" / "cg-310_501_evidence.json").read_text(encoding="utf-8")
    assert (tmp_path / "out" / "cg-310_501_coverage.pdf").read_bytes().startswith(b"%PDF")
    assert documents.write_exports(engine, banks, SAM.user_id, "cg-310", ["json"], tmp_path / "json") == [
        tmp_path / "json" / "cg-310_501_evidence.json"
    ]
