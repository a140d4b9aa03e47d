"""The assessor's side end to end, over the emulator: queue, judging, follow-up, sign-off, privacy, forged buttons."""

import json
from io import BytesIO

import httpx
import pytest
from pypdf import PdfReader
from sqlmodel import func, select

from bot.rendering import assessor_command_menu
from bot.storage.db import transaction
from bot.storage.models import AuditEvent, Judgment
from tests.botprocess import nvqbot
from tests.phone import Phone, add_assessor, html, invite, wait_until

pytestmark = pytest.mark.slow
SAM, ANN, BOB, CAT = 501, 11, 12, 13
FULL_ANSWER = (
    "We record every complaint on the CRM system and follow the complaints procedure, then the team"
    " leader reviews the log each week and tells the customer what happens next."
)
MARKUP = "<b>not bold</b> & <i>not italic</i> <script>x</script>"


@pytest.fixture
def submitted(emulator, bot, database_url):
    """Sam has submitted two answers (one with markup-like text) to Ann; Bob is another assessor."""
    add_assessor(database_url, ANN)
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", str(BOB), "--name", "Bob Assessor").returncode == 0
    code = invite(database_url, assessor=ANN)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")
    sam.send(f"/start {code}")
    sam.answer(FULL_ANSWER)
    sam.answer(f"{MARKUP} {FULL_ANSWER}")
    review = sam.send("/review")
    submit = next(b["callback_data"] for row in review["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("submit:"))
    declaration = sam.press(submit, on=review)
    confirm = declaration["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert "Submitted: 2 answers" in sam.press(confirm, on=declaration)["text"]
    return sam


def test_an_assessor_judges_asks_a_follow_up_and_signs_off_and_the_candidate_is_told(emulator, engine, submitted):
    sam, ann = submitted, Phone(emulator, ANN, "Ann")
    queue = ann.send("/queue")
    assert "Sam Candidate — cg-310: 0 of 2 answers judged" in queue["text"]
    first = ann.press(queue["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=queue)
    assert "answer 1 of 2" in first["text"] and "310.4.1" in first["text"] and "Look for:" in first["text"]

    ann.press(f"met:{_answer_id(first)}", on=first)  # "Recorded", then the next answer
    second = ann.wait_for("answer 2 of 2")
    assert html(MARKUP) in second["text"]  # what the candidate typed is shown literally

    asking = ann.press(f"ask:{_answer_id(second)}", on=second)
    assert "Type the follow-up question" in asking["text"]
    before = len(sam.received)
    ann.send("Who looks at the log, and how often?")
    assert "Who looks at the log, and how often?" in sam.next_reply(before)["text"]
    before_ann = len(ann.received)
    assert "passed your reply" in sam.send("The team leader, every Monday.")["text"]
    assert "The team leader, every Monday." in ann.next_reply(before_ann)["text"]

    ann.press(f"notyet:{_answer_id(second)}", on=second)
    judged = ann.send("Please say how repeated problems are spotted.")
    assert "Not yet" in judged["text"]
    all_judged = ann.wait_for("1 met, 1 not yet")
    before = len(sam.received)
    signed = ann.press(all_judged["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=all_judged)
    assert "Signed off" in signed["text"]
    told = sam.next_reply(before)["text"]
    assert "Please say how repeated problems are spotted." in told and "/review" in told
    assert "Nothing is waiting" in ann.send("/queue")["text"]
    cohort = ann.send("/cohort")["text"]
    assert "Sam Candidate — cg-310: 1 / 1" in cohort


def test_a_unit_not_yet_complete_gets_an_interim_decision_and_the_candidate_is_told_what_is_left(emulator, submitted):
    sam, ann = submitted, Phone(emulator, ANN, "Ann")
    queue = ann.send("/queue")
    first = ann.press(queue["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=queue)
    ann.press(f"met:{_answer_id(first)}", on=first)
    second = ann.wait_for("answer 2 of 2")
    ann.press(f"met:{_answer_id(second)}", on=second)
    all_judged = ann.wait_for("2 met, 0 not yet")
    blocked = ann.press(all_judged["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=all_judged)
    assert "can't be signed off competent yet" in blocked["text"] and "310.1.1" in blocked["text"]
    interim = [b for row in blocked["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("interim:")]
    before = len(sam.received)
    recorded = ann.press(interim[0]["callback_data"], on=blocked)
    assert "Interim decision recorded" in recorded["text"]
    assert "isn't finished yet" in sam.next_reply(before)["text"]
    assert "Nothing is waiting" in ann.send("/queue")["text"]


def test_another_assessor_cannot_see_or_judge_and_forged_buttons_change_nothing(emulator, engine, submitted):
    sam, ann, bob = submitted, Phone(emulator, ANN, "Ann"), Phone(emulator, BOB, "Bob")
    queue = ann.send("/queue")
    open_data = queue["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    first = ann.press(open_data, on=queue)
    answer_id = _answer_id(first)
    assert "Nothing is waiting" in bob.send("/queue")["text"]
    bob_message = bob.send("/cohort")
    for forged in [open_data, f"met:{answer_id}", f"notyet:{answer_id}", f"ask:{answer_id}", "signoff:1", "export:1"]:
        assert "isn't one of your candidates" in bob.press(forged, on=bob_message)["text"]
    for forged in [f"met:{answer_id}", "signoff:1"]:
        reply = sam.press(forged, on=sam.received[-1])
        assert "assessors only" in reply["text"]
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Judgment)).one() == 0


def _answer_id(message: dict) -> int:
    data = [b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    return int(next(d for d in data if d.startswith("met:")).split(":")[1])


def test_export_sends_the_evidence_records_as_pdfs_and_the_cli_writes_them(emulator, engine, database_url, submitted, tmp_path):
    ann = Phone(emulator, ANN, "Ann")
    menu = ann.send("/export")
    assert "Preparing" in ann.press(menu["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=menu)["text"]
    documents = wait_until_documents(emulator, ANN, 3)
    assert [d["document"]["file_name"] for d in documents] == [
        f"cg-310_{SAM}_transcript.pdf", f"cg-310_{SAM}_knowledge_record.pdf", f"cg-310_{SAM}_coverage.pdf"]
    transcript = PdfReader(BytesIO(emulator.file_bytes(documents[0]["document"]["file_id"])))
    text = "".join(page.extract_text() for page in transcript.pages)
    assert "Sam Candidate" in text and "310.4.1" in text and "<b>not bold</b>" in text

    written = nvqbot(database_url, "export", "--candidate", str(SAM), "--unit", "cg-310", "--format", "html",
                     "--format", "json", "--out", str(tmp_path))
    assert written.returncode == 0, written.stderr
    html_text = (tmp_path / f"cg-310_{SAM}_transcript.html").read_text()
    assert html(MARKUP) in html_text and MARKUP not in html_text
    record = json.loads((tmp_path / f"cg-310_{SAM}_evidence.json").read_text())
    assert "exported" not in [e["action"] for e in record["evidence"]["audit"]]  # an export is not evidence…
    with transaction(engine) as session:  # …but each is in the audit trail: Ann's in Telegram, then the CLI's
        actions = session.exec(select(AuditEvent.actor).where(AuditEvent.action == "exported")).all()
    assert len(actions) == 2 and "cli" in actions


def wait_until_documents(emulator, chat_id: int, count: int) -> list[dict]:
    return wait_until(
        lambda: (docs := [m for m in emulator.sent_messages(chat_id) if "document" in m]) and len(docs) >= count and docs,
        timeout=60,
        what="the evidence documents",
    )


def test_an_assessor_moves_a_deadline_in_telegram_and_the_cli_moves_it_again(emulator, database_url, submitted):
    ann, bob = Phone(emulator, ANN, "Ann"), Phone(emulator, BOB, "Bob")
    listing = ann.send("/deadline")["text"]
    assert "1. Sam Candidate — cg-310: due 31 Dec 2099" in listing
    assert "couldn't read that" in ann.send("/deadline 9 2099-01-01")["text"]
    assert "now due 24 Dec 2099" in ann.send("/deadline 1 2099-12-24")["text"]
    assert "in the past" in ann.send("/deadline 1 2001-01-01")["text"]  # refused here as the CLI refuses it
    assert "no candidates" in bob.send("/deadline 1 2099-12-01")["text"]
    past = nvqbot(database_url, "deadline", "--candidate", str(SAM), "--unit", "cg-310", "--date", "2001-01-01")
    assert past.returncode == 1 and "in the past" in past.stderr
    moved = nvqbot(database_url, "deadline", "--candidate", str(SAM), "--unit", "cg-310", "--date", "2099-11-30")
    assert moved.returncode == 0 and "now 30 Nov 2099" in moved.stdout
    assert "due 30 Nov 2099" in submitted.send("/units")["text"]


def _submit(phone: Phone) -> None:
    review = phone.send("/review")
    submit = next(b["callback_data"] for row in review["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("submit:"))
    declaration = phone.press(submit, on=review)
    confirm = declaration["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert "Submitted" in phone.press(confirm, on=declaration)["text"]


def _judge_submission(ann: Phone, opened: dict) -> dict:
    """Judge every answer of an opened submission Met; the message offering sign-off."""
    item = opened
    while "Sign off" not in json.dumps(item.get("reply_markup", {}), ensure_ascii=False):
        before = len(ann.received)
        ann.press(f"met:{_answer_id(item)}", on=item)
        wait_until(lambda: len(ann.received) >= before + 2, what="the judgment and what comes next")
        item = ann.received[-1]
    return item


def test_a_near_match_from_another_unit_counts_once_the_assessor_confirms_it_in_telegram(emulator, bot, database_url, banks):
    """310.4.4 (Level 3) credits OCR 4.3 (Level 2) only as a near-match: Ann confirms it with one tap."""
    add_assessor(database_url, ANN)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")
    sam.send(f"/start {invite(database_url, 'cg-310', assessor=ANN)}")
    questions = [q for s in banks.unit("cg-310").knowledge_sets for q in s.questions]
    for question in questions[: next(i for i, q in enumerate(questions) if "310.4.4" in q.criteria) + 1]:
        sam.answer(f"{question.id}: {FULL_ANSWER}")
    _submit(sam)
    sam.send(f"/start {invite(database_url, 'ocr-c3', assessor=ANN)}")
    sam.answer(FULL_ANSWER)
    _submit(sam)

    ann = Phone(emulator, ANN, "Ann")
    queue = ann.send("/queue")
    for row in queue["reply_markup"]["inline_keyboard"]:
        opened = ann.press(row[0]["callback_data"], on=queue)
        sign = _judge_submission(ann, opened)
    blocked = ann.press(sign["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=sign)
    assert "can't be signed off competent yet" in blocked["text"] and "4.3 ← cg-310 Q4.v1" in blocked["text"]
    credit = next(b for row in blocked["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("credit:"))
    assert len(credit["callback_data"].encode()) <= 64
    ann.press(f"credit:{credit['callback_data'].split(':')[1]}:999.4.3", on=blocked)  # a forged enrolment
    assert "isn't one of your candidates" in ann.received[-1]["text"] or "isn't waiting" in ann.received[-1]["text"]
    confirmed = ann.press(credit["callback_data"], on=blocked)
    assert "now counts for 4.3" in confirmed["text"]
    again = ann.press(sign["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=sign)
    assert "can't be signed off competent yet" in again["text"] and "4.3 ← cg-310" not in again["text"]


def _names(commands: list[dict]) -> list[str]:
    return [command["command"] for command in commands]


def test_assessors_get_their_own_command_menu_and_candidates_never_see_it(emulator, bot, database_url):
    """Ann (added with the CLI) gets the assessors' menu at the start; Cat as soon as she registers by Ann's link."""
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", str(ANN), "--name", "Ann Assessor", "--admin").returncode == 0
    bot.start()
    api = f"{emulator.base_url}{bot.env['NVQBOT_TELEGRAM_TOKEN']}"

    def my_commands(scope: dict | None = None) -> list[str]:
        """What getMyCommands returns for the scope, asked as the bot would."""
        answer = httpx.post(f"{api}/getMyCommands", json={"scope": scope} if scope else {}).json()
        assert answer["ok"], answer
        return _names(answer["result"])

    assessors = list(assessor_command_menu())
    assert {"queue", "cohort", "pd", "export", "deadline", "invite_assessor", "help"} <= set(assessors)
    wait_until(lambda: _names(emulator.menu_for(ANN)) == assessors, what="Ann's menu, set at the start")

    link = Phone(emulator, ANN, "Ann").send("/invite_assessor")["text"]
    assert "it works once, until " in link  # the expiry, in the centre's time zone
    cat = Phone(emulator, CAT, "Cat", "Assessor")
    assert "registered as an assessor" in cat.send(f"/start {link.rsplit('start=', 1)[1]}")["text"]
    wait_until(lambda: my_commands({"type": "chat", "chat_id": CAT}) == assessors, what="Cat's menu")
    assert _names(emulator.menu_for(CAT)) == assessors

    everyone = my_commands()
    assert "case" in everyone and not {"queue", "cohort", "export", "pd"} & set(everyone)
    assert _names(emulator.menu_for(SAM)) == everyone  # a candidate's chat has no menu of its own: the default

    # /help, in the assessors' menu, tells an assessor what they can do; a candidate, what a candidate can.
    assert "/pd" in cat.send("/help")["text"] and "/queue" in cat.received[-1]["text"]
    assert "/case" in Phone(emulator, SAM, "Sam").send("/help")["text"]
