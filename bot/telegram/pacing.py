"""Keeping bulk sends (reminders, digests) under Telegram's limits: 30 a second overall, one a second a chat."""

import asyncio
import time
from collections.abc import Callable

# Paced a little under the limits: loopback jitter alone can otherwise fit 31 sends into one second.
SAFETY = 1.03


class RateLimiter:
    """At most `rate` sends a second overall, and one per `per_chat` seconds to any chat (with a margin).

    Many senders wait at once: each first waits for its chat's turn, then they are let through one at a
    time, each slot measured from the clock after the wait, so timers that fire late never bunch sends up.
    """

    def __init__(self, rate: float, per_chat: float, clock: Callable[[], float] = time.monotonic):
        self.interval, self.per_chat, self.clock = SAFETY / rate, per_chat * SAFETY, clock
        self._next_send = 0.0
        self._next_for_chat: dict[int, float] = {}
        self._turn = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        await self._until(lambda: self._next_for_chat.get(chat_id, 0.0))
        async with self._turn:
            await self._until(lambda: self._next_send)
            now = self.clock()
            self._next_send = now + self.interval
            self._next_for_chat[chat_id] = now + self.per_chat
            if len(self._next_for_chat) > 100_000:  # forget chats whose pause is over
                self._next_for_chat = {c: t for c, t in self._next_for_chat.items() if t > now}

    async def _until(self, moment: Callable[[], float]) -> None:
        while (wait := moment() - self.clock()) > 0:
            await asyncio.sleep(wait)

    def hold(self, seconds: float) -> None:
        """Telegram said 429: no paced send goes out for a while."""
        self._next_send = max(self._next_send, self.clock() + seconds)
