"""A candidate's phone, for end-to-end tests: sends messages and presses buttons through the Bot API emulator."""

import re
import time

from markupsafe import escape

from bot.devtools.emulator import EmulatorThread
from tests.botprocess import nvqbot

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
        return [message["text"] for message in self.received]

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
            lambda: next((m for m in self.received if fragment in m["text"]), None), timeout, repr(fragment)
        )

    def shows(self, text: str) -> bool:
        """Whether the bot's latest message shows this text."""
        received = self.received
        return bool(received) and html(text) in received[-1]["text"]


def _callbacks(message: dict) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button.get("callback_data") for row in keyboard for button in row]


def add_assessor(database_url: str, telegram_id: int = 11) -> None:
    added = nvqbot(database_url, "assessor", "add", "--telegram-id", str(telegram_id), "--name", "Ann Assessor")
    assert added.returncode == 0, added.stderr


def invite(database_url: str, unit: str = "cg-310", assessor: int = 11, deadline: str = "2099-12-31") -> str:
    made = nvqbot(database_url, "invite", "--unit", unit, "--assessor", str(assessor), "--deadline", deadline)
    assert made.returncode == 0, made.stderr
    return re.search(r"Invite code: (\S+)", made.stdout).group(1)
