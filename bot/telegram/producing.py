"""Handlers for products of work: /product, its buttons, and the file (and the line on what it shows) that follows."""

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.domain.products import Choosing, FileAsked, LineAsked, Problem, ProductCancelled, ProductKept, UnitsToChoose
from bot.domain.sittings import IncomingMessage, Person, Stranger
from bot.telegram import keyboards
from bot.telegram import product_keyboards as product_keys
from bot.telegram.incoming import NEW_MESSAGE, OwnChatButtonHandler, person_of
from bot.telegram.work import Work, current_work


def _show(work: Work, person: Person, outcome) -> None:
    """Reply with whatever a product step led to."""
    chat = person.chat_id
    if isinstance(outcome, Stranger):
        work.reply(chat, f"{outcome.value}.html")
    elif isinstance(outcome, Problem):
        keyboard = product_keys.cancel(outcome.product_id) if outcome.product_id else None
        work.reply(chat, "product_problem.html", keyboard=keyboard, problem=outcome.problem, limit=work.limits.message_chars)
    elif isinstance(outcome, UnitsToChoose):
        work.reply(chat, "product.html", keyboard=product_keys.units(outcome.units), step="units", outcome=outcome)
    elif isinstance(outcome, Choosing):
        work.reply(chat, "product.html", keyboard=product_keys.choosing(outcome), step="choosing", outcome=outcome)
    elif isinstance(outcome, FileAsked):
        work.reply(chat, "product.html", keyboard=product_keys.cancel(outcome.product_id), step="file", outcome=outcome)
    elif isinstance(outcome, LineAsked):
        work.reply(chat, "product.html", keyboard=product_keys.cancel(outcome.product_id), step="line", outcome=outcome)
    elif isinstance(outcome, ProductKept):
        work.reply(chat, "product.html", step="kept", outcome=outcome)
    elif isinstance(outcome, ProductCancelled):
        work.reply(chat, "product.html", step="cancelled", outcome=outcome)
    else:
        raise TypeError(f"no reply for {outcome!r}")


async def product_message(work: Work, person: Person, incoming: IncomingMessage) -> bool:
    """A candidate's message while a product waits for its file or line. False when none waits."""
    outcome = work.products.take(person, incoming)
    if outcome is None:
        return False
    work.attachments_added = incoming.attachment is not None and not isinstance(outcome, Problem)
    _show(work, person, outcome)
    return True


async def product_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    _show(work, person, work.products.begin(person))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses only"
    work.answer_button(person.chat_id, query.id)
    action, number, ref = keyboards.parse(query.data) or (None, None, None)
    products = work.products
    if number is None:
        _show(work, person, Problem("not_yours"))
    elif action == product_keys.UNIT:
        _show(work, person, products.begin(person, number))
    elif action == product_keys.CRITERION and ref and query.message is not None:
        toggled = products.toggle(person, number, ref)
        if isinstance(toggled, Choosing):  # the list stays; its buttons show what is chosen
            work.edit_buttons(person.chat_id, query.message.message_id, product_keys.choosing(toggled))
        else:
            _show(work, person, toggled)
    elif action == product_keys.SEND:
        _show(work, person, products.ask_file(person, number))
    elif action == product_keys.CANCEL:
        _show(work, person, products.cancel(person, number))
    else:
        _show(work, person, Problem("not_yours"))


ACTIONS = rf"^({'|'.join(product_keys.ACTIONS)})(:|$)"


def register(application: Application) -> None:
    application.add_handler(CommandHandler("product", product_command, filters=NEW_MESSAGE))
    application.add_handler(OwnChatButtonHandler(button, pattern=ACTIONS))
