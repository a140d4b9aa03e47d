"""The Bot API methods nvqbot uses, and the file server, served as Telegram serves them."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
from pathlib import PurePosixPath

from aiohttp import web

from bot.devtools.emulator.rules import (
    CONFLICT,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    MAX_TEXT,
    ApiError,
    Upload,
    bot_commands,
    chat_id_of,
    checked_text,
    command_scope,
    flag,
    inline_markup,
    json_default,
    opt_int,
    read_params,
    req_int,
    without_none,
)
from bot.devtools.emulator.state import EmulatorState, _Sent

log = logging.getLogger("bot.devtools.emulator")
# What a copied message keeps of its original (its sender, date and forward origin are the copy's own).
_COPIED = ("text", "entities", "caption", "caption_entities", "voice", "audio", "photo", "document", "video", "video_note")


class BotApi(EmulatorState):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._methods = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "copymessage": self._copy_message,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "getfile": self._get_file,
        }

    async def _handle_api(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if token not in self.tokens:
            self.tokens.append(token)
        try:
            params = await read_params(request)
        except ValueError as err:
            return web.json_response(ApiError(400, f"Bad Request: can't parse request: {err}").payload(), status=400)
        call = {"method": method, "params": params, "time": time.time(), "token": token, "error": None}
        self.calls.append(call)
        log.info("%s %s", method, json.dumps(params, default=json_default)[:200])
        try:
            result = await self._serve_call(token, method, params)
        except ApiError as err:
            call["error"] = err.description
            return web.json_response(err.payload(), status=err.code)
        return web.json_response({"ok": True, "result": result})

    async def _serve_call(self, token: str, method: str, params: dict):
        if delay := self._delay_for(method, params):
            await asyncio.sleep(delay)
        if fault := self._fault_for(method, params):
            raise fault
        handler = self._methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        if method.lower() != "getupdates":
            return await handler(params)
        # Like Telegram: one getUpdates at a time per bot; another while one is open is refused.
        if token in self._polling:
            raise ApiError(409, CONFLICT)
        self._polling.add(token)
        try:
            return await handler(params)
        finally:
            self._polling.discard(token)

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        if stored.download_delay:
            await asyncio.sleep(stored.download_delay)
        self.downloads.append(stored.file_path)
        return web.Response(
            body=stored.content, headers={"Content-Type": stored.mime_type or "application/octet-stream"}
        )

    async def _get_me(self, params: dict) -> dict:
        return self.bot_user

    async def _get_updates(self, params: dict) -> list[dict]:
        offset = opt_int(params, "offset")
        limit = min(max(opt_int(params, "limit") or 100, 1), 100)
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
                try:  # asyncio.timeout: wait_for on Python 3.11 can lose a cancellation
                    async with asyncio.timeout(remaining):
                        await self._updates_changed.wait()
                except TimeoutError:
                    break
        return copy.deepcopy(self._updates[:limit])

    async def _delete_webhook(self, params: dict) -> bool:
        if flag(params, "drop_pending_updates"):
            self._updates.clear()
        return True

    async def _send_chat_action(self, params: dict) -> bool:
        chat_id_of(params)
        if not params.get("action"):
            raise ApiError(400, "Bad Request: action is empty")
        return True

    async def _send_message(self, params: dict) -> dict:
        chat_id = chat_id_of(params)
        text = checked_text(params, "text", MAX_TEXT, required=True)
        return await self._record_sent(chat_id, text=text, reply_markup=inline_markup(params))

    async def _send_document(self, params: dict) -> dict:
        chat_id = chat_id_of(params)
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
        caption = checked_text(params, "caption", MAX_CAPTION, required=False)
        doc = without_none({**stored.meta(), "file_name": stored.file_name, "mime_type": stored.mime_type})
        return await self._record_sent(chat_id, document=doc, caption=caption, reply_markup=inline_markup(params))


    async def _copy_message(self, params: dict) -> dict:
        """A copy of a message (the user's or the bot's) sent to another chat, without a link to the original; as
        Telegram does, it answers with the new message's id only."""
        chat_id = chat_id_of(params)
        source_chat, source_id = req_int(params, "from_chat_id"), req_int(params, "message_id")
        sent = self._sent_by_key.get((source_chat, source_id))
        source = sent.message if sent else self._user_messages.get((source_chat, source_id))
        if source is None:
            raise ApiError(400, "Bad Request: message to copy not found")
        content = {key: copy.deepcopy(source[key]) for key in _COPIED if key in source}
        if "caption" in params:
            content["caption"] = checked_text(params, "caption", MAX_CAPTION, required=False)
        copied = await self._record_sent(chat_id, **content, reply_markup=inline_markup(params))
        return {"message_id": copied["message_id"]}

    def _editable(self, params: dict) -> _Sent:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not emulated")
        key = (chat_id_of(params), req_int(params, "message_id"))
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
        text = checked_text(params, "text", MAX_TEXT, required=True)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        return await self._apply_edit(entry, {"text": text, "reply_markup": inline_markup(params)})

    async def _edit_message_reply_markup(self, params: dict) -> dict:
        entry = self._editable(params)
        return await self._apply_edit(entry, {"reply_markup": inline_markup(params)})

    async def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = {
            key: params[key] for key in ("text", "show_alert", "url", "cache_time") if key in params
        }
        return True

    async def _set_my_commands(self, params: dict) -> bool:
        commands = bot_commands(params)
        key = (command_scope(params), str(params.get("language_code") or ""))
        if commands:
            self._commands[key] = commands
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict) -> list:
        # Like Telegram: the list set for exactly this scope and language, or none (what a person sees in a
        # chat falls back to wider scopes: menu_for).
        key = (command_scope(params), str(params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _get_file(self, params: dict) -> dict:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD:
            raise ApiError(400, "Bad Request: file is too big")
        return {**stored.meta(), "file_path": stored.file_path}

