"""Building and running the real bot against a Bot API server (Telegram, or the emulator)."""

import asyncio
import logging
from functools import partial

from sqlalchemy import Engine
from telegram.ext import Application, ApplicationBuilder

from bot.domain.banks import Banks
from bot.domain.reminders import ReminderRules
from bot.rendering import command_menu
from bot.scheduling.reminders import RateLimiter, ReminderSweep, start_sweeping
from bot.settings import Settings
from bot.telegram import handlers
from bot.telegram.evidence import EVIDENCE_CALL, send_evidence
from bot.telegram.pipeline import UpdatePipeline

log = logging.getLogger(__name__)


def build_application(settings: Settings) -> Application:
    # No Updater: updates are fetched and stored by UpdatePipeline, never by PTB's polling.
    application = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_url)
        .updater(None)
        .build()
    )
    handlers.register(application)
    return application


async def serve(settings: Settings, engine: Engine, banks: Banks, started: asyncio.Event | None = None) -> None:
    """Run the bot until cancelled."""
    application = build_application(settings)
    async with application:  # initialize (getMe) and shutdown
        await application.bot.delete_webhook()
        await application.bot.set_my_commands(list(command_menu().items()))
        log.info("nvqbot is running as @%s", application.bot.username)
        if started is not None:
            started.set()
        local_calls = {EVIDENCE_CALL: partial(send_evidence, application.bot, engine, banks)}
        limiter = RateLimiter(settings.send_rate_per_s, settings.per_chat_interval_s)
        sweep = ReminderSweep(application.bot, engine, banks, ReminderRules.from_settings(settings), limiter)
        scheduler = start_sweeping(sweep, settings.reminder_sweep_seconds)
        try:
            await UpdatePipeline(application, engine, banks, settings.poll_timeout, local_calls=local_calls).run()
        finally:
            scheduler.shutdown(wait=False)
