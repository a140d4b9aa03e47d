"""A Telegram Bot API emulator on loopback, for tests and offline demos.

Point a real python-telegram-bot ``Bot`` at it with
``Bot(token, base_url=emu.base_url, base_file_url=emu.base_file_url)``, simulate users with
``post_message`` / ``press_button`` / ``post_voice`` ..., and inspect what the bot did through
``calls`` and ``sent_messages()``.

Texts are stored exactly as the bot sent them (HTML tags included). With parse_mode HTML they are
checked like Telegram does (every "<" starts a tag; only Telegram's tags, properly nested), but
not converted to entities.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import copy
import html
import itertools
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Self

from aiohttp import web

log = logging.getLogger(__name__)

# Parameters that python-telegram-bot sends JSON-encoded inside form data.
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
    }
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
DEFAULT_BOT_ID = 1234567890


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass
class Upload:
    """A file part of a multipart request."""

    file_name: str | None
    mime_type: str | None
    content: bytes


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def meta(self) -> dict:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.content)}


@dataclass
class _Fault:
    method: str
    times: int
    error: ApiError
    chat_id: int | None


@dataclass
class _Sent:
    """A message the bot sent; ``rev`` is the emulator revision of its last send/edit."""

    message: dict
    rev: int


def _html_to_plain(text: str) -> str:
    """Check Telegram HTML the way Telegram does (every "<" starts a tag, only its tags, properly
    nested) and return the visible text."""
    visible, open_tags, pos = [], [], 0
    while (start := text.find("<", pos)) != -1:
        visible.append(text[pos:start])
        offset = len(text[:start].encode())
        end = text.find(">", start)
        if end == -1:
            _entity_error(f"Unclosed start tag at byte offset {offset}")
        tag = text[start + 1 : end]
        if tag.startswith("/"):
            name = tag[1:].strip().lower()
            if not open_tags or open_tags[-1] != name:
                _entity_error(f'Unmatched end tag "{name}" at byte offset {offset}')
            open_tags.pop()
        else:
            name = re.match(r"[^\s/]*", tag).group().lower()
            if name not in _HTML_TAGS:
                _entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
            open_tags.append(name)
        pos = end + 1
    visible.append(text[pos:])
    if open_tags:
        _entity_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return html.unescape("".join(visible))


def _entity_error(reason: str) -> None:
    raise ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _opt_int(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def _req_int(params: dict, name: str) -> int:
    value = _opt_int(params, name)
    if value is None:
        raise ApiError(400, f"Bad Request: {name} is empty")
    return value


def _flag(params: dict, name: str) -> bool:
    value = params.get(name)
    return value is True or str(value).lower() == "true"


def _chat_id(params: dict) -> int:
    try:
        return _req_int(params, "chat_id")
    except ApiError as err:
        if "invalid" in err.description:  # e.g. "@channelname": channels are not emulated
            raise ApiError(400, "Bad Request: chat not found") from None
        raise


def _checked_text(params: dict, name: str, limit: int, *, required: bool) -> str | None:
    """Validate a text/caption against Telegram's rules; return it unchanged."""
    text = params.get(name)
    if text is None or text == "":
        if required:
            raise ApiError(400, "Bad Request: message text is empty")
        return None
    text = str(text)
    mode = str(params.get("parse_mode") or "").lower()
    visible = _html_to_plain(text) if mode == "html" else text
    if required and not visible.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if _utf16_len(visible) > limit:
        kind = "message" if name == "text" else "message caption"
        raise ApiError(400, f"Bad Request: {kind} is too long")
    return text


def _inline_markup(params: dict) -> dict | None:
    """The inline keyboard to show on the message (other markups are not echoed back)."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return {"inline_keyboard": rows} if rows else None


def _command_entities(text: str) -> list[dict] | None:
    match = _COMMAND_RE.match(text)
    if not match:
        return None
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _without_none(data: dict) -> dict:
    return {key: value for key, value in data.items() if value is not None}


def _json_default(value: Any) -> Any:
    if isinstance(value, Upload):
        return {"file_name": value.file_name, "mime_type": value.mime_type, "size": len(value.content)}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


async def _read_params(request: web.Request) -> dict:
    """Merge query string and body (JSON, urlencoded or multipart) into one dict."""
    params: dict[str, Any] = dict(request.query)
    if request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        else:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    value = Upload(value.filename, value.content_type, value.file.read())
                params[key] = value
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params


class BotApiEmulator:
    """Serves the Bot API methods nvqbot uses, plus a control API under ``/_emu/``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, bot_username: str = "nvqbot_demo_bot"):
        self.host = host
        self.port = port
        self.bot_username = bot_username
        self.tokens: list[str] = []  # distinct tokens seen, in order
        self.calls: list[dict] = []  # {"method", "params", "time", "token", "error"}
        self.callback_answers: dict[str, dict] = {}  # callback query id -> answer params
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._updates_changed = asyncio.Condition()
        self._sent_changed = asyncio.Condition()
        self._sent: list[_Sent] = []
        self._sent_by_key: dict[tuple[int, int], _Sent] = {}
        self._user_messages: dict[tuple[int, int], dict] = {}
        self._last_message_id: dict[int, int] = {}
        self._users: dict[int, dict] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._query_seq = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults: list[_Fault] = []
        self._commands: dict[str, list] = {}
        self._rev = 0
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._methods = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "getfile": self._get_file,
        }

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(
            [
                web.get("/bot{token}/{method}", self._handle_api),
                web.post("/bot{token}/{method}", self._handle_api),
                web.get("/file/bot{token}/{file_path:.+}", self._handle_file),
                web.post("/_emu/message", self._ctl_message),
                web.post("/_emu/callback", self._ctl_callback),
                web.post("/_emu/voice", self._ctl_voice),
                web.post("/_emu/photo", self._ctl_photo),
                web.post("/_emu/edit", self._ctl_edit),
                web.get("/_emu/sent", self._ctl_sent),
                web.get("/_emu/calls", self._ctl_calls),
            ]
        )
        self._closing = False
        # A short shutdown_timeout: in-flight long polls are released by stop() anyway.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        log.info("Bot API emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._closing = True
        await self._notify(self._updates_changed)  # long polls return at once
        await self._runner.cleanup()
        self._runner = None

    @property
    def _url_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host

    @property
    def base_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/file/bot"

    @property
    def control_url(self) -> str:
        return f"http://{self._url_host}:{self.port}/_emu"

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

    # ---- inspection & fault injection ----------------------------------------------------

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        """Messages the bot sent (current state after edits), oldest first."""
        return [
            copy.deepcopy(entry.message)
            for entry in self._sent
            if chat_id is None or entry.message["chat"]["id"] == chat_id
        ]

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
    ) -> dict:
        self._users[user_id] = _without_none(
            {"id": user_id, "is_bot": False, "first_name": first_name, "last_name": last_name, "username": username}
        )
        message = self._user_message(user_id, text=text, entities=_command_entities(text))
        return await self._queue_update({"message": message})

    async def press_button(self, user_id: int, message_id: int, data: str) -> dict:
        """Press an inline button on a bot message (``data`` is not checked against it)."""
        entry = self._sent_by_key.get((user_id, message_id))
        if entry is None:
            raise ValueError(f"the bot sent no message {message_id} to chat {user_id}")
        query_id = str(4_000_000_000_000 + next(self._query_seq))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": self._user(user_id),
            "message": entry.message,
            "chat_instance": str(user_id * 7 + 3),
            "data": data,
        }
        return await self._queue_update({"callback_query": query})

    async def post_voice(self, user_id: int, content: bytes, duration: int = 3) -> dict:
        stored = self._store_file(content, "voice", ".oga", mime_type="audio/ogg")
        voice = {**stored.meta(), "duration": duration, "mime_type": "audio/ogg"}
        return await self._queue_update({"message": self._user_message(user_id, voice=voice)})

    async def post_document(
        self, user_id: int, content: bytes, file_name: str, mime_type: str, *, caption: str | None = None
    ) -> dict:
        stored = self._store_file(
            content, "documents", PurePosixPath(file_name).suffix, file_name=file_name, mime_type=mime_type
        )
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
        """The user edits a text message they sent earlier."""
        message = self._user_messages.get((user_id, message_id))
        if message is None or "text" not in message:
            raise ValueError(f"user {user_id} sent no text message {message_id}")
        message["text"] = new_text
        entities = _command_entities(new_text)
        if entities:
            message["entities"] = entities
        else:
            message.pop("entities", None)
        message["edit_date"] = int(time.time())
        return await self._queue_update({"edited_message": message})

    def _user(self, user_id: int) -> dict:
        return self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": "Test"})

    def _chat(self, chat_id: int) -> dict:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        user = self._user(chat_id)
        return _without_none(
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

    def _user_message(self, user_id: int, **content: Any) -> dict:
        message = {
            "message_id": self._next_message_id(user_id),
            "from": self._user(user_id),
            "chat": self._chat(user_id),
            "date": int(time.time()),
            **_without_none(content),
        }
        self._user_messages[(user_id, message["message_id"])] = message
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

    @staticmethod
    async def _notify(condition: asyncio.Condition) -> None:
        async with condition:
            condition.notify_all()

    # ---- Bot API -------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token not in self.tokens:
            self.tokens.append(token)
        try:
            params = await _read_params(request)
        except ValueError as err:
            return web.json_response(ApiError(400, f"Bad Request: can't parse request: {err}").payload(), status=400)
        call = {"method": method, "params": params, "time": time.time(), "token": token, "error": None}
        self.calls.append(call)
        log.info("%s %s", method, json.dumps(params, default=_json_default)[:200])
        try:
            self._maybe_fail(method, params)
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as err:
            call["error"] = err.description
            return web.json_response(err.payload(), status=err.code)
        return web.json_response({"ok": True, "result": result})

    def _maybe_fail(self, method: str, params: dict) -> None:
        for fault in self._faults:
            if fault.method != method.lower():
                continue
            if fault.chat_id is not None and str(params.get("chat_id")) != str(fault.chat_id):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise fault.error

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(
            body=stored.content, headers={"Content-Type": stored.mime_type or "application/octet-stream"}
        )

    async def _get_me(self, params: dict) -> dict:
        return self.bot_user

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = _opt_int(params, "offset")
        limit = min(max(_opt_int(params, "limit") or 100, 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except ValueError:
            raise ApiError(400, "Bad Request: invalid timeout specified") from None
        if offset:
            # Confirms (drops) every update before offset; negative = keep only the last -offset.
            self._updates = (
                [u for u in self._updates if u["update_id"] >= offset] if offset > 0 else self._updates[offset:]
            )
        deadline = asyncio.get_running_loop().time() + timeout
        async with self._updates_changed:
            while not self._updates and not self._closing:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    await asyncio.wait_for(self._updates_changed.wait(), remaining)
                except TimeoutError:
                    break
        return copy.deepcopy(self._updates[:limit])

    async def _delete_webhook(self, params: dict) -> bool:
        if _flag(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _send_chat_action(self, params: dict) -> bool:
        _chat_id(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: action is empty")
        return True

    async def _send_message(self, params: dict) -> dict:
        chat_id = _chat_id(params)
        text = _checked_text(params, "text", MAX_TEXT, required=True)
        return await self._record_sent(chat_id, text=text, reply_markup=_inline_markup(params))

    async def _send_document(self, params: dict) -> dict:
        chat_id = _chat_id(params)
        document = params.get("document")
        if isinstance(document, Upload):
            if not document.content:
                raise ApiError(400, "Bad Request: file must be non-empty")
            name = document.file_name or "document"
            stored = self._store_file(
                document.content, "documents", PurePosixPath(name).suffix, file_name=name, mime_type=document.mime_type
            )
        elif isinstance(document, str) and document in self._files:
            stored = self._files[document]
        elif document in (None, ""):
            raise ApiError(400, "Bad Request: there is no document in the request")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption = _checked_text(params, "caption", MAX_CAPTION, required=False)
        doc = _without_none({**stored.meta(), "file_name": stored.file_name, "mime_type": stored.mime_type})
        return await self._record_sent(chat_id, document=doc, caption=caption, reply_markup=_inline_markup(params))

    async def _record_sent(self, chat_id: int, **content: Any) -> dict:
        message = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **_without_none(content),
        }
        entry = _Sent(message, self._bump_rev())
        self._sent.append(entry)
        self._sent_by_key[(chat_id, message["message_id"])] = entry
        await self._notify(self._sent_changed)
        return copy.deepcopy(message)

    def _bump_rev(self) -> int:
        self._rev += 1
        return self._rev

    def _editable(self, params: dict) -> _Sent:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not emulated")
        key = (_chat_id(params), _req_int(params, "message_id"))
        entry = self._sent_by_key.get(key)
        if entry is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return entry

    async def _apply_edit(self, entry: _Sent, changes: dict) -> dict:
        message = entry.message
        if all(message.get(key) == value for key, value in changes.items()):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message "
                "content and reply markup are exactly the same as a current "
                "content and reply markup of the message",
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        entry.rev = self._bump_rev()
        await self._notify(self._sent_changed)
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: dict) -> dict:
        entry = self._editable(params)
        if "text" not in entry.message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text = _checked_text(params, "text", MAX_TEXT, required=True)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        return await self._apply_edit(entry, {"text": text, "reply_markup": _inline_markup(params)})

    async def _edit_message_reply_markup(self, params: dict) -> dict:
        entry = self._editable(params)
        return await self._apply_edit(entry, {"reply_markup": _inline_markup(params)})

    async def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        return True

    @staticmethod
    def _commands_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")

    async def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands is empty")
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
        self._commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict) -> list:
        return self._commands.get(self._commands_key(params), [])

    async def _get_file(self, params: dict) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {**stored.meta(), "file_path": stored.file_path}

    # ---- control API (/_emu/) --------------------------------------------------------------

    @staticmethod
    def _ctl_error(err: Exception) -> web.Response:
        return web.json_response({"error": f"{type(err).__name__}: {err}"}, status=400)

    async def _ctl_message(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            update = await self.post_message(
                int(body["user_id"]), str(body["text"]), first_name=body.get("first_name", "Test")
            )
        except (KeyError, TypeError, ValueError) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_callback(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            update = await self.press_button(int(body["user_id"]), int(body["message_id"]), str(body["data"]))
        except (KeyError, TypeError, ValueError) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_voice(self, request: web.Request) -> web.Response:
        """A voice note of `seconds` seconds (its sound is made up: the demo has no microphone)."""
        try:
            body = await request.json()
            seconds = int(body["seconds"])
            update = await self.post_voice(int(body["user_id"]), os.urandom(min(seconds, 600) * 1000 + 100), seconds)
        except (KeyError, TypeError, ValueError) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_photo(self, request: web.Request) -> web.Response:
        """A photo, its bytes given base64-encoded, with an optional caption."""
        try:
            body = await request.json()
            content = base64.b64decode(str(body["content"]), validate=True)
            update = await self.post_photo(int(body["user_id"]), content, caption=body.get("caption"))
        except (KeyError, TypeError, ValueError, binascii.Error) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_edit(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            update = await self.edit_message(int(body["user_id"]), int(body["message_id"]), str(body["text"]))
        except (KeyError, TypeError, ValueError) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_sent(self, request: web.Request) -> web.Response:
        """Bot messages in a chat: those with (1-based) index > ``after`` and/or those new or
        edited since revision ``changed_after``; ``rev`` in the answer is the current revision."""
        try:
            chat_id = int(request.query["chat_id"])
            after, changed_after = (
                int(request.query[key]) if key in request.query else None for key in ("after", "changed_after")
            )
        except (KeyError, ValueError) as err:
            return self._ctl_error(err)
        if after is None and changed_after is None:
            after = 0
        entries = [e for e in self._sent if e.message["chat"]["id"] == chat_id]
        listed = []
        for index, entry in enumerate(entries, 1):
            if (after is not None and index > after) or (changed_after is not None and entry.rev > changed_after):
                message = entry.message
                listed.append(
                    {
                        "index": index,
                        "message_id": message["message_id"],
                        "text": message.get("text") or message.get("caption") or "",
                        "keyboard": message.get("reply_markup", {}).get("inline_keyboard", []),
                        "edited": "edit_date" in message,
                        "rev": entry.rev,
                        "message": message,
                    }
                )
        return web.json_response({"messages": listed, "count": len(entries), "rev": self._rev})

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method", "").lower()
        calls = [c for c in self.calls if not method or c["method"].lower() == method]
        return web.json_response(text=json.dumps({"calls": calls}, default=_json_default))


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
        if self._loop is None:
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
    def callback_answers(self) -> dict[str, dict]:
        return self._on_loop(lambda: dict(self.emulator.callback_answers))

    def sent_messages(self, chat_id: int | None = None) -> list[dict]:
        return self._on_loop(self.emulator.sent_messages, chat_id)

    def pending_updates(self) -> int:
        return self._on_loop(self.emulator.pending_updates)

    def file_bytes(self, file_id: str) -> bytes:
        return self._on_loop(self.emulator.file_bytes, file_id)

    def fail_next(self, method: str, **kwargs: Any) -> None:
        self._on_loop(self.emulator.fail_next, method, **kwargs)

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[dict]:
        return self._run(self.emulator.wait_for_messages(chat_id, count, timeout))

    def post_message(self, user_id: int, text: str, **kwargs: Any) -> dict:
        return self._run(self.emulator.post_message(user_id, text, **kwargs))

    def press_button(self, user_id: int, message_id: int, data: str) -> dict:
        return self._run(self.emulator.press_button(user_id, message_id, data))

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


async def _serve(args: argparse.Namespace) -> None:
    emulator = BotApiEmulator(args.host, args.port, args.bot_username)
    await emulator.start()
    print(
        f"Bot API emulator running (Ctrl-C stops)\n"
        f"  base_url:      {emulator.base_url}\n"
        f"  base_file_url: {emulator.base_file_url}\n"
        f"  control_url:   {emulator.control_url}",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the Telegram Bot API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="nvqbot_demo_bot")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every API call")
    args = parser.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
