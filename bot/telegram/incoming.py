"""Reading Telegram updates into the domain's terms: who is talking, and what they sent."""

from telegram import Message, Update
from telegram.ext import filters

from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person

PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = PRIVATE & filters.UpdateType.MESSAGE
ATTACHMENT = filters.VOICE | filters.AUDIO | filters.PHOTO | filters.Document.ALL | filters.VIDEO | filters.VIDEO_NOTE


def person_of(update: Update) -> Person:
    user = update.effective_user
    return Person(user_id=user.id, chat_id=update.effective_chat.id, name=user.full_name)


def incoming_of(update: Update, message: Message) -> IncomingMessage:
    return IncomingMessage(
        text=message.text or message.caption,
        chat_id=message.chat_id,
        message_id=message.message_id,
        update_id=update.update_id,
        sent_at=message.edit_date or message.date,
        attachment=attachment_of(message),
    )


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
                mime_type=getattr(media, "mime_type", None),
                file_name=getattr(media, "file_name", None),
            )
    if message.photo:
        largest = message.photo[-1]
        return IncomingAttachment("photo", largest.file_id, largest.file_unique_id, largest.file_size)
    return None


def _seconds(duration) -> int | None:
    return int(duration.total_seconds()) if hasattr(duration, "total_seconds") else duration
