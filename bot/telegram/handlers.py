"""Handlers: translate Telegram updates into domain calls and domain outcomes into templated replies."""

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.domain.assessment import IncomingAnswer, InviteRefused, PdRefusal, Person, Stranger
from bot.telegram import keyboards
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


async def pd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), _person(update)
    choices = work.assessment.pd_choices(person)
    many_units = len({choice.unit_code for choice in choices}) > 1
    work.reply(
        person.chat_id, "pd_menu.html", keyboard=keyboards.pd_cases(choices), choices=choices, many_units=many_units
    )


async def pd_case_chosen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), _person(update), update.callback_query
    work.answer_button(person.chat_id, query.id)
    chosen = keyboards.parse_pd_case(query.data)
    outcome = work.assessment.start_pd_case(person, *chosen) if chosen else PdRefusal.NOT_ENROLLED
    if isinstance(outcome, PdRefusal):
        work.reply(person.chat_id, "pd_refused.html", refusal=outcome.value)
    else:
        work.reply(person.chat_id, "pd_started.html", prompt=outcome)


async def unknown_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), _person(update)
    work.answer_button(person.chat_id, update.callback_query.id)
    work.reply(person.chat_id, "pd_refused.html", refusal="unknown")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(update.effective_chat.id, "unknown_command.html")


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(update.effective_chat.id, "not_text.html")


async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand a handler's exception back to the pipeline, which rolls the update's transaction back."""
    current_work().failure = context.error


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=PRIVATE_MESSAGE))
    application.add_handler(CommandHandler("pd", pd, filters=PRIVATE_MESSAGE))
    application.add_handler(CallbackQueryHandler(pd_case_chosen, pattern=r"^pd:"))
    application.add_handler(CallbackQueryHandler(unknown_button))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, answer))
    application.add_handler(MessageHandler(PRIVATE_MESSAGE, not_text))
    application.add_error_handler(record_failure)
