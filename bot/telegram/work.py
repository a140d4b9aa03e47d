"""The unit of work a handler runs in: one database transaction per Telegram update.

The pipeline opens the transaction, makes the Work current, and lets python-telegram-bot dispatch the
update; handlers reach the domain through `current_work()` and queue their replies in the same
transaction, so a reply exists exactly when the change it reports was committed.
"""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime

from sqlmodel import Session
from telegram import InlineKeyboardMarkup, Update

from bot.domain import flood
from bot.domain.assessment import Assessment
from bot.domain.banks import Banks
from bot.domain.caseload import Caseload
from bot.domain.discussion_plans import DiscussionPlans
from bot.domain.discussions import Discussions
from bot.domain.evidence import centre_timezone
from bot.domain.judging import Judging
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.domain.observations import Observations
from bot.domain.products import Products
from bot.domain.sittings import Sittings
from bot.domain.submissions import Submissions
from bot.domain.witness_requests import WitnessRequests
from bot.domain.witness_statements import WitnessStatements
from bot.rendering import telegram_text
from bot.storage.outbox import OutboundCall, queue_call
from bot.storage.repository import Lookups, Repository
from bot.telegram.fitting import message_calls
from bot.telegram.incoming import sender_of

_current: ContextVar["Work"] = ContextVar("nvqbot_work")


class Work:
    def __init__(
        self,
        session: Session,
        banks: Banks,
        now: Callable[[], datetime],
        limits: Limits = DEFAULT_LIMITS,
        lookups: Lookups | None = None,
    ):
        self.session = session
        self.now, self.limits = now, limits
        # lookups: each unit's criteria and bank versions, read once a process
        self.repo = repo = Repository(session, lookups)
        self.assessment = Assessment(repo, banks, now, limits)
        self.sittings = Sittings(repo, banks, now, limits)
        self.submissions = Submissions(repo, banks, now, limits)
        self.judging = Judging(repo, banks, now, limits)
        self.caseload = Caseload(repo, banks, now, limits)
        self.discussion_plans = DiscussionPlans(repo, banks, now, limits, zone=centre_timezone())
        self.discussions = Discussions(repo, banks, now, limits)
        self.witness_requests = WitnessRequests(repo, banks, now, limits)
        self.witness_statements = WitnessStatements(repo, banks, now, limits)
        self.products = Products(repo, banks, now, limits)
        self.observations = Observations(repo, banks, now, limits)
        self.queued: list[OutboundCall] = []
        self.attachments_added = False
        self.failure: BaseException | None = None

    def reply(self, chat_id: int, template: str, keyboard: InlineKeyboardMarkup | None = None, **context) -> None:
        """Queue a templated message: several, in order, if it is too long for one (the keyboard under the last)."""
        for params in message_calls(chat_id, telegram_text(template, **context), keyboard):
            self._queue(chat_id, "sendMessage", params)

    def admit(self, update: Update) -> bool:
        """Whether to process the update now. In a flood it is held for later (bot/domain/flood.py), and the
        first update held is answered with a request to slow down."""
        sender = sender_of(update)
        if sender is None:
            return True
        held = flood.admit(self.session, sender, update.update_id, self.limits.messages_per_minute, self.now())
        if held is not None and held.first:
            self.reply(sender, "slow_down.html", per_minute=self.limits.messages_per_minute)
        return held is None

    def call(self, chat_id: int, method: str, params: dict) -> None:
        """Queue any other call (e.g. the evidence documents, made when it is sent)."""
        self._queue(chat_id, method, params)

    def edit_buttons(self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup) -> None:
        """Change the buttons under a message already sent (e.g. a list whose ticks show what is chosen)."""
        self._queue(chat_id, "editMessageReplyMarkup",
                    {"chat_id": chat_id, "message_id": message_id, "reply_markup": keyboard.to_dict()})

    def answer_button(self, chat_id: int, callback_query_id: str) -> None:
        """Stop the pressed button's spinner."""
        self._queue(chat_id, "answerCallbackQuery", {"callback_query_id": callback_query_id})

    def _queue(self, chat_id: int, method: str, params: dict) -> None:
        self.queued.append(queue_call(self.session, chat_id, method, params))

    def activate(self):
        return _current.set(self)

    @staticmethod
    def deactivate(token) -> None:
        _current.reset(token)


def current_work() -> Work:
    return _current.get()
