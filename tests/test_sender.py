"""The outbox sender against the Bot API emulator: retried until delivered, in order per chat, given up only
on a permanent error; on SQLite and PostgreSQL."""

import asyncio
import random
import time

import pytest
from sqlmodel import select
from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.storage.db import transaction
from bot.storage.models import OutboundMessage
from bot.storage.outbox import pending_count, queue_call
from bot.telegram.delivery import BACKOFF_MAX_S, GiveUp, RetryLater, Unreachable, after_failure, backoff
from bot.telegram.pacing import RateLimiter
from bot.telegram.sender import OutboxSender


def queue(engine, chat_id: int, *texts: str) -> None:
    with transaction(engine) as session:
        for text in texts:
            queue_call(session, chat_id, "sendMessage", {"chat_id": chat_id, "text": text})


async def deliver_all(engine, emulator, timeout: float = 30.0, alone: bool = True, **kwargs) -> OutboxSender:
    """Run a real sender until the outbox is empty (`alone`: the only sender, as the active bot is)."""
    async with Bot("123456:TEST", base_url=emulator.base_url) as bot:
        sender = OutboxSender(bot, engine, RateLimiter(1000, 0.0), idle_wait_s=0.05, **kwargs)
        task = asyncio.create_task(sender.run(release_old_claims=alone))
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                with transaction(engine) as session:
                    if pending_count(session) == 0:
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the outbox was not emptied in time")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return sender


def rows(engine) -> list[OutboundMessage]:
    with transaction(engine) as session:
        found = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        for row in found:
            session.expunge(row)
        return found


def texts_sent(emulator, chat_id: int) -> list[str]:
    return [m["text"] for m in emulator.sent_messages(chat_id)]


def test_a_reply_failing_with_502_twice_then_succeeding_arrives_once(engine, emulator, monkeypatch):
    monkeypatch.setattr("bot.telegram.delivery.BACKOFF_FIRST_S", 0.1)
    emulator.fail_next("sendMessage", times=2, error_code=502, description="Bad Gateway")
    queue(engine, 5, "Thank you, that's saved.")
    asyncio.run(deliver_all(engine, emulator))
    assert texts_sent(emulator, 5) == ["Thank you, that's saved."]
    [row] = rows(engine)
    assert (row.status, row.attempts) == ("sent", 3) and row.telegram_message_id is not None


def test_a_429_storm_delivers_every_reply_and_none_before_retry_after(engine, emulator):
    chats = range(100, 110)
    for chat in chats:
        emulator.fail_next("sendMessage", times=2, error_code=429, retry_after=1, chat_id=chat)
        queue(engine, chat, *(f"message {n} to {chat}" for n in range(3)))
    asyncio.run(deliver_all(engine, emulator))
    for chat in chats:
        assert texts_sent(emulator, chat) == [f"message {n} to {chat}" for n in range(3)]  # all, once, in order
        calls = [c for c in emulator.calls if c["method"] == "sendMessage" and str(c["params"]["chat_id"]) == str(chat)]
        refused = [c for c in calls if c["error"]]
        assert len(refused) == 2
        # each try after a 429 came at least retry_after (1 s) after it
        for before, after in zip(calls, calls[1:]):
            if before["error"]:
                assert after["time"] - before["time"] >= 1.0


def test_a_chat_waiting_for_a_retry_holds_up_only_itself(engine, emulator):
    emulator.fail_next("sendMessage", error_code=429, retry_after=2, chat_id=1)
    queue(engine, 1, "first to 1", "second to 1")
    queue(engine, 2, "first to 2", "second to 2")
    started = time.time()
    asyncio.run(deliver_all(engine, emulator))
    to_2 = [c["time"] for c in emulator.calls if c["method"] == "sendMessage" and str(c["params"]["chat_id"]) == "2"]
    assert max(to_2) - started < 1.5  # chat 2 did not wait for chat 1's retry_after
    assert texts_sent(emulator, 1) == ["first to 1", "second to 1"]


def test_a_bad_request_is_given_up_with_its_reason_and_the_chat_goes_on(engine, emulator):
    with transaction(engine) as session:
        queue_call(session, 7, "sendMessage", {"chat_id": 7, "text": "<b>broken", "parse_mode": "HTML"})
        queue_call(session, 7, "sendMessage", {"chat_id": 7, "text": "next one"})
    asyncio.run(deliver_all(engine, emulator))
    first, second = rows(engine)
    assert first.status == "failed" and first.last_error.startswith("400: ") and "parse" in first.last_error.lower()
    assert second.status == "sent" and texts_sent(emulator, 7) == ["next one"]


def test_a_blocked_chat_is_closed_unreachable_and_reported_once_per_call(engine, emulator):
    emulator.fail_next("sendMessage", times=2, error_code=403, description="Forbidden: bot was blocked by the user", chat_id=8)
    queue(engine, 8, "one", "two")
    blocked: list[int] = []
    asyncio.run(deliver_all(engine, emulator, on_unreachable=lambda session, chat_id, now: blocked.append(chat_id)))
    assert [r.status for r in rows(engine)] == ["unreachable", "unreachable"] and blocked == [8, 8]
    assert texts_sent(emulator, 8) == []


def test_there_is_no_cap_on_how_many_calls_are_pending(engine, emulator):
    for chat in range(300):
        queue(engine, 10_000 + chat, "a", "b")
    asyncio.run(deliver_all(engine, emulator, timeout=120))
    assert sum(1 for r in rows(engine) if r.status == "sent") == 600
    assert all(texts_sent(emulator, 10_000 + chat) == ["a", "b"] for chat in range(300))


def test_a_bad_token_stops_the_sender(engine, emulator):
    queue(engine, 9, "hello")

    async def run():
        async with Bot("123456:TEST", base_url=emulator.base_url) as bot:
            sender = OutboxSender(bot, engine, RateLimiter(1000, 0.0))
            emulator.fail_next("sendMessage", error_code=401, description="Unauthorized")
            await sender.send_due()

    with pytest.raises(InvalidToken):
        asyncio.run(run())
    assert rows(engine)[0].status == "pending"  # nothing is lost: it goes once the token is right


@pytest.mark.slow
def test_two_senders_on_one_database_make_each_call_once(engine, emulator, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrent senders share a PostgreSQL database")
    for chat in range(40):
        queue(engine, 20_000 + chat, *(f"{n}" for n in range(5)))

    async def two():
        # as webhook workers would: neither drops the other's claims
        await asyncio.gather(*(deliver_all(engine, emulator, timeout=60, alone=False) for _ in range(2)))

    asyncio.run(two())
    for chat in range(40):
        assert texts_sent(emulator, 20_000 + chat) == [f"{n}" for n in range(5)]


# the retry policy on its own --------------------------------------------------------------------

def test_the_retry_policy():
    rng = random.Random(1)
    assert isinstance(after_failure(NetworkError("Bad Gateway"), 1, rng), RetryLater)
    assert isinstance(after_failure(TimedOut(), 1, rng), RetryLater)
    wait = after_failure(RetryAfter(7), 1, rng)
    assert isinstance(wait, RetryLater) and 7 <= wait.seconds <= 7.7
    assert isinstance(after_failure(Forbidden("blocked"), 1, rng), Unreachable)
    assert after_failure(BadRequest("Bad Request: can't parse entities"), 1, rng) == GiveUp("400: Can't parse entities")
    with pytest.raises(InvalidToken):
        after_failure(InvalidToken("Unauthorized"), 1, rng)


def test_backoff_grows_exponentially_with_jitter_up_to_a_ceiling():
    rng = random.Random(2)
    for attempts in range(1, 12):
        ceiling = min(BACKOFF_MAX_S, 2 ** (attempts - 1))
        draws = [backoff(attempts, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws) and len(set(draws)) > 1
