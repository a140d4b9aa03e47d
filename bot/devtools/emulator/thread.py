"""The emulator on its own event loop in a background thread, for synchronous code (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from bot.devtools.emulator.server import BotApiEmulator


class EmulatorThread:
    """A BotApiEmulator on its own event loop in a background thread, for sync code."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, bot_username: str = "nvqbot_demo_bot"):
        self.emulator = BotApiEmulator(host, port, bot_username)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="bot-api-emulator", daemon=True)
        self._thread.start()
        self._run(self.emulator.start())
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._run(self.emulator.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, coro: Any, timeout: float | None = None) -> Any:
        if self._loop is None:
            coro.close()
            raise RuntimeError("EmulatorThread is not started")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _on_loop(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        """Run a sync emulator method on the emulator's loop (its state is not thread-safe)."""

        async def call() -> Any:
            return func(*args, **kwargs)

        return self._run(call())

    port = property(lambda self: self.emulator.port)
    base_url = property(lambda self: self.emulator.base_url)
    base_file_url = property(lambda self: self.emulator.base_file_url)
    control_url = property(lambda self: self.emulator.control_url)

    @property
    def calls(self) -> list[dict]:
        return self._on_loop(lambda: list(self.emulator.calls))

    @property
    def downloads(self) -> list[str]:
        return self._on_loop(lambda: list(self.emulator.downloads))

    @property
    def callback_answers(self) -> dict[str, dict]:
        return self._on_loop(lambda: dict(self.emulator.callback_answers))

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        return self._on_loop(self.emulator.sent_messages, chat_id)

    def menu_for(self, chat_id: int, language_code: str = "") -> list[dict]:
        return self._on_loop(self.emulator.menu_for, chat_id, language_code)

    def pending_updates(self) -> int:
        return self._on_loop(self.emulator.pending_updates)

    def file_bytes(self, file_id: str) -> bytes:
        return self._on_loop(self.emulator.file_bytes, file_id)

    def fail_next(self, method: str, **kwargs: Any) -> None:
        self._on_loop(self.emulator.fail_next, method, **kwargs)

    def delay_next(self, method: str, seconds: float, **kwargs: Any) -> None:
        self._on_loop(self.emulator.delay_next, method, seconds, **kwargs)

    def delay_download(self, file_id: str, seconds: float) -> None:
        self._on_loop(self.emulator.delay_download, file_id, seconds)

    def clear_faults(self) -> None:
        self._on_loop(self.emulator.clear_faults)

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[dict]:
        return self._run(self.emulator.wait_for_messages(chat_id, count, timeout))

    def post_message(self, user_id: int, text: str, **kwargs: Any) -> dict:
        return self._run(self.emulator.post_message(user_id, text, **kwargs))

    def post_forwarded(self, user_id: int, text: str, **kwargs: Any) -> dict:
        return self._run(self.emulator.post_forwarded(user_id, text, **kwargs))

    def press_button(self, user_id: int, message_id: int, data: str, **kwargs: Any) -> dict:
        return self._run(self.emulator.press_button(user_id, message_id, data, **kwargs))

    def post_voice(self, user_id: int, content: bytes, duration: int = 3) -> dict:
        return self._run(self.emulator.post_voice(user_id, content, duration))

    def post_document(self, user_id: int, content: bytes, file_name: str, mime_type: str, **kwargs: Any) -> dict:
        return self._run(self.emulator.post_document(user_id, content, file_name, mime_type, **kwargs))

    def post_photo(self, user_id: int, content: bytes, **kwargs: Any) -> dict:
        return self._run(self.emulator.post_photo(user_id, content, **kwargs))

    def post_sticker(self, user_id: int) -> dict:
        return self._run(self.emulator.post_sticker(user_id))

    def post_location(self, user_id: int, lat: float, lon: float) -> dict:
        return self._run(self.emulator.post_location(user_id, lat, lon))

    def edit_message(self, user_id: int, message_id: int, new_text: str) -> dict:
        return self._run(self.emulator.edit_message(user_id, message_id, new_text))
