"""Fetching the files candidates send, to fingerprint them (SHA-256) as evidence.

Runs in a task of its own beside update processing, after the update's transaction has committed, so a
slow download holds neither the database nor anyone's reply; a file not yet fetched is fetched later
(after a restart too).

- getFile comes first: a file bigger than the limit (`max_file_bytes`; the Bot API serves bots at most
  20 MB) is never downloaded;
- the download is streamed and hashed chunk by chunk, so no file is ever held in memory whole (PTB's
  File.download_to_memory reads the whole body before writing any of it to its target), and a slow
  download that keeps arriving never times out (the timeout is per read, not for the whole file);
- a failure is judged by the one retry policy (bot/telegram/delivery.py): a timeout, a network error or a
  5xx is tried again after a growing backoff, for as long as it takes; a refusal (too big, a 400) is
  recorded with its reason and the file is never tried again;
- several files are fetched at once (`file_fetch_concurrency`), and files stored meanwhile are taken up
  while others wait for their next attempt.
"""

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlmodel import col, select
from telegram import Bot
from telegram.error import NetworkError, TelegramError, TimedOut

from bot.settings import Settings
from bot.storage.db import transaction
from bot.storage.ids import stored
from bot.storage.models import Attachment
from bot.telegram.delivery import RetryLater, after_failure

log = logging.getLogger(__name__)
CHUNK_BYTES = 64 * 1024
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, connect=10.0)  # each read, not the whole download
LOOK_AGAIN_S = 1.0  # how often files stored meanwhile are looked for while others are in hand


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int = 20 * 1024 * 1024
    concurrency: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> "FetchLimits":
        return cls(settings.max_file_bytes, settings.file_fetch_concurrency)


class FileRefused(TelegramError):
    """A file that can never be fetched: too big, or refused by the file server."""


def unfetched_ids(engine: Engine) -> list[int]:
    with transaction(engine) as session:
        ids = session.exec(
            select(col(Attachment.id))
            .where(col(Attachment.sha256).is_(None), col(Attachment.fetch_failed_at).is_(None))
            .order_by(col(Attachment.id))
        )
        return [attachment_id for attachment_id in ids if attachment_id is not None]  # primary keys: never None


async def fetch_attachments(
    bot: Bot, engine: Engine, now: Callable[[], datetime], limits: FetchLimits | None = None
) -> int:
    """Fetch every attachment not yet fingerprinted, each until it is fetched or refused for good; returns
    how many were fetched."""
    limits = limits or FetchLimits.from_settings(Settings())
    slots = asyncio.Semaphore(limits.concurrency)
    running: dict[int, asyncio.Task[bool]] = {}
    fetched = 0
    async with httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT) as client:
        try:
            while True:
                for attachment_id in unfetched_ids(engine):
                    if attachment_id not in running:
                        fetch = _fetch_until_done(bot, client, engine, now, limits.max_bytes, slots, attachment_id)
                        running[attachment_id] = asyncio.create_task(fetch)
                if not running:
                    return fetched
                await asyncio.wait(running.values(), timeout=LOOK_AGAIN_S, return_when=asyncio.FIRST_COMPLETED)
                for attachment_id, task in list(running.items()):
                    if task.done():
                        del running[attachment_id]
                        fetched += task.result()
        finally:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)


async def _fetch_until_done(
    bot: Bot,
    client: httpx.AsyncClient,
    engine: Engine,
    now: Callable[[], datetime],
    max_bytes: int,
    slots: asyncio.Semaphore,
    attachment_id: int,
) -> bool:
    """Fetch one file, trying again after each transient failure; True when fetched, False when refused."""
    with transaction(engine) as session:
        row = stored(session, Attachment, attachment_id)
        file_id, attempts = row.file_id, row.fetch_attempts
    while True:
        attempts += 1
        async with slots:  # held for the attempt only, never through a backoff
            try:
                sha256, size = await _download(bot, client, file_id, max_bytes)
            except TelegramError as error:
                failure = error
            else:
                with transaction(engine) as session:
                    row = stored(session, Attachment, attachment_id)
                    row.sha256, row.file_size, row.fetched_at = sha256, size, now()
                    row.fetch_attempts, row.fetch_error = attempts, None
                return True
        decision = after_failure(failure, attempts)
        with transaction(engine) as session:
            row = stored(session, Attachment, attachment_id)
            row.fetch_attempts, row.fetch_error = attempts, decision.reason[:500]
            if not isinstance(decision, RetryLater):
                row.fetch_failed_at = now()
        if not isinstance(decision, RetryLater):
            log.warning("attachment %s cannot be fetched: %s", attachment_id, decision.reason)
            return False
        log.warning("could not fetch attachment %s (%s); trying again in %.0f s", attachment_id, decision.reason,
                    decision.seconds)
        await asyncio.sleep(decision.seconds)


async def _download(bot: Bot, client: httpx.AsyncClient, file_id: str, max_bytes: int) -> tuple[str, int]:
    """The file's SHA-256 and size, read as a stream. Raises TelegramError, as the Bot API's calls do."""
    telegram_file = await bot.get_file(file_id)
    if telegram_file.file_size is not None and telegram_file.file_size > max_bytes:
        raise FileRefused(_too_big(telegram_file.file_size, max_bytes))
    if telegram_file.file_path is None:  # the Bot API gives no download path for a file it will not serve
        raise FileRefused("no download path")
    digest, size = hashlib.sha256(), 0
    try:
        # file_path is the whole download URL, the token in it: never logged or recorded.
        async with client.stream("GET", telegram_file.file_path) as response:
            if response.status_code >= 400:
                raise _refusal(response.status_code)
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:  # getFile gave no size, or a wrong one
                    raise FileRefused(_too_big(size, max_bytes, at_least=True))
                digest.update(chunk)
    except httpx.TimeoutException as error:
        raise TimedOut(f"file download timed out ({type(error).__name__})") from error
    except httpx.HTTPError as error:
        raise NetworkError(f"file download failed ({type(error).__name__})") from error
    return digest.hexdigest(), size


def _refusal(status: int) -> TelegramError:
    reason = f"file download answered HTTP {status}"
    return NetworkError(reason) if status >= 500 or status == 429 else FileRefused(reason)


def _too_big(size: int, max_bytes: int, at_least: bool = False) -> str:
    return f"too big: {'over ' if at_least else ''}{size:,} bytes, more than the {max_bytes:,} bytes allowed"
