"""Fetching candidates' files: size checked from getFile first, streamed and hashed, transient failures
retried with the one backoff, refusals recorded, several at once (bounded). A real python-telegram-bot Bot
against the emulator, on SQLite and PostgreSQL."""

import asyncio
import hashlib
import os
from types import SimpleNamespace

import pytest
import pytest_asyncio
from sqlmodel import select
from telegram import Bot

from bot.devtools.emulator import MAX_DOWNLOAD, BotApiEmulator
from bot.storage.db import transaction
from bot.storage.models import Attachment, utcnow
from bot.telegram import delivery, files
from bot.telegram.files import FetchLimits, fetch_attachments

TOKEN = "123456:TEST-TOKEN"
SAM = 501


@pytest_asyncio.fixture
async def emu():
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu):
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as real_bot:
        yield real_bot


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch):
    """The one retry policy, with its first wait 50 ms instead of a second."""
    monkeypatch.setattr(delivery, "BACKOFF_FIRST_S", 0.05)


async def _sent_file(emu, engine, content: bytes, name: str = "evidence.pdf") -> tuple[int, str]:
    """A document the candidate sent, as the bot keeps it before fetching: (attachment id, file id)."""
    update = await emu.post_document(SAM, content, name, "application/pdf")
    document = update["message"]["document"]
    with transaction(engine) as session:
        row = Attachment(kind="document", file_id=document["file_id"], file_unique_id=document["file_unique_id"],
                         file_size=document["file_size"])
        session.add(row)
        session.flush()
        return row.id, document["file_id"]


def _row(engine, attachment_id: int) -> Attachment:
    with transaction(engine) as session:
        return session.get(Attachment, attachment_id)


@pytest.mark.asyncio
async def test_a_file_is_streamed_and_hashed_chunk_by_chunk(emu, bot, engine, monkeypatch):
    content = os.urandom(5 * files.CHUNK_BYTES + 123)
    attachment_id, _ = await _sent_file(emu, engine, content)
    chunks = []
    monkeypatch.setattr(files, "hashlib", SimpleNamespace(sha256=lambda: _Recording(chunks)))

    assert await fetch_attachments(bot, engine, utcnow, FetchLimits()) == 1
    row = _row(engine, attachment_id)
    assert row.sha256 == hashlib.sha256(content).hexdigest() and row.file_size == len(content)
    assert (row.fetch_attempts, row.fetch_error, row.fetch_failed_at) == (1, None, None)
    assert len(chunks) >= 2 and max(chunks) <= files.CHUNK_BYTES and sum(chunks) == len(content)
    assert await fetch_attachments(bot, engine, utcnow, FetchLimits()) == 0  # nothing left to fetch


class _Recording:
    """A SHA-256 that notes the size of each chunk it is fed."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes, self.real = sizes, hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.sizes.append(len(chunk))
        self.real.update(chunk)

    def hexdigest(self) -> str:
        return self.real.hexdigest()


@pytest.mark.asyncio
async def test_a_file_over_the_limit_is_never_downloaded_and_the_reason_is_kept(emu, bot, engine):
    attachment_id, _ = await _sent_file(emu, engine, b"x" * 5000)
    assert await fetch_attachments(bot, engine, utcnow, FetchLimits(max_bytes=4096)) == 0
    row = _row(engine, attachment_id)
    assert row.sha256 is None and row.fetch_failed_at is not None
    assert row.fetch_error == "FileRefused: too big: 5,000 bytes, more than the 4,096 bytes allowed"
    assert [c["method"] for c in emu.calls].count("getFile") == 1 and emu.downloads == []  # size checked first

    assert await fetch_attachments(bot, engine, utcnow, FetchLimits()) == 0  # refused for good: not tried again
    assert [c["method"] for c in emu.calls].count("getFile") == 1


@pytest.mark.asyncio
async def test_telegram_refusing_a_file_over_20_mb_is_recorded(emu, bot, engine):
    attachment_id, _ = await _sent_file(emu, engine, b"\0" * (MAX_DOWNLOAD + 1), "site-video.mp4")
    limits = FetchLimits(max_bytes=50 * 1024 * 1024)  # even when the bot would take it, Telegram will not serve it
    assert await fetch_attachments(bot, engine, utcnow, limits) == 0
    row = _row(engine, attachment_id)
    assert (row.fetch_error, row.fetch_attempts) == ("400: File is too big", 1) and row.fetch_failed_at is not None


@pytest.mark.asyncio
async def test_transient_failures_are_retried_with_backoff_until_the_file_comes(emu, bot, engine):
    content = b"%PDF evidence after a bad gateway"
    attachment_id, _ = await _sent_file(emu, engine, content)
    emu.fail_next("getFile", times=2, error_code=502, description="Bad Gateway")
    emu.fail_next("getFile", error_code=429, description="Too Many Requests: retry after 1", retry_after=1)

    started = asyncio.get_running_loop().time()
    assert await fetch_attachments(bot, engine, utcnow, FetchLimits()) == 1
    assert asyncio.get_running_loop().time() - started >= 1.0  # retry_after honoured
    row = _row(engine, attachment_id)
    assert (row.sha256, row.fetch_attempts, row.fetch_error) == (hashlib.sha256(content).hexdigest(), 4, None)
    getfile = [c for c in emu.calls if c["method"] == "getFile"]
    assert [c["error"] for c in getfile] == ["Bad Gateway", "Bad Gateway", "Too Many Requests: retry after 1", None]
    assert getfile[1]["time"] - getfile[0]["time"] >= 0.025  # the backoff: half of its first 50 ms at least


@pytest.mark.asyncio
async def test_a_slow_download_holds_up_no_other_file_and_files_sent_meanwhile_are_taken_up(emu, bot, engine):
    slow_id, slow_file = await _sent_file(emu, engine, b"slow video")
    quick_id, _ = await _sent_file(emu, engine, b"quick photo")
    emu.delay_download(slow_file, 2.0)

    fetching = asyncio.create_task(fetch_attachments(bot, engine, utcnow, FetchLimits(concurrency=2)))
    await asyncio.sleep(0.3)
    later_id, _ = await _sent_file(emu, engine, b"sent while the video downloads")
    await _until(lambda: _row(engine, later_id).sha256 is not None, 1.9)  # within LOOK_AGAIN_S of being stored
    assert _row(engine, quick_id).sha256 is not None and _row(engine, slow_id).sha256 is None
    assert await asyncio.wait_for(fetching, 5) == 3
    assert _row(engine, slow_id).sha256 == hashlib.sha256(b"slow video").hexdigest()


@pytest.mark.asyncio
async def test_downloads_at_once_are_bounded(emu, bot, engine):
    ids = []
    for n in range(3):
        attachment_id, file_id = await _sent_file(emu, engine, f"file {n}".encode())
        emu.delay_download(file_id, 0.5)
        ids.append(attachment_id)
    started = asyncio.get_running_loop().time()
    assert await fetch_attachments(bot, engine, utcnow, FetchLimits(concurrency=1)) == 3
    assert asyncio.get_running_loop().time() - started >= 1.5  # one after another
    with transaction(engine) as session:
        order = session.exec(select(Attachment.id).order_by(Attachment.fetched_at)).all()
    assert order == ids


async def _until(condition, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)
