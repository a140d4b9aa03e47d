"""A terminal chat with a bot that runs against the Bot API emulator.

You play the Telegram user: lines you type are posted as messages through the emulator's
control API (``/_emu/``), and the bot's messages are printed as plain text with their inline
buttons numbered, so ``:2`` presses the second button of the latest keyboard.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import html
import re
import sys
import threading
from pathlib import Path
from typing import TextIO

import aiohttp

HINT = (
    "Type your answers; :1 presses button 1; :voice 12 sends a 12-second voice note; :photo PATH sends a picture;"
    " :edit TEXT changes your last message; :quit leaves"
)
POLL_INTERVAL_S = 0.3
_TAG_RE = re.compile(r"<[^>]+>")
_PRESS_RE = re.compile(r":(\d+)")
_VOICE_RE = re.compile(r":voice\s+(\d+)")
_PHOTO_RE = re.compile(r":photo\s+(.+)")
_EDIT_RE = re.compile(r":edit\s+(.+)")


def html_to_text(text: str) -> str:
    """Telegram HTML -> what the user sees."""
    return html.unescape(_TAG_RE.sub("", text))


class _Chat:
    def __init__(self, session: aiohttp.ClientSession, control_url: str, user_id: int, first_name: str, stdout: TextIO):
        self.session = session
        self.control_url = control_url.rstrip("/")
        self.user_id = user_id
        self.first_name = first_name
        self.stdout = stdout
        self.rev = 0  # emulator revision already shown
        self.buttons: list[tuple[int, str | None]] = []  # (message_id, callback_data) of last keyboard
        self.last_input = 0.0  # loop times, for settle()
        self.last_output = 0.0
        self.last_message_id: int | None = None  # the user's last text message, for :edit

    def say(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    async def _post(self, path: str, body: dict) -> dict | None:
        self.last_input = asyncio.get_running_loop().time()
        async with self.session.post(f"{self.control_url}/{path}", json=body) as response:
            answer = await response.json()
            if response.status != 200:
                self.say(f"(emulator refused: {answer.get('error')})")
                return None
            return answer

    async def send_text(self, text: str) -> None:
        update = await self._post("message", {"user_id": self.user_id, "text": text, "first_name": self.first_name})
        if update:
            self.last_message_id = update["message"]["message_id"]

    async def send_voice(self, seconds: int) -> None:
        await self._post("voice", {"user_id": self.user_id, "seconds": seconds})

    async def send_photo(self, path: str) -> None:
        try:
            content = Path(path).expanduser().read_bytes()
        except OSError as error:
            self.say(f"(cannot read {path}: {error.strerror})")
            return
        await self._post("photo", {"user_id": self.user_id, "content": base64.b64encode(content).decode()})

    async def edit_last(self, text: str) -> None:
        if self.last_message_id is None:
            self.say("(you have sent no message to edit yet)")
            return
        await self._post("edit", {"user_id": self.user_id, "message_id": self.last_message_id, "text": text})

    async def press(self, number: int) -> None:
        if not 1 <= number <= len(self.buttons) or self.buttons[number - 1][1] is None:
            self.say(f"(there is no button {number} to press)")
            return
        message_id, data = self.buttons[number - 1]
        await self._post("callback", {"user_id": self.user_id, "message_id": message_id, "data": data})

    async def poll_forever(self) -> None:
        while True:
            try:
                await self.poll_once()
            except aiohttp.ClientError as error:
                self.say(f"(emulator unreachable: {error})")
                await asyncio.sleep(1)
            await asyncio.sleep(POLL_INTERVAL_S)

    async def poll_once(self) -> None:
        params = {"chat_id": self.user_id, "changed_after": self.rev}
        async with self.session.get(f"{self.control_url}/sent", params=params) as response:
            data = await response.json()
        for message in data["messages"]:
            self.show(message)
        self.rev = data["rev"]

    def show(self, entry: dict) -> None:
        self.last_output = asyncio.get_running_loop().time()
        document = entry["message"].get("document")
        body = html_to_text(entry["text"])
        if document:
            body = f"[file: {document.get('file_name', 'document')}] {body}".rstrip()
        prefix = "bot (edited)> " if entry["edited"] else "bot> "
        indent = " " * len(prefix)
        lines = body.splitlines() or [""]
        self.say(prefix + lines[0])
        for line in lines[1:]:
            self.say(indent + line)
        buttons = [button for row in entry["keyboard"] for button in row]
        if buttons:
            self.buttons = [(entry["message_id"], b.get("callback_data")) for b in buttons]
            self.say(indent + "  ".join(f"[{n}] {b['text']}" for n, b in enumerate(buttons, 1)))
        elif self.buttons and self.buttons[0][0] == entry["message_id"]:
            self.buttons = []  # the bot took that keyboard away

    async def settle(self, quiet: float = 0.5, patience: float = 5.0) -> None:
        """Wait until the bot has answered the last input and gone quiet (for piped input)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            answered = self.last_output > self.last_input
            if now - self.last_input > patience or (answered and now - self.last_output > quiet):
                return
            await asyncio.sleep(0.1)


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop, lines: asyncio.Queue) -> None:
    """Feed stdin lines into the queue from a daemon thread (works on ttys and pipes); None = EOF."""

    def read() -> None:
        for line in iter(stdin.readline, ""):
            try:
                loop.call_soon_threadsafe(lines.put_nowait, line.rstrip("\n"))
            except RuntimeError:  # the chat is over and its loop closed
                return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=read, name="chat-stdin", daemon=True).start()


async def run_terminal_chat(
    control_url: str,
    user_id: int,
    first_name: str,
    first_text: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    interactive = stdin.isatty()
    lines: asyncio.Queue[str | None] = asyncio.Queue()
    _read_lines(stdin, asyncio.get_running_loop(), lines)
    async with aiohttp.ClientSession() as session:
        chat = _Chat(session, control_url, user_id, first_name, stdout)
        chat.say(HINT)
        await chat.poll_once()  # the conversation so far
        if first_text:
            chat.say(f"you> {first_text}")
            await chat.send_text(first_text)
        poller = asyncio.create_task(chat.poll_forever())
        try:
            while True:
                if not interactive:
                    await chat.settle()  # piped input: let the bot answer each line first
                line = await lines.get()
                if line is None:
                    await chat.settle()  # show the bot's last replies before leaving
                    break
                line = line.strip()
                if line == ":quit":
                    break
                if line and not interactive:
                    chat.say(f"you> {line}")  # a tty echoes input itself
                if press := _PRESS_RE.fullmatch(line):
                    await chat.press(int(press.group(1)))
                elif voice := _VOICE_RE.fullmatch(line):
                    await chat.send_voice(int(voice.group(1)))
                elif photo := _PHOTO_RE.fullmatch(line):
                    await chat.send_photo(photo.group(1).strip())
                elif edit := _EDIT_RE.fullmatch(line):
                    await chat.edit_last(edit.group(1))
                elif line:
                    await chat.send_text(line)
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Chat with a bot through the emulator.")
    parser.add_argument("--control-url", default="http://127.0.0.1:8081/_emu")
    parser.add_argument("--user-id", type=int, default=2000)
    parser.add_argument("--name", default="Sam")
    parser.add_argument("first_text", nargs="?")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_terminal_chat(args.control_url, args.user_id, args.name, args.first_text))


if __name__ == "__main__":
    main()
