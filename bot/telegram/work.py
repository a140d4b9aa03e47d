"""The unit of work a handler runs in: one database transaction per Telegram update.

The pipeline opens the transaction, makes the Work current, and lets python-telegram-bot dispatch the
update; handlers reach the domain through `current_work()` and queue their replies in the same
transaction, so a reply exists exactly when the change it reports was committed.
"""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime

from sqlmodel import Session
from telegram.constants import ParseMode

from bot.domain.assessment import Assessment
from bot.domain.banks import Banks
from bot.rendering import telegram_text
from bot.storage.repository import Repository
from bot.storage.updates import queue_call

_current: ContextVar["Work"] = ContextVar("nvqbot_work")


class Work:
    def __init__(self, session: Session, banks: Banks, now: Callable[[], datetime]):
        self.session = session
        self.assessment = Assessment(Repository(session), banks, now)
        self.queued: list[int] = []
        self.failure: BaseException | None = None

    def reply(self, chat_id: int, template: str, **context) -> None:
        params = {"chat_id": chat_id, "text": telegram_text(template, **context), "parse_mode": ParseMode.HTML}
        self.queued.append(queue_call(self.session, chat_id, "sendMessage", params).id)

    def activate(self):
        return _current.set(self)

    @staticmethod
    def deactivate(token) -> None:
        _current.reset(token)


def current_work() -> Work:
    return _current.get()
