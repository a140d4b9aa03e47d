"""The sender: makes the outbox's calls, each chat's in order, and records what came of each.

It claims the due head of each chat's queue (bot/storage/outbox.py), makes the calls concurrently (so one
slow call or one chat waiting out a 429 holds up no one else), and records the outcomes (by the one retry
policy in bot/telegram/delivery.py) together, in the transaction that claims the next round. Replies go out as soon as they are
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
# What came of a call: the message id it made (or None), or why it was not made.
Outcome = int | RetryLater | GiveUp | Unreachable | None
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
        # Calls made (or given up) whose outcome is not yet recorded: recorded together, in the transaction
        # of the next round's claim, rather than one transaction a call.
        self._finished: list[tuple[OutboundCall, Outcome]] = []
        self._fatal: BaseException | None = None
        # Whether a pending call may wait for a retry (only a sender sets one): at the start, and after a retry
        # is put off, until none waits. Saves asking when the next is due after every quiet round.
        self._retries_may_wait = True

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
            self._round(claim=False)  # what was made before the stop is recorded, not made again

    def _start_due(self) -> float:
        """Record what finished, claim and start what is due; how long to wait before looking again if nothing
        wakes us."""
        room = self.concurrency - len(self._in_flight)
        claimed = self._round(claim=room > 0, room=room)
        if claimed is None:
            return self.idle_wait_s * 2
        calls, soonest, now = claimed
        for call in calls:
            task = asyncio.get_running_loop().create_task(self._deliver(call))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
        if soonest is not None and soonest > now:
            return max(0.05, min(self.idle_wait_s, (soonest - now).total_seconds()))
        return self.idle_wait_s

    def _round(self, claim: bool, room: int = 0) -> tuple[list[OutboundCall], datetime | None, datetime] | None:
        """One transaction: the outcomes of the calls that finished, then (`claim`) up to `room` due calls
        claimed. None if the database could not be reached (the outcomes are kept for the next round)."""
        finished, self._finished = self._finished, []
        try:
            with transaction(self.engine) as session:
                now = self.now()
                for call, outcome in finished:
                    self._record(session, call, outcome, now)
                calls = claim_due(session, self.name, now, self.lease, room) if claim else []
                soonest = None
                if claim and not calls and self._retries_may_wait:
                    soonest = next_due_at(session)
                    self._retries_may_wait = soonest is not None
        except SQLAlchemyError as error:
            self._finished = finished + self._finished
            log.error("%s; queued messages wait until it is back", describe_database_error(self.engine, error))
            return None
        return calls, soonest, now

    async def send_due(self) -> int:
        """One round, waited for: claim what is due and make it (for tests and tools). Returns how many."""
        before = set(self._in_flight)
        self._start_due()
        started = self._in_flight - before
        if started:
            await asyncio.gather(*started)
        self._round(claim=False)
        if self._fatal is not None:
            raise self._fatal
        return len(started)

    async def _deliver(self, call: OutboundCall) -> None:
        outcome: Outcome
        try:
            if call.paced:
                await self.limiter.wait(call.chat_id)
            outcome = await self._make(call)
        except TelegramError as error:
            try:
                outcome = self._failure(call, error)
            except InvalidToken as bad_token:  # nothing can be sent: stop, leaving the call pending
                self._fatal = bad_token
                self.wake()
                return
        except Exception as error:  # a local call that broke (e.g. a document that would not render)
            log.exception("%s for chat %s failed", call.method, call.chat_id)
            outcome = GiveUp(f"{type(error).__name__}: {error}")
        self._finished.append((call, outcome))
        self.wake()

    async def _make(self, call: OutboundCall) -> int | None:
        if call.method in self.local_calls:
            return await self.local_calls[call.method](call.params)
        result = await self.bot.do_api_request(call.method, api_kwargs=call.params)
        return result.get("message_id") if isinstance(result, dict) else None

    def _failure(self, call: OutboundCall, error: TelegramError) -> Outcome:
        if isinstance(error, RetryAfter):
            self.limiter.hold(retry_after_seconds(error))
        outcome = after_failure(error, call.attempts + 1, self.rng)
        level = logging.INFO if isinstance(outcome, RetryLater) else logging.WARNING
        log.log(level, "%s to chat %s: %s (%s)", call.method, call.chat_id, error, type(outcome).__name__)
        return outcome

    def _record(self, session: Session, call: OutboundCall, outcome: Outcome, now: datetime) -> None:
        # A call made but not recorded (the process dies first) is made again once its claim expires: at least once.
        if isinstance(outcome, RetryLater):
            self._retries_may_wait = True
            retry_later(session, call.id, self.name, outcome.reason, now + timedelta(seconds=outcome.seconds))
        elif isinstance(outcome, GiveUp):
            close_unsent(session, call.id, self.name, FAILED, outcome.reason, now)
        elif isinstance(outcome, Unreachable):
            close_unsent(session, call.id, self.name, UNREACHABLE, outcome.reason, now)
            if self.on_unreachable is not None:
                self.on_unreachable(session, call.chat_id, now)
        else:
            mark_sent(session, call.id, self.name, outcome, now)
