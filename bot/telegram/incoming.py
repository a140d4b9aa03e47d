"""Reading Telegram updates into the domain's terms: who is talking, and what they sent.

Only a person's own private chat with the bot counts: its id is their user id, so a person's chat is
always taken from who sent the update, never from the chat a button's message names (a forged press
could name another person's chat, or a group). Messages from anywhere else are not handled at all.

Text is made storable here, once: a NUL (which PostgreSQL's text columns refuse), any other control
character but tab, newline and carriage return, and a lone UTF-16 surrogate (which has no UTF-8 form) each
become a visible stand-in (the control's picture, e.g. U+2400 ␀ for NUL; U+FFFD � for a surrogate), and the
message is marked as cleaned.
"""

import re

from telegram import (
    CallbackQuery,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, ContextTypes, filters

from bot.domain.sittings import ForwardOrigin, IncomingAttachment, IncomingMessage, Person


class _OwnChat(filters.MessageFilter):
    """A message in the sender's own private chat with the bot."""

    def filter(self, message: Message) -> bool:
        return _is_own_chat(message, message.from_user)


OWN_CHAT = _OwnChat(name="OWN_CHAT")
NEW_MESSAGE = OWN_CHAT & filters.UpdateType.MESSAGE
EDITED_MESSAGE = OWN_CHAT & filters.UpdateType.EDITED_MESSAGE
ATTACHMENT = filters.VOICE | filters.AUDIO | filters.PHOTO | filters.Document.ALL | filters.VIDEO | filters.VIDEO_NOTE


class OwnChatButtonHandler(CallbackQueryHandler):
    """A CallbackQueryHandler for buttons pressed in the presser's own private chat with the bot only."""

    def check_update(self, update: object):
        if not (isinstance(update, Update) and update.callback_query and _own_chat_button(update.callback_query)):
            return False
        return super().check_update(update)


def _own_chat_button(query: CallbackQuery) -> bool:
    return query.message is not None and _is_own_chat(query.message, query.from_user)


def _is_own_chat(message, user) -> bool:
    chat = message.chat
    return user is not None and chat.type == ChatType.PRIVATE and chat.id == user.id


_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _stand_in(match: re.Match) -> str:
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\ufffd"


def cleaned(text: str | None) -> tuple[str | None, bool]:
    """The text with each character no database can hold replaced by a visible stand-in; True if any was."""
    if text is None:
        return None, False
    storable, replaced = _UNSTORABLE.subn(_stand_in, text)
    return storable, replaced > 0


def _clean(text: str | None) -> str | None:
    return cleaned(text)[0]


def sender_of(update: Update) -> int | None:
    """Who sent an update in their own private chat with the bot (a message, an edit or a button); None if
    it came from anywhere else."""
    message, user = update.effective_message, update.effective_user
    if user is None:  # channel posts and the like
        return None
    if update.callback_query is not None:
        return user.id if _own_chat_button(update.callback_query) else None
    return user.id if message is not None and _is_own_chat(message, user) else None


def person_of(update: Update) -> Person:
    user = update.effective_user
    assert user is not None, "handlers see only updates that `sender_of` let through"
    return Person(user_id=user.id, chat_id=user.id, name=_clean(user.full_name) or "")


def arguments_of(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    """A command's words after the command (e.g. the invite code of /start CODE)."""
    return [_clean(word) or "" for word in context.args or []]


def incoming_of(update: Update, message: Message) -> IncomingMessage:
    text, text_cleaned = cleaned(message.text or message.caption)
    return IncomingMessage(
        text=text,
        chat_id=message.chat_id,
        message_id=message.message_id,
        update_id=update.update_id,
        sent_at=message.edit_date or message.date,
        attachment=attachment_of(message),
        forwarded_from=forwarded_from(message),
        text_cleaned=text_cleaned,
    )


def forwarded_from(message: Message) -> ForwardOrigin | None:
    origin = message.forward_origin
    if origin is None:
        return None
    name: str | None
    if isinstance(origin, MessageOriginUser):
        name = origin.sender_user.full_name
    elif isinstance(origin, MessageOriginHiddenUser):
        name = origin.sender_user_name
    elif isinstance(origin, MessageOriginChat):
        name = origin.sender_chat.title
    elif isinstance(origin, MessageOriginChannel):
        name = origin.chat.title
    else:
        name = None
    return ForwardOrigin(kind=str(origin.type), name=_clean(name), date=origin.date)


def attachment_of(message: Message) -> IncomingAttachment | None:
    for kind in ("voice", "audio", "document", "video", "video_note"):
        media = getattr(message, kind)
        if media is not None:
            return IncomingAttachment(
                kind=kind,
                file_id=media.file_id,
                file_unique_id=media.file_unique_id,
                file_size=media.file_size,
                duration=_seconds(getattr(media, "duration", None)),
                mime_type=_clean(getattr(media, "mime_type", None)),
                file_name=_clean(getattr(media, "file_name", None)),
            )
    if message.photo:
        largest = message.photo[-1]
        return IncomingAttachment("photo", largest.file_id, largest.file_unique_id, largest.file_size)
    return None


def _seconds(duration) -> int | None:
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else duration
