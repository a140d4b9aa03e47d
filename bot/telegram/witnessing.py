"""Handlers for witness testimony: /witness to name a witness (the unit, their details, the criteria they saw, the
link), the witness's /start with their link, their statement, Done and declaration."""

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.domain.assessor_work import Denied
from bot.domain.sittings import IncomingMessage, Person
from bot.domain.witness_requests import ChooseUnit, ChoosingCriteria, DetailsAsked, LinkMade, NamingCancelled
from bot.domain.witness_statements import DeclarationShown, StatementConfirmed, StatementKept, WitnessAsked
from bot.domain.witnesses import WitnessProblem, is_link_code
from bot.rendering import telegram_text
from bot.telegram import keyboards
from bot.telegram import witness_keyboards as wt_keys
from bot.telegram.incoming import NEW_MESSAGE, OwnChatButtonHandler, person_of
from bot.telegram.work import Work, current_work

__all__ = ["is_link_code", "open_link", "register", "resume", "witness_edit", "witness_message"]


def _show(work: Work, person: Person, outcome, username: str | None = None) -> None:
    """Reply with whatever a witness step led to; tell the candidate and the assessor where it concerns them."""
    chat = person.chat_id
    if isinstance(outcome, Denied):
        work.reply(chat, "denied.html", denied=outcome.value)
    elif isinstance(outcome, WitnessProblem):
        work.reply(chat, "wt_problem.html", problem=outcome.value, limit=work.limits.message_chars,
                   parts=work.limits.parts_per_answer)
    elif isinstance(outcome, ChooseUnit):
        work.reply(chat, "wt_units.html", keyboard=wt_keys.units(outcome), choose=outcome)
    elif isinstance(outcome, DetailsAsked):
        work.reply(chat, "wt_details.html", keyboard=wt_keys.cancel(outcome.witness_id), asked=outcome)
    elif isinstance(outcome, ChoosingCriteria):
        work.reply(chat, "wt_criteria.html", keyboard=wt_keys.criteria(outcome), choosing=outcome)
    elif isinstance(outcome, LinkMade):
        work.reply(chat, "wt_link.html", link=outcome)
        work.reply(chat, "wt_invitation.html", link=outcome, username=username or "")  # the message to forward
    elif isinstance(outcome, WitnessAsked):
        work.reply(chat, "wt_asked.html", keyboard=wt_keys.writing(outcome.witness_id), asked=outcome)
    elif isinstance(outcome, StatementKept):
        work.reply(chat, "wt_part_kept.html", keyboard=wt_keys.writing(outcome.witness_id), kept=outcome)
    elif isinstance(outcome, DeclarationShown):
        work.reply(chat, "wt_declaration.html", keyboard=wt_keys.declaration(outcome.witness_id), shown=outcome)
    elif isinstance(outcome, StatementConfirmed):
        work.reply(chat, "wt_confirmed.html", confirmed=outcome, audience="witness")
        work.reply(outcome.candidate_chat_id, "wt_confirmed.html", confirmed=outcome, audience="candidate")
        if outcome.assessor_chat_id is not None:
            work.reply(outcome.assessor_chat_id, "wt_confirmed.html", confirmed=outcome, audience="assessor",
                       keyboard=wt_keys.to_judge(outcome.submission_id))
    elif isinstance(outcome, NamingCancelled):
        work.reply(chat, "wt_cancelled.html", cancelled=outcome)
    else:
        raise TypeError(f"no reply for {outcome!r}")


def open_link(work: Work, person: Person, code: str) -> None:
    """/start wt-…: a witness opens their link."""
    _show(work, person, work.witness_statements.open(person, code))


def resume(work: Work, person: Person) -> bool:
    """/start without a code from someone giving a statement: what they were asked, again. False if they are not."""
    asked = work.witness_statements.again(person)
    if asked is None:
        return False
    _show(work, person, asked)
    return True


async def witness_message(work: Work, person: Person, incoming: IncomingMessage) -> bool:
    """A message that belongs to witness testimony: a witness's details being named, or a part of a statement.
    False when it is neither, for the other handlers."""
    if (draft := work.witness_requests.naming(person)) is not None and draft.id is not None:
        outcome = work.witness_requests.take_details(person, incoming)
        if outcome is WitnessProblem.BAD_DETAILS:
            work.reply(person.chat_id, "wt_problem.html", keyboard=wt_keys.cancel(draft.id), problem=outcome.value,
                       limit=work.limits.message_chars, parts=work.limits.parts_per_answer)
        else:
            _show(work, person, outcome)
        return True
    kept = work.witness_statements.take(person, incoming)
    if kept is None:
        return False
    work.attachments_added = isinstance(kept, StatementKept) and incoming.attachment is not None
    _show(work, person, kept)
    return True


def witness_edit(work: Work, person: Person) -> bool:
    """An edit from someone giving a statement: it stays as it was sent (they are told). False if they are not."""
    problem = work.witness_statements.edited(person)
    if problem is None:
        return False
    _show(work, person, problem)
    return True


async def witness_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/witness: name someone who saw the candidate work."""
    work, person = current_work(), person_of(update)
    _show(work, person, work.witness_requests.name(person))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses only"
    work.answer_button(person.chat_id, query.id)
    action, number, ref = keyboards.parse(query.data) or (None, None, None)
    if number is None:  # every witness button names what it acts on
        _show(work, person, Denied.NOT_YOURS)
        return
    requests, statements = work.witness_requests, work.witness_statements
    if action == wt_keys.UNIT:
        _show(work, person, requests.begin(person, number))
    elif action == wt_keys.CRITERION and ref and query.message is not None:
        toggled = requests.toggle(person, number, ref)
        if isinstance(toggled, ChoosingCriteria):  # the list stays; its buttons show what is chosen
            work.edit_buttons(person.chat_id, query.message.message_id, wt_keys.criteria(toggled))
        else:
            _show(work, person, toggled)
    elif action == wt_keys.LINK:
        _show(work, person, requests.make_link(person, number), username=context.bot.username)
    elif action == wt_keys.CANCEL:
        _show(work, person, requests.cancel(person, number))
    elif action == wt_keys.DONE:
        _show(work, person, statements.finish(person, number))
    elif action == wt_keys.BACK:
        _show(work, person, statements.back(person, number))
    elif action == wt_keys.CONFIRM:
        statement = telegram_text("wt_statement.html")
        _show(work, person, statements.confirm(person, number, statement))
    else:
        _show(work, person, Denied.NOT_YOURS)


ACTIONS = rf"^({'|'.join(wt_keys.ACTIONS)})(:|$)"


def register(application: Application) -> None:
    application.add_handler(CommandHandler("witness", witness_command, filters=NEW_MESSAGE))
    application.add_handler(OwnChatButtonHandler(button, pattern=ACTIONS))
