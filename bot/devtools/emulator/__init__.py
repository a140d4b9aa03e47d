"""A Telegram Bot API emulator on loopback, for tests and offline demos.

Point a real python-telegram-bot ``Bot`` at it with
``Bot(token, base_url=emu.base_url, base_file_url=emu.base_file_url)``, simulate users with
``post_message`` / ``press_button`` / ``post_voice`` ..., and inspect what the bot did through
``calls`` and ``sent_messages()``.

It refuses what Telegram refuses: texts over 4,096 characters (captions 1,024), bad Telegram HTML, bad
keyboards, a second getUpdates while one is open (409 Conflict), getFile of a file over 20 MB, command menus
Telegram would not take. Tests can make calls fail (``fail_next``) or hang (``delay_next``,
``delay_download``), play users who write from groups, forge a button's chat, or forward messages, and see
the command menu a person sees in their chat (``menu_for``: scopes fall back as in Telegram).

Texts are stored exactly as the bot sent them (HTML tags included). With parse_mode HTML they are
checked like Telegram does (every "<" starts a tag; only Telegram's tags, properly nested), but
not converted to entities.

The modules: ``rules`` (what the Bot API checks), ``state`` (what the emulator holds, inspection, faults,
the simulated users), ``bot_api`` (the Bot API methods and the file server), ``control`` (the control API
under ``/_emu/``), ``server`` (the whole server), ``thread`` (on a background thread, for sync code).
"""

from bot.devtools.emulator.rules import MAX_CAPTION, MAX_DOWNLOAD, MAX_TEXT, ApiError, Upload
from bot.devtools.emulator.server import BotApiEmulator
from bot.devtools.emulator.state import StoredFile, forward_origin
from bot.devtools.emulator.thread import EmulatorThread

__all__ = [
    "MAX_CAPTION", "MAX_DOWNLOAD", "MAX_TEXT", "ApiError", "BotApiEmulator", "EmulatorThread", "StoredFile", "Upload",
    "forward_origin",
]
