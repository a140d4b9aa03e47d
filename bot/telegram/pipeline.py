"""The durable update pipeline: fetch, store, process, reply.

python-telegram-bot's own Updater confirms a batch to Telegram before its handlers run, so a crash
loses it. Here every update is written to the database before the next getUpdates call confirms it,
processed from there in its own transaction (marked processed in that same transaction, so it is
applied once), and its replies are queued in the outbox in that transaction too, for the sender
(bot/telegram/sender.py) to deliver. Files are fetched by a task of their own, so no one waits for
someone else's download.
"""

import asyncio
import logging
import warnings
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.domain.banks import Banks
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.domain.reminders import came_back
from bot.rendering import telegram_text
from bot.storage.db import describe_database_error, transaction
from bot.storage.flood import next_release
from bot.storage.models import utcnow
from bot.storage.outbox import queue_call
from bot.storage.repository import Lookups
from bot.storage.updates import (
    claim,
    latest_update_id,
    pending_updates,
    record_failure,
    store_updates,
)
from bot.telegram.delivery import retry_after_seconds
from bot.telegram.files import fetch_attachments
from bot.telegram.sender import OutboxSender
from bot.telegram.work import Work

log = logging.getLogger(__name__)

# Raw JSON in (stored updates), so getUpdates is called by method name on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
GIVE_UP_AFTER = 3  # attempts at an update that fails for a reason other than the database
RETRY_PAUSE_S = 2.0
BATCH = 100  # stored updates read at once
CONFLICT_PAUSE_S = 5.0  # another getUpdates (a second instance, a webhook still set): wait, then try again


class UpdatePipeline:
    def __init__(
        self,
        application: Application,
        engine: Engine,
        banks: Banks,
        sender: OutboxSender,
        poll_timeout: int = 25,
        now: Callable[[], datetime] = utcnow,
        limits: Limits = DEFAULT_LIMITS,
    ):
        self.application = application
        self.engine = engine
        self.banks = banks
        self.poll_timeout = poll_timeout
        self.sender = sender
        self.now = now
        self.limits = limits
        self.lookups = Lookups(engine)  # what never changes once stored (criteria, bank versions): read once
        self._news = asyncio.Event()
        self._release: asyncio.TimerHandle | None = None  # wakes processing when held updates are due
        # Whether the inbox may hold updates of a flood (so when to look again must be asked): at the start,
        # and once one is held, until none is.
        self._holding = True
        self._files = asyncio.Event()
        self._conflicted = False

    @property
    def bot(self):
        return self.application.bot

    async def run(self) -> None:
        """Poll, process, fetch files and send until cancelled."""
        self._news.set()  # anything stored but unprocessed before a restart
        self._files.set()  # and any file not yet fetched
        tasks = [self._poll_forever(), self._process_forever(), self._fetch_forever(), self.sender.run()]
        await asyncio.gather(*tasks)

    # fetching
    async def _poll_forever(self) -> None:
        offset = await self._resume_offset()
        while True:
            try:
                raw = await self.bot.do_api_request(
                    "getUpdates",
                    api_kwargs={"offset": offset, "timeout": self.poll_timeout, "allowed_updates": ALLOWED_UPDATES},
                    read_timeout=self.poll_timeout + 10,
                )
            except RetryAfter as error:
                await asyncio.sleep(retry_after_seconds(error))
                continue
            except Conflict as error:
                if not self._conflicted:  # one line, not one a poll
                    log.error("getUpdates: %s. Another bot instance is polling with this token, or a webhook is "
                              "set; waiting for it to stop", error)
                self._conflicted = True
                await asyncio.sleep(CONFLICT_PAUSE_S)
                continue
            except NetworkError as error:
                log.warning("getUpdates failed (%s); trying again", error)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if self._conflicted:
                log.info("getUpdates works again: this instance is polling")
                self._conflicted = False
            if not raw:
                continue
            if self.store(raw):
                offset = max(item["update_id"] for item in raw) + 1
                self._news.set()
            else:
                await asyncio.sleep(RETRY_PAUSE_S)  # not confirmed: Telegram will send the batch again

    async def _resume_offset(self) -> int:
        """The offset after the newest stored update: confirms to Telegram what we already hold."""
        while True:
            try:
                with transaction(self.engine) as session:
                    latest = latest_update_id(session)
                return latest + 1 if latest is not None else 0
            except SQLAlchemyError as error:
                self._report_database_down(error)
                await asyncio.sleep(RETRY_PAUSE_S)

    def store(self, raw: list[dict]) -> bool:
        try:
            with transaction(self.engine) as session:
                store_updates(session, raw)
        except SQLAlchemyError as error:
            self._report_database_down(error)
            return False
        return True

    def _report_database_down(self, error: Exception) -> None:
        log.error("%s; updates stay with Telegram until it is back", describe_database_error(self.engine, error))

    # processing
    async def _process_forever(self) -> None:
        while True:
            await self._news.wait()
            self._news.clear()
            # a short batch was the last: anything stored meanwhile has set _news again
            while await self.process_pending() == BATCH:
                pass

    async def process_pending(self, batch: int = BATCH) -> int:
        """Process stored updates in order; returns how many were taken from the store."""
        try:
            with transaction(self.engine) as session:
                pending = pending_updates(session, self.now(), batch)  # with their payloads: read once
        except SQLAlchemyError as error:
            return await self._pause_for_database(error)
        for update_id, payload in pending:
            if not await self.process_one(update_id, payload):
                await asyncio.sleep(RETRY_PAUSE_S)
                self._news.set()
                return 0
        if self._holding:
            try:
                with transaction(self.engine) as session:
                    release_at = next_release(session, self.now())
            except SQLAlchemyError as error:
                return await self._pause_for_database(error)
            self._holding = release_at is not None
            if release_at is not None:
                self._wake_at(release_at)
        return len(pending)

    async def _pause_for_database(self, error: SQLAlchemyError) -> int:
        self._report_database_down(error)
        await asyncio.sleep(RETRY_PAUSE_S)
        self._news.set()
        return 0

    def _wake_at(self, when: datetime) -> None:
        """Look at the inbox again when the next held update is due (one timer: the latest asked for)."""
        if self._release is not None:
            self._release.cancel()
        delay = max(0.0, (when - self.now()).total_seconds())
        self._release = asyncio.get_running_loop().call_later(delay, self._news.set)

    async def process_one(self, update_id: int, payload: dict) -> bool:
        """Apply one stored update (its payload read with the batch). False when the database failed and the
        update must wait."""
        try:
            with transaction(self.engine) as session:
                if not claim(session, update_id, self.now()):
                    return True  # another processor (or an earlier run) applied it
                update = _parsed(payload, self.bot)
                if update is None:
                    raise MalformedUpdate(payload)
                work = Work(session, self.banks, self.now, self.limits, self.lookups)
                if work.admit(update):  # else held, part of a flood: no one else's update waits for it
                    await self._apply(work, update)
                else:
                    self._holding = True
        except OperationalError as error:
            self._report_database_down(error)
            return False
        except MalformedUpdate as error:  # nothing to retry: the same bytes would fail again
            log.warning("update %s is malformed; recorded and skipped", update_id)
            self._give_up_or_retry(update_id, payload, error, give_up_after=1)
            return True
        except Exception as error:  # a bug or bad data: retried, then given up with an apology
            log.exception("update %s failed", update_id)
            self._give_up_or_retry(update_id, payload, error)
            return True
        if work.queued:
            self.sender.wake()
        if work.attachments_added:
            self._files.set()
        return True

    async def _apply(self, work: Work, update: Update) -> None:
        if update.effective_user is not None:
            came_back(work.repo, update.effective_user.id)
        token = work.activate()
        try:
            await self.application.process_update(update)
        finally:
            Work.deactivate(token)
        if work.failure is not None:
            raise work.failure

    def _give_up_or_retry(
        self, update_id: int, payload: dict | None, error: Exception, give_up_after: int = GIVE_UP_AFTER
    ) -> None:
        try:
            with transaction(self.engine) as session:
                closed = record_failure(session, update_id, repr(error)[:2000], self.now(), give_up_after)
                chat_id = _sender_id(payload)
                apology = None
                if closed and chat_id is not None:
                    text = telegram_text("something_went_wrong.html")
                    apology = queue_call(session, chat_id, "sendMessage", {"chat_id": chat_id, "text": text})
        except SQLAlchemyError as db_error:
            self._report_database_down(db_error)
            return
        if apology is not None:
            self.sender.wake()
        self._news.set()

    # files, fetched beside processing: a slow download holds up no one's reply
    async def _fetch_forever(self) -> None:
        while True:
            await self._files.wait()
            self._files.clear()
            try:
                await fetch_attachments(self.bot, self.engine, self.now)
            except SQLAlchemyError as error:
                self._report_database_down(error)


class MalformedUpdate(Exception):
    """An update python-telegram-bot cannot read (e.g. a message with no chat)."""


def _parsed(payload: dict, bot) -> Update | None:
    try:
        update = Update.de_json(payload, bot)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    message = update.effective_message
    if message is not None and getattr(message, "chat", None) is None:
        return None
    return update


def _sender_id(payload: dict | None) -> int | None:
    """Who sent the update, read defensively (it may be malformed): the private chat an apology goes to."""
    for key in ("message", "edited_message", "callback_query"):
        body = payload.get(key) if isinstance(payload, dict) else None
        sender = body.get("from") if isinstance(body, dict) else None
        if isinstance(sender, dict) and isinstance(sender.get("id"), int):
            return sender["id"]
    return None
