"""Handlers for direct observations: /observe, its buttons, the assessor's messages while one is recorded, and the
candidate's countersignature."""

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.domain.assessor_work import Denied
from bot.domain.observation_countersignatures import Countersigned
from bot.domain.observation_work import ObservationRecord, Problem
from bot.domain.observations import (
    Choosing,
    ObservationCancelled,
    ObserveChoices,
    PlaceAsked,
    Recording,
    SeenKept,
)
from bot.domain.records import Disputed
from bot.domain.sittings import IncomingMessage, Person
from bot.rendering import telegram_text
from bot.telegram import keyboards
from bot.telegram import observation_keyboards as obs_keys
from bot.telegram.incoming import NEW_MESSAGE, OwnChatButtonHandler, person_of
from bot.telegram.work import Work, current_work


def _show(work: Work, person: Person, outcome) -> None:
    """Reply with whatever an observation step led to; tell the other person where it concerns them."""
    chat, zone = person.chat_id, work.discussion_plans.zone
    if isinstance(outcome, Denied):
        work.reply(chat, "denied.html", denied=outcome.value)
    elif isinstance(outcome, Problem):
        keyboard = obs_keys.cancel(outcome.observation_id) if outcome.observation_id else None
        work.reply(chat, "observe_problem.html", keyboard=keyboard, problem=outcome.problem, limit=work.limits.message_chars)
    elif isinstance(outcome, ObserveChoices):
        work.reply(chat, "observe.html", keyboard=obs_keys.candidates(outcome.candidates), step="choices", outcome=outcome)
        if outcome.unfinished and outcome.unfinished.status == "recording":
            work.reply(chat, "observe.html", keyboard=obs_keys.recording(outcome.unfinished.observation_id), step="resume",
                       outcome=outcome.unfinished)
    elif isinstance(outcome, Choosing):
        work.reply(chat, "observe.html", keyboard=obs_keys.choosing(outcome), step="choosing", outcome=outcome)
    elif isinstance(outcome, PlaceAsked):
        work.reply(chat, "observe.html", keyboard=obs_keys.cancel(outcome.observation_id), step="place", outcome=outcome)
    elif isinstance(outcome, Recording):
        work.reply(chat, "observe.html", keyboard=obs_keys.recording(outcome.observation_id), step="recording",
                   outcome=outcome, zone=zone)
    elif isinstance(outcome, SeenKept):
        work.reply(chat, "observe.html", keyboard=obs_keys.recording(outcome.observation_id), step="kept", outcome=outcome)
    elif isinstance(outcome, ObservationRecord):
        work.reply(chat, "observe.html", step="finished", outcome=outcome, zone=zone)
        work.reply(outcome.candidate_chat_id, "observation_record.html", keyboard=obs_keys.countersign(outcome.observation_id),
                   record=outcome, zone=zone)
    elif isinstance(outcome, ObservationCancelled):
        work.reply(chat, "observe.html", step="cancelled", outcome=outcome)
    elif isinstance(outcome, Countersigned | Disputed):
        agreed = isinstance(outcome, Countersigned)
        work.reply(chat, "observation_signed.html", outcome=outcome, agreed=agreed, audience="candidate")
        if outcome.assessor_chat_id is not None:
            keyboard = obs_keys.to_judge(outcome.submission_id) if isinstance(outcome, Countersigned) else None
            work.reply(outcome.assessor_chat_id, "observation_signed.html", keyboard=keyboard, outcome=outcome,
                       agreed=agreed, audience="assessor")
    else:
        raise TypeError(f"no reply for {outcome!r}")


async def observation_message(work: Work, person: Person, incoming: IncomingMessage) -> bool:
    """An assessor's message while they record an observation: where it is, or what they see; it belongs to the
    observation and nothing else. False when they are recording none."""
    outcome = work.observations.take(person, incoming)
    if outcome is None:
        return False
    work.attachments_added = isinstance(outcome, SeenKept) and incoming.attachment is not None
    _show(work, person, outcome)
    return True


async def observe_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    _show(work, person, work.observations.choices(person))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses only"
    work.answer_button(person.chat_id, query.id)
    action, number, ref = keyboards.parse(query.data) or (None, None, None)
    observations = work.observations
    if number is None:
        _show(work, person, Denied.NOT_YOURS)
    elif action == obs_keys.CANDIDATE:
        _show(work, person, observations.begin(person, number))
    elif action == obs_keys.CRITERION and ref and query.message is not None:
        toggled = observations.toggle(person, number, ref)
        if isinstance(toggled, Choosing):  # the list stays; its buttons show what is chosen
            work.edit_buttons(person.chat_id, query.message.message_id, obs_keys.choosing(toggled))
        else:
            _show(work, person, toggled)
    elif action == obs_keys.PLACE:
        _show(work, person, observations.ask_place(person, number))
    elif action == obs_keys.FINISH:
        _show(work, person, observations.finish(person, number))
    elif action == obs_keys.CANCEL:
        _show(work, person, observations.cancel(person, number))
    elif action == obs_keys.COUNTERSIGN:
        _show(work, person, observations.countersign(person, number, telegram_text("observation_statement.html")))
    elif action == obs_keys.DISPUTE:
        _show(work, person, observations.dispute(person, number))
    else:
        _show(work, person, Denied.NOT_YOURS)


ACTIONS = rf"^({'|'.join(obs_keys.ACTIONS)})(:|$)"


def register(application: Application) -> None:
    application.add_handler(CommandHandler("observe", observe_command, filters=NEW_MESSAGE))
    application.add_handler(OwnChatButtonHandler(button, pattern=ACTIONS))
