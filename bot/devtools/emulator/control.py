"""The control API under /_emu/: how a test, the demo or the terminal chat plays the users."""

from __future__ import annotations

import base64
import binascii
import json
import os

from aiohttp import web

from bot.devtools.emulator.rules import json_default
from bot.devtools.emulator.state import EmulatorState, forward_origin


class ControlApi(EmulatorState):
    @staticmethod
    def _ctl_error(err: Exception) -> web.Response:
        return web.json_response({"error": f"{type(err).__name__}: {err}"}, status=400)

    async def _ctl_message(self, request: web.Request) -> web.Response:
        """A text message; optionally in another chat (``chat_id``: a group, or a forged one) or forwarded
        (``forwarded``: {"kind": "user" | "hidden_user" | "chat" | "channel", "name": ..., "date": unix time})."""
        try:
            body = await request.json()
            user_id, text = int(body["user_id"]), str(body["text"])
            forwarded = body.get("forwarded")
            origin = None
            if forwarded:
                origin = forward_origin(str(forwarded["kind"]), str(forwarded["name"]), int(forwarded["date"]))
            update = await self.post_message(
                user_id, text, first_name=body.get("first_name", "Test"), chat_id=_opt_chat(body), forward_origin=origin
            )
        except (KeyError, TypeError, ValueError) as err:
            return self._ctl_error(err)
        return web.json_response(update)

    async def _ctl_callback(self, request: web.Request) -> web.Response:
        """A button press; with ``chat_id``, a forged one claiming a message of that chat."""
        try:
            body = await request.json()
            update = await self.press_button(
                int(body["user_id"]), int(body["message_id"]), str(body["data"]), chat_id=_opt_chat(body)
            )
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
        return web.json_response(text=json.dumps({"calls": calls}, default=json_default))


def _opt_chat(body: dict) -> int | None:
    return None if body.get("chat_id") is None else int(body["chat_id"])

