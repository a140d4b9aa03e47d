"""The durable update pipeline: fetch, store, process, reply.

python-telegram-bot's own Updater confirms a batch to Telegram before its handlers run, so a crash
loses it. Here every update is written to the database before the next getUpdates call confirms it,
processed from there in its own transaction (marked processed in that same transaction, so it is
applied once), and its replies are sent from an outbox written in that transaction too.
"""

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.domain.banks import Banks
from bot.rendering import telegram_text
from bot.storage.db import describe_database_error, transaction
from bot.storage.models import utcnow
from bot.storage.updates import (
    OutboundCall,
    claim_update,
    latest_update_id,
    mark_delivered,
    mark_delivery_failed,
    outbound,
    pending_update_ids,
    queue_call,
    record_failure,
    store_updates,
    undelivered_ids,
)
from bot.telegram.files import fetch_attachments
from bot.telegram.work import Work

log = logging.getLogger(__name__)

# Raw JSON in and out (stored updates, outbox calls), so the Bot API is called by method name on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
SEND_BATCH = 50
GIVE_UP_AFTER = 3  # attempts at an update (or a reply) that fails for a reason other than the database
RETRY_PAUSE_S = 2.0


class UpdatePipeline:
    def __init__(
        self,
        application: Application,
        engine: Engine,
        banks: Banks,
        poll_timeout: int = 25,
        now: Callable[[], datetime] = utcnow,
        local_calls: dict[str, Callable[[dict], Awaitable[int | None]]] | None = None,
    ):
        self.application = application
        self.engine = engine
        self.banks = banks
        self.poll_timeout = poll_timeout
        self.now = now
        # Outbox calls that are not Bot API methods but work done when sent (e.g. rendering documents).
        self.local_calls = local_calls or {}
        self._news = asyncio.Event()
        self._sending: asyncio.Queue[OutboundCall] = asyncio.Queue()

    @property
    def bot(self):
        return self.application.bot

    async def run(self) -> None:
        """Poll, process and send until cancelled."""
        self._enqueue_leftovers()
        await self._fetch_files()
        self._news.set()  # anything stored but unprocessed before a restart
        await asyncio.gather(self._poll_forever(), self._process_forever(), self._send_forever())

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
                await asyncio.sleep(_seconds(error.retry_after))
                continue
            except NetworkError as error:
                log.warning("getUpdates failed (%s); trying again", error)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
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
            while await self.process_pending():
                pass

    async def process_pending(self, batch: int = 100) -> int:
        """Process stored updates in order; returns how many were taken from the store."""
        try:
            with transaction(self.engine) as session:
                update_ids = pending_update_ids(session, batch)
        except SQLAlchemyError as error:
            self._report_database_down(error)
            await asyncio.sleep(RETRY_PAUSE_S)
            self._news.set()
            return 0
        for update_id in update_ids:
            if not await self.process_one(update_id):
                await asyncio.sleep(RETRY_PAUSE_S)
                self._news.set()
                return 0
        return len(update_ids)

    async def process_one(self, update_id: int) -> bool:
        """Apply one stored update. False when the database failed and the update must wait."""
        payload = None
        try:
            with transaction(self.engine) as session:
                payload = claim_update(session, update_id, self.now())
                if payload is None:
                    return True  # another processor (or an earlier run) applied it
                work = Work(session, self.banks, self.now)
                token = work.activate()
                try:
                    await self.application.process_update(Update.de_json(payload, self.bot))
                finally:
                    Work.deactivate(token)
                if work.failure is not None:
                    raise work.failure
        except OperationalError as error:
            self._report_database_down(error)
            return False
        except Exception as error:  # a bug or bad data: retried, then given up with an apology
            log.exception("update %s failed", update_id)
            self._give_up_or_retry(update_id, payload, error)
            return True
        for call in work.queued:
            self._sending.put_nowait(call)
        if work.attachments_added:
            await self._fetch_files()
        return True

    def _give_up_or_retry(self, update_id: int, payload: dict | None, error: Exception) -> None:
        try:
            with transaction(self.engine) as session:
                closed = record_failure(session, update_id, repr(error), self.now(), GIVE_UP_AFTER)
                chat_id = _chat_id(payload)
                apology = None
                if closed and chat_id is not None:
                    text = telegram_text("something_went_wrong.html")
                    apology = queue_call(session, chat_id, "sendMessage", {"chat_id": chat_id, "text": text})
        except SQLAlchemyError as db_error:
            self._report_database_down(db_error)
            return
        if apology is not None:
            self._sending.put_nowait(apology)
        self._news.set()

    async def _fetch_files(self) -> None:
        try:
            await fetch_attachments(self.bot, self.engine, self.now)
        except SQLAlchemyError as error:
            self._report_database_down(error)

    # replying
    def _enqueue_leftovers(self) -> None:
        """Queue replies that were committed but not sent when the bot last stopped."""
        with transaction(self.engine) as session:
            for message_id in undelivered_ids(session):
                row = outbound(session, message_id)
                self._sending.put_nowait(OutboundCall(row.id, row.chat_id, row.method, dict(row.params)))

    async def _send_forever(self) -> None:
        """Send queued calls in order, alongside processing; record each batch in one transaction."""
        while True:
            batch = [await self._sending.get()]
            while not self._sending.empty() and len(batch) < SEND_BATCH:
                batch.append(self._sending.get_nowait())
            outcomes = [(call, await self._send(call)) for call in batch]
            try:
                with transaction(self.engine) as session:
                    for call, outcome in outcomes:
                        if isinstance(outcome, Exception):
                            mark_delivery_failed(session, call.id, repr(outcome), self.now(), GIVE_UP_AFTER)
                        else:
                            mark_delivered(session, call.id, outcome, self.now())
            except SQLAlchemyError as error:  # sent but not marked: sent again after a restart (at least once)
                self._report_database_down(error)

    async def _local_call(self, call: OutboundCall) -> int | None | Exception:
        try:
            return await self.local_calls[call.method](call.params)
        except TelegramError:
            raise
        except Exception as error:  # e.g. a document that would not render: recorded, not fatal to the sender
            log.exception("%s for chat %s failed", call.method, call.chat_id)
            return error

    async def _send(self, call: OutboundCall) -> int | None | Exception:
        """Make one Bot API call; the sent message's id, None, or the error that stopped it."""
        for attempt in range(2):
            try:
                if call.method in self.local_calls:
                    return await self._local_call(call)
                result = await self.bot.do_api_request(call.method, api_kwargs=call.params)
                return result.get("message_id") if isinstance(result, dict) else None
            except RetryAfter as error:
                if attempt:
                    return error
                await asyncio.sleep(_seconds(error.retry_after))
            except TelegramError as error:
                log.warning("%s to chat %s failed: %s", call.method, call.chat_id, error)
                return error


def _seconds(retry_after) -> float:
    return retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)


def _chat_id(payload: dict | None) -> int | None:
    if not payload:
        return None
    for key in ("message", "edited_message"):
        if key in payload:
            return payload[key]["chat"]["id"]
    if "callback_query" in payload:
        return payload["callback_query"]["from"]["id"]
    return None
