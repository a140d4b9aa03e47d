"""The sender: makes the outbox's calls, each chat's in order, and records what came of each.

It claims the due head of each chat's queue (bot/storage/outbox.py), makes the calls concurrently (so one
slow call or one chat waiting out a 429 holds up no one else), and records each outcome in its own short
transaction, by the one retry policy in bot/telegram/delivery.py. Replies go out as soon as they are
claimed; bulk calls (`paced`: reminders, digests) are kept under Telegram's broadcast limits.
"""

import asyncio
import logging
import os
import random
import socket
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.storage.db import describe_database_error, transaction
from bot.storage.models import utcnow
from bot.storage.outbox import (
    FAILED,
    UNREACHABLE,
    OutboundCall,
    claim_due,
    close_unsent,
    mark_sent,
    next_due_at,
    release_claims,
    retry_later,
)
from bot.telegram.delivery import GiveUp, RetryLater, Unreachable, after_failure, retry_after_seconds
from bot.telegram.pacing import RateLimiter

log = logging.getLogger(__name__)

# Outbox calls are raw JSON, so the Bot API is called by method name on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.", category=PTBUserWarning)

LocalCall = Callable[[dict], Awaitable[int | None]]
# Called in the transaction that closes a call to a chat that blocked the bot (marks the person unreachable,
# tells their assessor).
OnUnreachable = Callable[[Session, int, datetime], None]


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        engine: Engine,
        limiter: RateLimiter,
        now: Callable[[], datetime] = utcnow,
        local_calls: dict[str, LocalCall] | None = None,
        on_unreachable: OnUnreachable | None = None,
        concurrency: int = 32,
        lease: timedelta = timedelta(minutes=5),
        idle_wait_s: float = 1.0,
        rng: random.Random | None = None,
    ):
        self.bot, self.engine, self.limiter, self.now = bot, engine, limiter, now
        # Outbox calls that are not Bot API methods but work done when sent (e.g. rendering documents).
        self.local_calls = local_calls or {}
        self.on_unreachable = on_unreachable
        self.concurrency, self.lease, self.idle_wait_s = concurrency, lease, idle_wait_s
        self.rng = rng or random.Random()
        self.name = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._news = asyncio.Event()
        self._in_flight: set[asyncio.Task] = set()
        self._fatal: BaseException | None = None

    def wake(self) -> None:
        """Something was queued (or a chat's call finished): look for due calls now."""
        self._news.set()

    async def run(self, release_old_claims: bool = True) -> None:
        """Send until cancelled. `release_old_claims`: this is the only sender, so earlier claims are stale."""
        if release_old_claims:
            with transaction(self.engine) as session:
                release_claims(session)
        try:
            while True:
                if self._fatal is not None:
                    raise self._fatal
                self._news.clear()
                wait = self._start_due()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancellation that arrives
                # as the event is set, and the sender would then never stop.
                try:
                    async with asyncio.timeout(wait):
                        await self._news.wait()
                except TimeoutError:
                    pass
        finally:
            for task in self._in_flight:
                task.cancel()

    def _start_due(self) -> float:
        """Claim and start what is due; how long to wait before looking again if nothing wakes us."""
        room = self.concurrency - len(self._in_flight)
        if room <= 0:
            return self.idle_wait_s
        try:
            with transaction(self.engine) as session:
                now = self.now()
                calls = claim_due(session, self.name, now, self.lease, room)
                soonest = None if calls else next_due_at(session)
        except SQLAlchemyError as error:
            log.error("%s; queued messages wait until it is back", describe_database_error(self.engine, error))
            return self.idle_wait_s * 2
        for call in calls:
            task = asyncio.get_running_loop().create_task(self._deliver(call))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if soonest is not None and soonest > now:
            return max(0.05, min(self.idle_wait_s, (soonest - now).total_seconds()))
        return self.idle_wait_s

    async def send_due(self) -> int:
        """One round, waited for: claim what is due and make it (for tests and tools). Returns how many."""
        before = set(self._in_flight)
        self._start_due()
        started = self._in_flight - before
        if started:
            await asyncio.gather(*started)
        if self._fatal is not None:
            raise self._fatal
        return len(started)

    async def _deliver(self, call: OutboundCall) -> None:
        try:
            if call.paced:
                await self.limiter.wait(call.chat_id)
            message_id = await self._make(call)
        except TelegramError as error:
            try:
                self._record_failure(call, error)
            except InvalidToken as bad_token:  # nothing can be sent: stop, leaving the call pending
                self._fatal = bad_token
        except Exception as error:  # a local call that broke (e.g. a document that would not render)
            log.exception("%s for chat %s failed", call.method, call.chat_id)
            self._record(call, GiveUp(f"{type(error).__name__}: {error}"))
        else:
            self._record(call, message_id)
        self.wake()

    async def _make(self, call: OutboundCall) -> int | None:
        if call.method in self.local_calls:
            return await self.local_calls[call.method](call.params)
        result = await self.bot.do_api_request(call.method, api_kwargs=call.params)
        return result.get("message_id") if isinstance(result, dict) else None

    def _record_failure(self, call: OutboundCall, error: TelegramError) -> None:
        if isinstance(error, RetryAfter):
            self.limiter.hold(retry_after_seconds(error))
        outcome = after_failure(error, call.attempts + 1, self.rng)
        level = logging.INFO if isinstance(outcome, RetryLater) else logging.WARNING
        log.log(level, "%s to chat %s: %s (%s)", call.method, call.chat_id, error, type(outcome).__name__)
        self._record(call, outcome)

    def _record(self, call: OutboundCall, outcome: int | RetryLater | GiveUp | Unreachable | None) -> None:
        try:
            with transaction(self.engine) as session:
                now = self.now()
                if isinstance(outcome, RetryLater):
                    retry_later(session, call.id, self.name, outcome.reason, now + timedelta(seconds=outcome.seconds))
                elif isinstance(outcome, GiveUp):
                    close_unsent(session, call.id, self.name, FAILED, outcome.reason, now)
                elif isinstance(outcome, Unreachable):
                    close_unsent(session, call.id, self.name, UNREACHABLE, outcome.reason, now)
                    if self.on_unreachable is not None:
                        self.on_unreachable(session, call.chat_id, now)
                else:
                    mark_sent(session, call.id, self.name, outcome, now)
        except SQLAlchemyError as error:  # made but not recorded: made again once the claim expires (at least once)
            log.error("%s; call %s will be made again", describe_database_error(self.engine, error), call.id)
