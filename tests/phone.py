"""A candidate's phone, for end-to-end tests: sends messages and presses buttons through the Bot API emulator."""

import json
import time
from datetime import date
from functools import cache

from markupsafe import escape

from bot.bootstrap import open_database
from bot.devtools.emulator import EmulatorThread
from bot.documents import render_json
from bot.domain.assessment import Assessment
from bot.domain.banks import Banks
from bot.domain.evidence import record_for
from bot.settings import PROJECT_ROOT, Settings
from bot.storage.db import transaction
from bot.storage.repository import Repository

PROBE_MARK = "Reply in as many messages as you like, then tap <b>Done</b>"


def wait_until(condition, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return result


def html(text: str) -> str:
    """Text as the bot shows it in Telegram HTML."""
    return str(escape(text))


class Phone:
    def __init__(self, emulator: EmulatorThread, user_id: int, first_name: str = "Sam", last_name: str | None = None):
        self.emulator, self.user_id = emulator, user_id
        self.first_name, self.last_name = first_name, last_name

    @property
    def received(self) -> list[dict]:
        return self.emulator.sent_messages(self.user_id)

    def texts(self) -> list[str]:
        return [message.get("text", "") for message in self.received]  # a copied voice note has none

    def send(self, text: str) -> dict:
        """Send a message and wait for the bot's next reply."""
        before = len(self.received)
        self.emulator.post_message(self.user_id, text, first_name=self.first_name, last_name=self.last_name)
        return self.next_reply(before)

    def post(self, text: str) -> dict:
        """Send a message without waiting."""
        return self.emulator.post_message(self.user_id, text, first_name=self.first_name, last_name=self.last_name)

    def next_reply(self, before: int, timeout: float = 15.0) -> dict:
        return wait_until(
            lambda: len(self.received) > before and self.received[before], timeout, f"a reply to {self.user_id}"
        )

    def press(self, data: str, on: dict | None = None) -> dict:
        """Press the button with this callback data on a message (default: the newest one that has it)."""
        on = on or next(m for m in reversed(self.received) if data in _callbacks(m))
        before = len(self.received)
        self.emulator.press_button(self.user_id, on["message_id"], data)
        return self.next_reply(before)

    def answer(self, *messages: str, follow_up: str | None = None) -> dict:
        """Answer the current question in one or more messages and tap Done; returns the bot's reply to Done."""
        for text in messages:
            self.send(text)
        reply = self.press("done")
        while PROBE_MARK in reply["text"]:  # a probe: reply to the first with `follow_up`, leave any others
            if follow_up:
                self.send(follow_up)
                follow_up = None
            reply = self.press("done")
        return reply

    def wait_for(self, fragment: str, timeout: float = 15.0) -> dict:
        return wait_until(
            lambda: next((m for m in self.received if fragment in m.get("text", "")), None), timeout, repr(fragment)
        )

    def shows(self, text: str) -> bool:
        """Whether the bot's latest message shows this text."""
        received = self.received
        return bool(received) and html(text) in received[-1].get("text", "")


def buttons(message: dict) -> list[str]:
    """The callback data of a message's buttons, in order."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row]


def newest_with(phone: Phone, prefix: str) -> tuple[dict, str]:
    """The newest message the phone holds with a button whose data starts so, and that button's data."""
    for message in reversed(phone.received):
        for data in buttons(message):
            if data.startswith(prefix):
                return message, data
    raise AssertionError(f"no button {prefix}… in {[m.get('text', '')[:40] for m in phone.received]}")


def press(phone: Phone, prefix: str, wait_for: Phone | None = None) -> dict:
    """Press the newest button whose data starts so; returns the next message `wait_for` (default: the presser) gets."""
    watched = wait_for or phone
    before = len(watched.received)
    message, data = newest_with(phone, prefix)
    phone.emulator.press_button(phone.user_id, message["message_id"], data)
    return watched.next_reply(before)


def _callbacks(message: dict) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button.get("callback_data") for row in keyboard for button in row]


# Set-up for end-to-end tests runs in this process, through the domain calls `nvqbot assessor add` and
# `nvqbot invite` make (tests/test_cli.py drives those commands themselves): a CLI process per step would
# cost seconds of start-up each.


@cache
def _banks() -> Banks:
    return Banks.load(PROJECT_ROOT / "question_banks")


def _in_domain(database_url: str, action):
    engine = open_database(Settings(database_url=database_url, telegram_token=None, _env_file=None), _banks())
    try:
        with transaction(engine) as session:
            return action(Assessment(Repository(session), _banks()), session)
    finally:
        engine.dispose()


def add_assessor(database_url: str, telegram_id: int = 11) -> None:
    _in_domain(database_url, lambda assessment, _: assessment.add_assessor(telegram_id, "Ann Assessor"))


def invite(database_url: str, unit: str = "cg-310", assessor: int = 11, deadline: str = "2099-12-31") -> str:
    due = date.fromisoformat(deadline)
    return _in_domain(database_url, lambda assessment, _: assessment.create_invite(unit, assessor, due).code)


def record_of(database_url: str, candidate: int, unit: str = "cg-310") -> dict:
    """The candidate's evidence record for the unit, as the documents are rendered from it."""
    return _in_domain(database_url, lambda _, session: record_for(session, _banks(), candidate, unit))


def exported(database_url: str, candidate: int, unit: str = "cg-310") -> dict:
    """The candidate's evidence record for the unit, as `nvqbot export --candidate … --unit …` prints it."""
    return json.loads(render_json(record_of(database_url, candidate, unit)))


def enrolled(emulator: EmulatorThread, bot, database_url: str, user_id: int, first_name: str = "Sam") -> "Phone":
    """A candidate enrolled on cg-310 by invite, the bot running, looking at question 1."""
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    phone = Phone(emulator, user_id, first_name, "Candidate")
    assert "Question 1 of" in phone.send(f"/start {code}")["text"]
    return phone
