"""Building and running the real bot against a Bot API server (Telegram, or the emulator)."""

import asyncio
import logging
from functools import partial

from sqlalchemy import Engine
from telegram.ext import Application, ApplicationBuilder

from bot.domain.banks import Banks
from bot.domain.limits import Limits
from bot.domain.reminders import ReminderRules
from bot.scheduling.housekeeping import schedule_housekeeping
from bot.scheduling.reminders import ReminderSweep, person_unreachable, start_sweeping
from bot.settings import Settings
from bot.storage.locks import ActiveLock
from bot.telegram import handlers, menus
from bot.telegram.evidence import EVIDENCE_CALL, send_evidence
from bot.telegram.pacing import RateLimiter
from bot.telegram.pipeline import UpdatePipeline
from bot.telegram.sender import LocalCall, OutboxSender
from bot.web.app import Waker, start_web

log = logging.getLogger(__name__)


def build_application(settings: Settings) -> Application:
    # No Updater: updates are fetched and stored by UpdatePipeline, never by PTB's polling.
    application = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_url)
        .updater(None)
        .build()
    )
    handlers.register(application)
    return application


STANDBY_POLL_S = 1.0  # how often a standby process tries to become the active one
LOCK_CHECK_S = 5.0  # how often the active process checks that it still holds the lock


async def serve(settings: Settings, engine: Engine, banks: Banks, started: asyncio.Event | None = None) -> None:
    """Run the bot until cancelled: stand by until no other process is active, then poll and send."""
    lock = ActiveLock(engine)
    if not lock.try_acquire():
        log.info("another nvqbot process is active on this database; standing by to take over")
        while not lock.try_acquire():
            await asyncio.sleep(STANDBY_POLL_S)
    log.info("this process is the active one")
    try:
        await asyncio.gather(_serve_active(settings, engine, banks, started), _keep_holding(lock))
    finally:
        lock.release()


async def _keep_holding(lock: ActiveLock) -> None:
    while True:
        await asyncio.sleep(LOCK_CHECK_S)
        if not lock.still_held():
            raise LostActiveLock("lost the database connection that made this process the active one")


class LostActiveLock(RuntimeError):
    """Another process may be active now: this one stops rather than poll and send beside it."""


async def _serve_active(settings: Settings, engine: Engine, banks: Banks, started: asyncio.Event | None) -> None:
    application = build_application(settings)
    async with application:  # initialize (getMe) and shutdown
        await application.bot.delete_webhook()
        await application.bot.set_my_commands(menus.default_menu())
        menus.queue_assessor_menus(engine)
        log.info("nvqbot is running as @%s", application.bot.username)
        if started is not None:
            started.set()
        local_calls: dict[str, LocalCall] = {EVIDENCE_CALL: partial(send_evidence, application.bot, engine, banks)}
        limiter = RateLimiter(settings.send_rate_per_s, settings.per_chat_interval_s)
        sender = OutboxSender(application.bot, engine, limiter, local_calls=local_calls, on_unreachable=person_unreachable)
        sweep = ReminderSweep(engine, banks, ReminderRules.from_settings(settings), wake_sender=sender.wake)
        scheduler = start_sweeping(sweep, settings.reminder_sweep_seconds)
        schedule_housekeeping(scheduler, engine, settings.web_purge_hours * 3600)
        console = await start_web(settings, engine, banks, Waker(sender.wake))  # the assessors' web console
        try:
            limits = Limits.from_settings(settings)
            await UpdatePipeline(application, engine, banks, sender, settings.poll_timeout, limits=limits).run()
        finally:
            scheduler.shutdown(wait=False)
            if console is not None:
                await console.cleanup()
