"""Handlers for professional discussions: /pd to plan and start one, /note, the relay of messages while one is
live, the buttons that reference criteria, pause, resume and end it, and the candidate's confirmation."""

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.domain.assessor_work import Denied
from bot.domain.discussion_plans import Plan, Planning, PlanProblem, TimeAsked
from bot.domain.discussion_work import (
    Confirmed,
    DiscussionProblem,
    DiscussionRecord,
    Held,
    NoteKept,
    OtherCriteria,
    Referenced,
    Relay,
    Started,
)
from bot.domain.records import Disputed
from bot.domain.sittings import IncomingMessage, Person
from bot.rendering import telegram_text
from bot.telegram import discussion_keyboards as pd_keys
from bot.telegram import keyboards
from bot.telegram.incoming import NEW_MESSAGE, OwnChatButtonHandler, arguments_of, person_of
from bot.telegram.work import Work, current_work


def _show(work: Work, person: Person, outcome) -> None:
    """Reply with whatever a discussion step led to; tell the other person where it concerns them."""
    chat = person.chat_id
    if isinstance(outcome, Denied):
        work.reply(chat, "denied.html", denied=outcome.value)
    elif isinstance(outcome, PlanProblem | DiscussionProblem):
        work.reply(chat, "pd_problem.html", problem=outcome.value, limit=work.limits.message_chars)
    elif isinstance(outcome, Planning):
        work.reply(chat, "pd_planning.html", keyboard=pd_keys.planning(outcome), plan=outcome)
    elif isinstance(outcome, TimeAsked):
        work.reply(chat, "pd_time_asked.html", asked=outcome)
    elif isinstance(outcome, Plan):
        work.reply(outcome.candidate_chat_id, "pd_plan.html", plan=outcome, audience="candidate")
        if outcome.assessor_chat_id is not None:
            work.reply(outcome.assessor_chat_id, "pd_plan.html", plan=outcome, audience="assessor",
                       keyboard=pd_keys.start(outcome.discussion_id, outcome.ref, outcome.candidate))
    elif isinstance(outcome, Started):
        work.reply(outcome.candidate_chat_id, "pd_started.html", started=outcome, audience="candidate")
        work.reply(chat, "pd_started.html", started=outcome, audience="assessor",
                   keyboard=pd_keys.controls(outcome.discussion_id, paused=False))
    elif isinstance(outcome, Held):
        work.reply(outcome.candidate_chat_id, "pd_held.html", held=outcome, audience="candidate")
        work.reply(chat, "pd_held.html", held=outcome, audience="assessor",
                   keyboard=pd_keys.controls(outcome.discussion_id, paused=outcome.paused))
    elif isinstance(outcome, DiscussionRecord):
        work.reply(chat, "pd_ended.html", record=outcome)
        work.reply(outcome.candidate_chat_id, "pd_record.html", keyboard=pd_keys.record(outcome.discussion_id),
                   record=outcome, lines=outcome.shown_to_candidate(), zone=work.discussion_plans.zone)
    elif isinstance(outcome, NoteKept):
        work.reply(chat, "pd_note_kept.html", note=outcome)
    elif isinstance(outcome, Confirmed):
        work.reply(chat, "pd_confirmed.html", confirmed=outcome, audience="candidate")
        if outcome.assessor_chat_id is not None:
            work.reply(outcome.assessor_chat_id, "pd_confirmed.html", confirmed=outcome, audience="assessor",
                       keyboard=pd_keys.to_judge(outcome.submission_id))
    elif isinstance(outcome, Disputed):
        work.reply(chat, "pd_disputed.html", disputed=outcome, audience="candidate")
        if outcome.assessor_chat_id is not None:
            work.reply(outcome.assessor_chat_id, "pd_disputed.html", disputed=outcome, audience="assessor")
    else:
        raise TypeError(f"no reply for {outcome!r}")


def _relay(work: Work, relay: Relay) -> None:
    """Pass a message on: text as a message naming who said it, a file (a voice note, a photo) as its copy. The
    assessor's copy of the candidate's message carries the criteria to reference at it."""
    keyboard = pd_keys.references(relay.part_id, relay.buttons) if relay.to_assessor else None
    if relay.attachment_kind is None:
        work.reply(relay.to_chat_id, "pd_relay.html", keyboard=keyboard, relay=relay)
        return
    params: dict = {"chat_id": relay.to_chat_id, "from_chat_id": relay.from_chat_id, "message_id": relay.message_id}
    if keyboard is not None:
        params["reply_markup"] = keyboard.to_dict()
    work.reply(relay.to_chat_id, "pd_relay.html", relay=relay)  # who is speaking, before their file
    work.call(relay.to_chat_id, "copyMessage", params)
    work.attachments_added = True


async def discussion_message(work: Work, person: Person, incoming: IncomingMessage) -> bool:
    """A message that belongs to a discussion: the time of one being planned, or a message while one is held.
    False when it is neither, for the other handlers."""
    if work.discussion_plans.awaiting_time(person):
        _show(work, person, work.discussion_plans.take_time(person, incoming.text))
        return True
    outcome = work.discussions.take(person, incoming)
    if outcome is None:
        return False
    if isinstance(outcome, Relay):
        _relay(work, outcome)
    else:
        _show(work, person, outcome)
    return True


async def pd_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pd: an assessor's discussions (start one planned, plan another); a candidate used to /pd gets the case menu."""
    work, person = current_work(), person_of(update)
    found = work.discussion_plans.choices(person)
    if found is Denied.NOT_AN_ASSESSOR:
        from bot.telegram import handlers  # a candidate's command, in the candidates' handlers

        await handlers.case(update, context)
        return
    if isinstance(found, Denied):
        _show(work, person, found)
        return
    candidates, upcoming = found
    held = work.discussions.held_for(person)
    work.reply(person.chat_id, "pd_choices.html", keyboard=pd_keys.choices(candidates, upcoming),
               candidates=candidates, upcoming=upcoming, zone=work.discussion_plans.zone)
    if held is not None and held.id is not None:
        work.reply(person.chat_id, "pd_controls.html", keyboard=pd_keys.controls(held.id, held.status == "paused"),
                   ref=f"PD{held.number}", paused=held.status == "paused")


async def note_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    text = " ".join(arguments_of(context)).strip()
    if not text:
        work.reply(person.chat_id, "pd_problem.html", problem="empty_note", limit=work.limits.message_chars)
        return
    _show(work, person, work.discussions.note(person, text))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses only"
    work.answer_button(person.chat_id, query.id)
    action, number, ref = keyboards.parse(query.data) or (None, None, None)
    if number is None:  # every discussion button names what it acts on
        _show(work, person, Denied.NOT_YOURS)
        return
    plans, discussions = work.discussion_plans, work.discussions
    if action == pd_keys.PLAN:
        _show(work, person, plans.begin(person, number))
    elif action == pd_keys.CRITERION and ref and query.message is not None:
        toggled = plans.toggle(person, number, ref)
        if isinstance(toggled, Planning):  # the list stays; its buttons show what is chosen
            work.edit_buttons(person.chat_id, query.message.message_id, pd_keys.planning(toggled))
        else:
            _show(work, person, toggled)
    elif action == pd_keys.CHOOSE_TIME:
        _show(work, person, plans.ask_time(person, number))
    elif action == pd_keys.CANCEL:
        cancelled = plans.cancel(person, number)
        if isinstance(cancelled, Denied):
            _show(work, person, cancelled)
        else:
            work.reply(person.chat_id, "pd_cancelled.html", ref=f"PD{cancelled.number}")
    elif action == pd_keys.START:
        _show(work, person, discussions.start(person, number))
    elif action in (pd_keys.PAUSE, pd_keys.RESUME):
        _show(work, person, discussions.hold(person, number, paused=action == pd_keys.PAUSE))
    elif action == pd_keys.END:
        _show(work, person, discussions.end(person, number))
    elif action in (pd_keys.REFERENCE, pd_keys.BACK, pd_keys.OTHER) and query.message is not None:
        outcome: Referenced | OtherCriteria | DiscussionProblem | Denied
        if action == pd_keys.REFERENCE and ref:
            outcome = discussions.reference(person, number, ref)
        elif action == pd_keys.OTHER:
            outcome = discussions.other_criteria(person, number)
        else:
            outcome = discussions.buttons_of(person, number)
        if isinstance(outcome, Referenced) and outcome.already:
            pass  # referenced at this message before: its buttons say so already
        elif isinstance(outcome, Referenced | OtherCriteria):
            keyboard = (pd_keys.other_criteria(number, outcome.refs) if isinstance(outcome, OtherCriteria)
                        else pd_keys.references(number, outcome.buttons))
            work.edit_buttons(person.chat_id, query.message.message_id, keyboard)
        else:
            _show(work, person, outcome)
    elif action == pd_keys.TRUE_RECORD:
        statement = telegram_text("pd_statement.html")
        _show(work, person, discussions.confirm(person, number, statement))
    elif action == pd_keys.WRONG_RECORD:
        _show(work, person, discussions.dispute(person, number))
    else:
        _show(work, person, Denied.NOT_YOURS)


ACTIONS = rf"^({'|'.join(pd_keys.ACTIONS)})(:|$)"


def register(application: Application) -> None:
    application.add_handler(CommandHandler("pd", pd_command, filters=NEW_MESSAGE))
    application.add_handler(CommandHandler("note", note_command, filters=NEW_MESSAGE))
    application.add_handler(OwnChatButtonHandler(button, pattern=ACTIONS))
