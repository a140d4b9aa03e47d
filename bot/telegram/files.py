"""Fetching the files candidates send, to fingerprint them (SHA-256) as evidence.

Runs after the update's transaction has committed, so a slow download never holds the database; a
file not yet fetched is simply fetched later (after a restart too), up to a few attempts.
"""

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import select
from telegram import Bot
from telegram.error import TelegramError

from bot.storage.db import transaction
from bot.storage.models import Attachment

log = logging.getLogger(__name__)
FETCH_ATTEMPTS = 3


def unfetched_ids(engine: Engine) -> list[int]:
    with transaction(engine) as session:
        return list(
            session.exec(
                select(Attachment.id).where(Attachment.sha256.is_(None), Attachment.fetch_attempts < FETCH_ATTEMPTS)
            )
        )


async def fetch_attachments(bot: Bot, engine: Engine, now: Callable[[], datetime]) -> int:
    """Download every attachment not yet fingerprinted; returns how many were."""
    fetched = 0
    for attachment_id in unfetched_ids(engine):
        with transaction(engine) as session:
            file_id = session.get(Attachment, attachment_id).file_id
        try:
            telegram_file = await bot.get_file(file_id)
            content = bytes(await telegram_file.download_as_bytearray())
        except TelegramError as error:
            log.warning("could not fetch attachment %s: %s", attachment_id, error)
            with transaction(engine) as session:
                row = session.get(Attachment, attachment_id)
                row.fetch_attempts += 1
                row.fetch_error = str(error)[:500]
            continue
        with transaction(engine) as session:
            row = session.get(Attachment, attachment_id)
            row.sha256 = hashlib.sha256(content).hexdigest()
            row.file_size = len(content)
            row.fetched_at = now()
            row.fetch_attempts += 1
        fetched += 1
    return fetched
