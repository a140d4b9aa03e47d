"""What the Bot API checks, as Telegram does: limits, Telegram HTML, keyboards, parameters, errors."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

# Parameters that python-telegram-bot sends JSON-encoded inside form data.
JSON_PARAMS = frozenset(
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
COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
HTML_TAGS = frozenset(
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
MAX_COMMANDS = 100
MAX_COMMAND_DESCRIPTION = 256
DEFAULT_BOT_ID = 1234567890
MAX_DOWNLOAD = 20 * 1024 * 1024  # the largest file getFile serves to a bot
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


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


def html_to_plain(text: str) -> str:
    """Check Telegram HTML the way Telegram does (every "<" starts a tag, only its tags, properly
    nested) and return the visible text."""
    visible: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        visible.append(text[pos:start])
        offset = len(text[:start].encode())
        end = text.find(">", start)
        if end == -1:
            entity_error(f"Unclosed start tag at byte offset {offset}")
        tag = text[start + 1 : end]
        if tag.startswith("/"):
            name = tag[1:].strip().lower()
            if not open_tags or open_tags[-1] != name:
                entity_error(f'Unmatched end tag "{name}" at byte offset {offset}')
            open_tags.pop()
        else:
            name = re.split(r"[\s/]", tag, maxsplit=1)[0].lower()
            if name not in HTML_TAGS:
                entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
            open_tags.append(name)
        pos = end + 1
    visible.append(text[pos:])
    if open_tags:
        entity_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return html.unescape("".join(visible))


def entity_error(reason: str) -> None:
    raise ApiError(400, f"Bad Request: can't parse entities: {reason}")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def opt_int(params: dict, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


def req_int(params: dict, name: str) -> int:
    value = opt_int(params, name)
    if value is None:
        raise ApiError(400, f"Bad Request: {name} is empty")
    return value


def flag(params: dict, name: str) -> bool:
    value = params.get(name)
    return value is True or str(value).lower() == "true"


def chat_id_of(params: dict) -> int:
    try:
        return req_int(params, "chat_id")
    except ApiError as err:
        if "invalid" in err.description:  # e.g. "@channelname": channels are not emulated
            raise ApiError(400, "Bad Request: chat not found") from None
        raise


def checked_text(params: dict, name: str, limit: int, *, required: bool) -> str | None:
    """Validate a text/caption against Telegram's rules; return it unchanged."""
    text = params.get(name)
    if text is None or text == "":
        if required:
            raise ApiError(400, "Bad Request: message text is empty")
        return None
    text = str(text)
    mode = str(params.get("parse_mode") or "").lower()
    visible = html_to_plain(text) if mode == "html" else text
    if required and not visible.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(visible) > limit:
        kind = "message" if name == "text" else "message caption"
        raise ApiError(400, f"Bad Request: {kind} is too long")
    return text


def inline_markup(params: dict) -> dict | None:
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


def bot_commands(params: dict) -> list[dict]:
    """setMyCommands' commands, checked and cleaned as Telegram does: trimmed, a leading "/" dropped."""
    commands = params.get("commands")
    if commands is None or commands == "":
        return []  # no commands: the scope's list is deleted
    if not isinstance(commands, list):
        raise ApiError(400, "Bad Request: Expected an Array of BotCommand")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise ApiError(400, "Bad Request: Can't parse BotCommand: expected an Object")
        for field in ("command", "description"):
            if not isinstance(command.get(field), str):
                raise ApiError(400, f'Bad Request: Can\'t parse BotCommand: Can\'t find field "{field}"')
        name, description = command["command"].strip().removeprefix("/"), command["description"].strip()
        if not name:
            raise ApiError(400, "Bad Request: Command must be non-empty")
        if len(name) > 32:
            raise ApiError(400, "Bad Request: Command length must not exceed 32")
        if not BOT_COMMAND_RE.fullmatch(name):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not description:
            raise ApiError(400, "Bad Request: Command description must be non-empty")
        if len(description) > MAX_COMMAND_DESCRIPTION:
            raise ApiError(400, f"Bad Request: Command description length must not exceed {MAX_COMMAND_DESCRIPTION}")
        cleaned.append({"command": name, "description": description})
    if len(cleaned) > MAX_COMMANDS:
        raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
    return cleaned


CommandScope = tuple[str, int | None, int | None]  # (type, chat id, user id)
_WIDE_SCOPES = frozenset({"default", "all_private_chats", "all_group_chats", "all_chat_administrators"})
_CHAT_SCOPES = frozenset({"chat", "chat_administrators", "chat_member"})


def command_scope(params: dict) -> CommandScope:
    """The BotCommandScope of a get/set/deleteMyCommands call (the default scope when none is given)."""
    scope = params.get("scope")
    if scope is None or scope == "":
        return ("default", None, None)

    def refuse(reason: str) -> ApiError:
        return ApiError(400, f"Bad Request: Can't parse BotCommandScope: {reason}")

    if not isinstance(scope, dict):
        raise refuse("BotCommandScope must be an Object")
    kind = scope.get("type")
    if not isinstance(kind, str):
        raise refuse('Can\'t find field "type"')
    if kind in _WIDE_SCOPES:
        return (kind, None, None)
    if kind not in _CHAT_SCOPES:
        raise refuse("Unsupported type specified")
    if scope.get("chat_id") is None:
        raise refuse('Can\'t find field "chat_id"')
    if scope["chat_id"] == "":
        raise refuse("Empty chat_id specified")
    chat_id = chat_id_of({"chat_id": scope["chat_id"]})
    if kind != "chat_member":
        return (kind, chat_id, None)
    if scope.get("user_id") is None:
        raise refuse('Can\'t find field "user_id"')
    user_id = opt_int(scope, "user_id")
    if user_id is None or user_id <= 0:
        raise refuse("Invalid user_id specified")
    return (kind, chat_id, user_id)


def command_entities(text: str) -> list[dict] | None:
    match = COMMAND_RE.match(text)
    if not match:
        return None
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group())}]


def without_none(data: dict) -> dict:
    return {key: value for key, value in data.items() if value is not None}


def json_default(value: Any) -> Any:
    if isinstance(value, Upload):
        return {"file_name": value.file_name, "mime_type": value.mime_type, "size": len(value.content)}
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


async def read_params(request: web.Request) -> dict:
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
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = value
    for key in JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            params[key] = json.loads(params[key])
    return params

