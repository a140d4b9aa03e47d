"""The command menus: everyone's (Telegram's default scope), and the assessors' own, set for each assessor's chat."""

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.rendering import assessor_command_menu, command_menu
from bot.storage.db import transaction
from bot.storage.models import Assessor
from bot.storage.outbox import queue_call
from bot.telegram.work import Work

SET_MY_COMMANDS = "setMyCommands"


def default_menu() -> list[tuple[str, str]]:
    return list(command_menu().items())


def assessor_menu(chat_id: int) -> dict:
    """setMyCommands parameters for the assessors' menu in one assessor's chat."""
    commands = [{"command": name, "description": text} for name, text in assessor_command_menu().items()]
    return {"commands": commands, "scope": {"type": "chat", "chat_id": chat_id}}


def queue_assessor_menu(work: Work, chat_id: int) -> None:
    work.call(chat_id, SET_MY_COMMANDS, assessor_menu(chat_id))


def queue_assessor_menus(engine: Engine) -> None:
    """At start: every assessor's menu, through the outbox (paced, retried, and a refusal logged, never fatal).
    An assessor added with `nvqbot assessor add` gets theirs here, at the next start: their chat with the bot
    is their user id."""
    with transaction(engine) as session:
        assessors = session.exec(select(col(Assessor.chat_id), col(Assessor.telegram_user_id))).all()
        for chat_id, user_id in assessors:
            chat = chat_id or user_id
            queue_call(session, chat, SET_MY_COMMANDS, assessor_menu(chat), paced=True)
