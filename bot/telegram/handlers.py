"""Handlers: translate Telegram updates into domain calls, and domain outcomes into templated replies."""

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.domain.assessment import AssessorRegistered, InviteRefused
from bot.domain.sittings import (
    AnswerSaved,
    Edited,
    FollowUpReplied,
    NothingToFinish,
    NotKept,
    PartKept,
    Person,
    ProbeAsked,
    Prompt,
    Refusal,
    Stranger,
)
from bot.domain.submissions import Review
from bot.telegram import assessing, discussing, keyboards, menus, observing, producing, witnessing
from bot.telegram.incoming import (
    ATTACHMENT,
    EDITED_MESSAGE,
    NEW_MESSAGE,
    OwnChatButtonHandler,
    arguments_of,
    incoming_of,
    person_of,
)
from bot.telegram.work import current_work


def _show(person: Person, outcome, **extra) -> None:
    """Reply with whatever a sitting step led to."""
    work = current_work()
    if isinstance(outcome, Stranger):
        work.reply(person.chat_id, f"{outcome.value}.html")
    elif isinstance(outcome, Refusal):
        work.reply(person.chat_id, "refused.html", refusal=outcome.value)
    elif isinstance(outcome, Prompt):
        work.reply(person.chat_id, "prompt.html", keyboard=keyboards.answering(), prompt=outcome, **extra)
    elif isinstance(outcome, PartKept):
        template = "forwarded_kept.html" if outcome.forwarded_from else "part_kept.html"
        work.reply(person.chat_id, template, keyboard=keyboards.answering(), outcome=outcome)
    elif isinstance(outcome, ProbeAsked):
        work.reply(person.chat_id, "probe.html", keyboard=keyboards.answering(), outcome=outcome)
    elif isinstance(outcome, NothingToFinish):
        work.reply(person.chat_id, "nothing_to_finish.html", keyboard=keyboards.answering(), prompt=outcome.prompt)
    elif isinstance(outcome, NotKept):
        keyboard = keyboards.answering() if outcome.prompt else None
        work.reply(person.chat_id, "not_kept.html", keyboard=keyboard, outcome=outcome)
    elif isinstance(outcome, AnswerSaved):
        keyboard = keyboards.answering() if outcome.next_prompt else None
        work.reply(person.chat_id, "answer_saved.html", keyboard=keyboard, outcome=outcome)
    else:
        raise TypeError(f"no reply for {outcome!r}")


# commands
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, args = current_work(), person_of(update), arguments_of(context)
    if not args:
        if witnessing.resume(work, person):  # a witness back at their statement
            return
        resumed = work.sittings.resume(person)
        if isinstance(resumed, Prompt):
            _show(person, resumed, resumed=True)
        else:
            work.reply(person.chat_id, "start_without_code.html", enrolled=resumed is Stranger.NOTHING_OPEN)
        return
    if witnessing.is_link_code(args[0]):  # a witness's link, never an invite
        witnessing.open_link(work, person, args[0])
        return
    outcome = work.assessment.redeem_invite(person, args[0])
    if isinstance(outcome, AssessorRegistered):
        work.reply(person.chat_id, "assessor_registered.html", outcome=outcome)
        menus.queue_assessor_menu(work, person.chat_id)
    elif isinstance(outcome, InviteRefused):
        keyboard = keyboards.answering() if outcome.prompt else None
        work.reply(person.chat_id, "invite_refused.html", keyboard=keyboard, outcome=outcome)
    else:
        work.reply(person.chat_id, "enrolled.html", keyboard=keyboards.answering(), outcome=outcome, name=person.name)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    work.reply(person.chat_id, "assessor.html" if work.judging.assessor(person) else "help.html")


async def continue_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    person = person_of(update)
    _show(person, current_work().sittings.resume(person), resumed=True)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    paused = work.sittings.pause(person)
    work.reply(person.chat_id, "paused.html", keyboard=keyboards.carry_on(), was_sitting=paused)


async def units(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    work.reply(person.chat_id, "units.html", units=work.submissions.progress(person))


async def case(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/case: the kinds of real case a candidate can write up (not a professional discussion: an assessor leads that)."""
    work, person = current_work(), person_of(update)
    choices = work.sittings.pd_choices(person)
    many_units = len({choice.unit_code for choice in choices}) > 1
    work.reply(person.chat_id, "case_menu.html", keyboard=keyboards.cases(choices), choices=choices, many_units=many_units)


async def review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    person = person_of(update)
    _show_review(person, current_work().submissions.review(person))


def _show_review(person: Person, outcome) -> None:
    if isinstance(outcome, Review):
        current_work().reply(person.chat_id, "review.html", keyboard=keyboards.review(outcome), review=outcome)
    else:
        _show(person, outcome)


async def reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    paused = work.sittings.reminders(person)
    if isinstance(paused, Stranger):
        _show(person, paused)
    else:
        work.reply(person.chat_id, "reminders.html", keyboard=keyboards.reminders(paused), paused=paused, changed=False)


# messages
async def message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None, "registered for new messages"
    work, person, incoming = current_work(), person_of(update), incoming_of(update, update.message)
    if await observing.observation_message(work, person, incoming):  # an observation being recorded takes them all
        return
    if await assessing.assessor_message(work, person, incoming.text, incoming.attachment):
        return
    if await witnessing.witness_message(work, person, incoming):  # a witness's details, or their statement
        return
    if await discussing.discussion_message(work, person, incoming):
        return
    if await producing.product_message(work, person, incoming):
        return
    outcome = work.sittings.take_message(person, incoming)
    if isinstance(outcome, FollowUpReplied):
        work.reply(person.chat_id, "follow_up_replied.html", outcome=outcome)
        if outcome.assessor_chat_id is not None:
            work.reply(outcome.assessor_chat_id, "follow_up_reply.html", outcome=outcome)
        return
    work.attachments_added = isinstance(outcome, PartKept) and incoming.attachment is not None
    _show(person, outcome)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.edited_message is not None, "registered for edited messages"
    work, person = current_work(), person_of(update)
    if witnessing.witness_edit(work, person):
        return
    outcome = work.sittings.edit(person, incoming_of(update, update.edited_message))
    if outcome is None:
        return  # an edit of a message that was not part of an answer changes no evidence
    if isinstance(outcome, Stranger | NotKept):
        _show(person, outcome)
    else:
        work.reply(person.chat_id, "edited.html", edited=outcome if isinstance(outcome, Edited) else None,
                   problem=None if isinstance(outcome, Edited) else outcome.value)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(person_of(update).chat_id, "not_text.html")


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    current_work().reply(person_of(update).chat_id, "unknown_command.html")


# buttons
async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses"
    work.answer_button(person.chat_id, query.id)
    action, number, name = keyboards.parse(query.data) or (None, None, None)
    sittings = work.sittings
    if action == keyboards.DONE:
        _show(person, sittings.finish(person))
    elif action == keyboards.SKIP:
        _show(person, sittings.skip(person))
    elif action == keyboards.AGAIN:
        _show(person, sittings.current(person))
    elif action == keyboards.CONTINUE:
        _show(person, sittings.resume(person), resumed=True)
    elif action in (keyboards.CASE, keyboards.OLD_CASE) and number and name:  # OLD_CASE: buttons sent before /case
        _show(person, sittings.start_pd_case(person, number, name), case_start=True)
    elif action == keyboards.CHANGE and number:
        _show(person, work.submissions.reanswer(person, number), reanswer=True)
    elif action == keyboards.SUBMIT and number:
        asked = work.submissions.ask_declaration(person, number)
        if isinstance(asked, Refusal):
            _show(person, asked)
        else:
            work.reply(person.chat_id, "declaration.html", keyboard=keyboards.declaration(number), asked=asked)
    elif action == keyboards.CANCEL_DECLARATION:
        _show_review(person, work.submissions.cancel_declaration(person))
    elif action == keyboards.CONFIRM and number:
        submitted = work.submissions.submit(person, number)
        if isinstance(submitted, Refusal):
            _show(person, submitted)
        else:
            work.reply(person.chat_id, "submitted.html", submitted=submitted)
    elif action in (keyboards.PAUSE_REMINDERS, keyboards.RESUME_REMINDERS):
        paused = sittings.reminders(person, paused=action == keyboards.PAUSE_REMINDERS)
        if isinstance(paused, Stranger):
            _show(person, paused)
        else:
            work.reply(person.chat_id, "reminders.html", keyboard=keyboards.reminders(paused), paused=paused, changed=True)
    else:
        _show(person, Refusal.NOT_YOURS)


async def foreign_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button pressed anywhere but the presser's own chat with the bot (a group, a forged chat): refused in
    their own chat, and nothing done."""
    work, person = current_work(), person_of(update)
    assert update.callback_query is not None, "registered for button presses"
    work.answer_button(person.chat_id, update.callback_query.id)
    work.reply(person.chat_id, "foreign_button.html")


async def record_failure(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hand a handler's exception back to the pipeline, which rolls the update's transaction back."""
    current_work().failure = context.error


COMMANDS = {
    "help": help_command,
    "continue": continue_command,
    "cancel": cancel,
    "units": units,
    "case": case,
    "review": review,
    "reminders": reminders,
}


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start, filters=NEW_MESSAGE))
    for name, callback in COMMANDS.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    assessing.register(application)  # before the catch-alls below
    discussing.register(application)
    producing.register(application)
    observing.register(application)
    witnessing.register(application)
    application.add_handler(MessageHandler(NEW_MESSAGE & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(NEW_MESSAGE & (filters.TEXT | ATTACHMENT), message))
    application.add_handler(MessageHandler(NEW_MESSAGE, not_text))
    application.add_handler(MessageHandler(EDITED_MESSAGE & (filters.TEXT | filters.CAPTION), edited))
    application.add_handler(OwnChatButtonHandler(button))
    application.add_handler(CallbackQueryHandler(foreign_button))  # every press the handlers above would not take
    application.add_error_handler(record_failure)
