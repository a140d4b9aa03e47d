"""What the emulator holds (chats, messages, files, queued updates), how tests inspect it and inject
faults and delays, and the users it simulates."""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from bot.devtools.emulator.rules import DEFAULT_BOT_ID, ApiError, CommandScope, command_entities, without_none


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None
    download_delay: float = 0.0  # seconds the file server waits before sending the content

    def meta(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content)}


@dataclass
class _Fault:
    method: str
    times: int
    error: ApiError
    chat_id: int | None


@dataclass
class _Delay:
    method: str
    times: int
    seconds: float
    chat_id: int | None


@dataclass
class _Sent:
    """A message the bot sent; ``rev`` is the emulator revision of its last send/edit."""

    message: dict
    rev: int


def _matching(rules: list, method: str, params: dict):
    """The first fault or delay for this call, used up once more; None when there is none."""
    for rule in rules:
        if rule.method != method.lower():
            continue
        if rule.chat_id is not None and str(params.get("chat_id")) != str(rule.chat_id):
            continue
        rule.times -= 1
        if rule.times <= 0:
            rules.remove(rule)
        return rule
    return None


def forward_origin(kind: str, name: str, date: int) -> dict:
    """A message's forward_origin as Telegram writes it, for each kind of origin."""
    if kind == "user":
        first, _, last = name.partition(" ")
        sender = without_none({"id": 700_000_001, "is_bot": False, "first_name": first, "last_name": last or None})
        return {"type": "user", "date": date, "sender_user": sender}
    if kind == "hidden_user":
        return {"type": "hidden_user", "date": date, "sender_user_name": name}
    if kind == "chat":
        chat = {"id": -100_700_000_001, "type": "supergroup", "title": name}
        return {"type": "chat", "date": date, "sender_chat": chat}
    if kind == "channel":
        chat = {"id": -100_700_000_002, "type": "channel", "title": name}
        return {"type": "channel", "date": date, "chat": chat, "message_id": 42}
    raise ValueError(f"unknown forward origin {kind!r} (user, hidden_user, chat or channel)")


class EmulatorState:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, bot_username: str = "nvqbot_demo_bot"):
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.tokens: list[str] = []  # distinct tokens seen, in order
        self.calls: list[dict] = []  # {"method", "params", "time", "token", "error"}
        self.callback_answers: dict[str, dict] = {}  # callback query id -> answer params
        self.downloads: list[str] = []  # paths of the files the file server served, in order
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._updates_changed = asyncio.Condition()
        self._sent_changed = asyncio.Condition()
        self._sent: list[_Sent] = []
        self._sent_by_key: dict[tuple[int, int], _Sent] = {}
        self._user_messages: dict[tuple[int, int], dict] = {}  # (chat, message id) -> a message a user sent
        self._last_message_id: dict[int, int] = {}
        self._users: dict[int, dict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._polling: set[str] = set()  # tokens with a getUpdates open
        self._commands: dict[tuple[CommandScope, str], list] = {}  # (scope, language code) -> commands
        self._rev = 0
        self._closing = False

    @property
    def bot_user(self) -> dict:
        # Like real Telegram, the bot id is the numeric prefix of its token.
        prefix = self.tokens[-1].split(":", 1)[0] if self.tokens else ""
        return {
            "id": int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID,
            "is_bot": True,
            "first_name": "NVQ Bot (emulated)",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # ---- inspection, faults and delays -----------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        """Messages the bot sent (current state after edits), oldest first."""
        return [
            copy.deepcopy(entry.message)
            for entry in self._sent
            if chat_id is None or entry.message["chat"]["id"] == chat_id
        ]

    def menu_for(self, chat_id: int, language_code: str = "") -> list[dict]:
        """The commands a person sees in their private chat with the bot: the first list set of the chat's
        scope, all private chats, then the default, each in their language before any language (as Telegram)."""
        scopes: list[CommandScope] = [("chat", chat_id, None), ("all_private_chats", None, None), ("default", None, None)]
        languages = [language_code, ""] if language_code else [""]
        for key in ((scope, language) for scope in scopes for language in languages):
            if key in self._commands:
                return copy.deepcopy(self._commands[key])
        return []

    def pending_updates(self) -> int:
        """Number of queued updates the bot has not confirmed yet."""
        return len(self._updates)

    def file_bytes(self, file_id: str) -> bytes:
        """Content of a file the bot uploaded or a user sent."""
        return self._files[file_id].content

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        error_code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally for one chat) fail."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(_Fault(method.lower(), times, ApiError(error_code, description, retry_after), chat_id))

    def delay_next(self, method: str, seconds: float, *, times: int = 1, chat_id: int | None = None) -> None:
        """Make the next ``times`` calls of ``method`` (optionally for one chat) hang ``seconds`` before they
        are served. A call whose client gives up meanwhile is dropped, as if it never arrived."""
        self._delays.append(_Delay(method.lower(), times, seconds, chat_id))

    def delay_download(self, file_id: str, seconds: float) -> None:
        """Make every download of this file wait ``seconds`` before its content comes."""
        self._files[file_id].download_delay = seconds

    def clear_faults(self) -> None:
        """Forget every failure and hang set up with ``fail_next`` / ``delay_next`` and not yet used."""
        self._faults.clear()
        self._delays.clear()

    def _fault_for(self, method: str, params: dict) -> ApiError | None:
        fault = _matching(self._faults, method, params)
        return fault.error if fault else None

    def _delay_for(self, method: str, params: dict) -> float:
        delay = _matching(self._delays, method, params)
        return delay.seconds if delay else 0.0

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[dict]:
        """Wait until the bot sent ``count`` messages to ``chat_id``; return all sent there."""
        try:
            async with asyncio.timeout(timeout), self._sent_changed:
                await self._sent_changed.wait_for(lambda: len(self.sent_messages(chat_id)) >= count)
        except TimeoutError:
            sent = self.sent_messages(chat_id)
            listing = (
                "\n".join(f"  #{m['message_id']}: {m.get('text') or m.get('caption') or '<no text>'!r}" for m in sent)
                or "  (nothing)"
            )
            raise TimeoutError(
                f"expected {count} bot message(s) in chat {chat_id} within {timeout}s, got {len(sent)}:\n{listing}"
            ) from None
        return self.sent_messages(chat_id)

    # ---- user simulation -------------------------------------------------------------------

    async def post_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        chat_id: int | None = None,
        forward_origin: dict | None = None,
    ) -> dict:
        """A text message from the user, in their private chat unless ``chat_id`` names another (a group when
        negative; a positive id other than the user's is a forged chat); ``forward_origin`` forwards it."""
        self._users[user_id] = without_none(
            {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": last_name, "username": username}
        )
        message = self._user_message(
            user_id, chat_id, text=text, entities=command_entities(text), forward_origin=forward_origin
        )
        return await self._queue_update({"message": message})

    async def post_forwarded(
        self, user_id: int, text: str, *, kind: str = "user", name: str = "Jo Bloggs", date: int | None = None
    ) -> dict:
        """The user forwards a text message: from a user, a hidden user, a chat or a channel named ``name``."""
        origin = forward_origin(kind, name, int(time.time()) - 86_400 if date is None else date)
        return await self._queue_update({"message": self._user_message(user_id, text=text, forward_origin=origin)})

    async def press_button(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> dict:
        """Press an inline button on a bot message (``data`` is not checked against it).

        With ``chat_id`` (another user's chat, or a group) the press is forged: it claims a message of that
        chat, the bot's own when there is one, else a stand-in."""
        chat = user_id if chat_id is None else chat_id
        entry = self._sent_by_key.get((chat, message_id))
        if entry is None and chat == user_id:
            raise ValueError(f"the bot sent no message {message_id} to chat {user_id}")
        stand_in = {"message_id": message_id, "from": self.bot_user, "chat": self._chat(chat), "date": int(time.time())}
        message = entry.message if entry else {**stand_in, "text": "…"}
        query_id = str(4_000_000_000_000 + next(self._query_seq))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": message,
            "chat_instance": str(chat * 7 + 3),
            "data": data,
        }
        return await self._queue_update({"callback_query": query})

    async def post_voice(self, user_id: int, content: bytes, duration: int = 3) -> dict:
        stored = self._store_file(content, "voice", ".oga", mime_type="audio/ogg")
        voice = {**stored.meta(), "duration": duration, "mime_type": "audio/ogg"}
        return await self._queue_update({"message": self._user_message(user_id, voice=voice)})

    async def post_document(
        self, user_id: int, content: bytes, file_name: str, mime_type: str, *, caption: str | None = None,
        download_delay: float = 0.0,
    ) -> dict:
        """A document from the user; ``download_delay``: its download waits that long (set before the bot can ask)."""
        stored = self._store_file(
            content, "documents", PurePosixPath(file_name).suffix, file_name=file_name, mime_type=mime_type
        )
        stored.download_delay = download_delay
        document = {**stored.meta(), "file_name": file_name, "mime_type": mime_type}
        message = self._user_message(user_id, document=document, caption=caption)
        return await self._queue_update({"message": message})

    async def post_photo(self, user_id: int, content: bytes, *, caption: str | None = None) -> dict:
        stored = self._store_file(content, "photos", ".jpg", mime_type="image/jpeg")
        photo = [{**stored.meta(), "width": 800, "height": 600}]
        message = self._user_message(user_id, photo=photo, caption=caption)
        return await self._queue_update({"message": message})

    async def post_sticker(self, user_id: int) -> dict:
        stored = self._store_file(b"RIFF-emulated-sticker", "stickers", ".webp", mime_type="image/webp")
        sticker = {
            **stored.meta(),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "\N{THUMBS UP SIGN}",
        }
        return await self._queue_update({"message": self._user_message(user_id, sticker=sticker)})

    async def post_location(self, user_id: int, lat: float, lon: float) -> dict:
        location = {"latitude": lat, "longitude": lon}
        return await self._queue_update({"message": self._user_message(user_id, location=location)})

    async def edit_message(self, user_id: int, message_id: int, new_text: str) -> dict:
        """The user edits a text message they sent earlier in their private chat."""
        message = self._user_messages.get((user_id, message_id))
        if message is None or "text" not in message:
            raise ValueError(f"user {user_id} sent no text message {message_id}")
        message["text"] = new_text
        entities = command_entities(new_text)
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        message["edit_date"] = int(time.time())
        return await self._queue_update({"edited_message": message})

    # ---- helpers -----------------------------------------------------------------------------

    def _user(self, user_id: int) -> dict:
        return self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"})

    def _chat(self, chat_id: int) -> dict:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        user = self._user(chat_id)
        return without_none(
            {
                "id": chat_id,
                "type": "private",
                "first_name": user["first_name"],
                "last_name": user.get("last_name"),
                "username": user.get("username"),
            }
        )

    def _next_message_id(self, chat_id: int) -> int:
        # Users and the bot share one message_id sequence per chat, like real Telegram.
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _user_message(self, user_id: int, chat_id: int | None = None, **content: Any) -> dict:
        chat = user_id if chat_id is None else chat_id
        message = {
            "message_id": self._next_message_id(chat),
            "from": self._user(user_id),
            "chat": self._chat(chat),
            "date": int(time.time()),
            **without_none(content),
        }
        self._user_messages[(chat, message["message_id"])] = message
        return message

    def _store_file(
        self, content: bytes, folder: str, suffix: str, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        n = next(self._file_seq)
        stored = StoredFile(
            f"EMU{folder}{n:06d}", f"EMUu{n:06d}", f"{folder}/file_{n}{suffix}", bytes(content), file_name, mime_type
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    async def _queue_update(self, body: dict) -> dict:
        # A deep copy, so later edits of stored messages don't change queued updates.
        update = {"update_id": next(self._update_ids), **copy.deepcopy(body)}
        self._updates.append(update)
        await self._notify(self._updates_changed)
        return copy.deepcopy(update)

    async def _record_sent(self, chat_id: int, **content: Any) -> dict:
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **without_none(content),
        }
        entry = _Sent(message, self._bump_rev())
        self._sent.append(entry)
        self._sent_by_key[(chat_id, message["message_id"])] = entry
        await self._notify(self._sent_changed)
        return copy.deepcopy(message)

    def _bump_rev(self) -> int:
        self._rev += 1
        return self._rev

    @staticmethod
    async def _notify(condition: asyncio.Condition) -> None:
        async with condition:
            condition.notify_all()
