"""Long texts end to end, over the emulator (which refuses what Telegram refuses): an answer of three
1,500-character messages reaches the assessor in several messages, and is judged with the button under
the last of them."""

import pytest
from sqlmodel import select
from telegram.constants import MessageLimit

from bot.storage.db import transaction
from bot.storage.models import Judgment
from bot.telegram.fitting import utf16_length
from tests.phone import Phone, add_assessor, invite, wait_until
from tests.telegram_html import shown_text

pytestmark = pytest.mark.slow
SAM, ANN = 501, 11
SENTENCE = (
    "We record every complaint on the CRM system & follow the complaints procedure <step by step> 🙂, then the"
    " team leader reviews the log each week and tells the customer what happens next. "
)


def long_message(number: int) -> str:
    """1,500 characters, not ending in a space."""
    return (f"Part {number}: " + SENTENCE * 20)[:1499] + "."


def _buttons(message: dict) -> list[str]:
    return [b["callback_data"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def _submit(phone: Phone) -> None:
    review = phone.send("/review")
    submit = next(data for data in _buttons(review) if data.startswith("submit:"))
    declaration = phone.press(submit, on=review)
    confirm = next(data for data in _buttons(declaration) if data.startswith("confirm:"))
    assert "Submitted: 1 answer" in phone.press(confirm, on=declaration)["text"]


def test_an_assessor_judges_an_answer_of_three_long_messages_met_in_telegram(emulator, bot, database_url, engine):
    add_assessor(database_url, ANN)
    code = invite(database_url, assessor=ANN)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")
    sam.send(f"/start {code}")
    messages = [long_message(n) for n in (1, 2, 3)]
    assert all(len(m) == 1500 for m in messages)
    sam.answer(*messages)
    _submit(sam)

    ann = Phone(emulator, ANN, "Ann")
    queue = ann.send("/queue")
    before = len(ann.received)
    ann.press(next(data for data in _buttons(queue) if data.startswith("open:")), on=queue)
    judge = wait_until(lambda: next((m for m in ann.received[before:] if "reply_markup" in m), None),
                       what="the answer to judge, with its buttons under it")
    parts = ann.received[before : ann.received.index(judge) + 1]
    assert len(parts) >= 2 and all(utf16_length(shown_text(p["text"])) <= MessageLimit.MAX_TEXT_LENGTH for p in parts)
    shown = " ".join(" ".join(shown_text(p["text"]).split()) for p in parts)
    assert " ".join(" ".join(messages).split()) in shown  # the whole answer, as the candidate wrote it
    assert "answer 1 of 1" in parts[0]["text"] and "Look for:" in parts[-1]["text"]

    met = next(data for data in _buttons(judge) if data.startswith("met:"))
    ann.press(met, on=judge)
    ann.wait_for("Recorded: ✅ Met")
    with transaction(engine) as session:
        judgments = session.exec(select(Judgment)).all()
    assert [(j.answer_id, j.outcome) for j in judgments] == [(int(met.split(":")[1]), "met")]
