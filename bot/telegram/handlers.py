"""Handlers: translate Telegram updates into domain calls and domain outcomes into templated replies."""

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.domain.assessment import IncomingAnswer, InviteRefused, Person, Stranger
from bot.telegram.work import current_work

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def _person(update: Update) -> Person:
    user = update.effective_user
    return Person(user_id=user.id, chat_id=update.effective_chat.id, name=user.full_name)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), _person(update)
    if not context.args:
        work.reply(person.chat_id, "start_without_code.html")
        return
    outcome = work.assessment.redeem_invite(person, context.args[0])
    template = "invite_refused.html" if isinstance(outcome, InviteRefused) else "enrolled.html"
    work.reply(person.chat_id, template, outcome=outcome, name=person.name)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, message = current_work(), _person(update), update.message
    outcome = work.assessment.record_answer(
        person,
        IncomingAnswer(
            text=message.text,
            chat_id=message.chat_id,
            message_id=message.message_id,
            update_id=update.update_id,
            sent_at=message.date,
        ),
    )
    if isinstance(outcome, Stranger):
        work.reply(person.chat_id, f"{outcome.value}.html")
    else:
        work.reply(person.chat_id, "answer_saved.html", outcome=outcome)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(update.effective_chat.id, "unknown_command.html")


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(update.effective_chat.id, "not_text.html")


async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand a handler's exception back to the pipeline, which rolls the update's transaction back."""
    current_work().failure = context.error


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=PRIVATE_MESSAGE))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, answer))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, not_text))
    application.add_error_handler(record_failure)
