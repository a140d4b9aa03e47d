"""Handlers for assessors: the review queue, judging, follow-up questions, sign-off, cohort and export."""

from datetime import date

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.domain.caseload import CreditConfirmed, SignedOff, UnitNotComplete
from bot.domain.judging import AllJudged, AnswerToJudge, Asked, Denied
from bot.domain.sittings import Person
from bot.telegram import keyboards
from bot.telegram.evidence import EVIDENCE_CALL
from bot.telegram.incoming import NEW_MESSAGE, OwnChatButtonHandler, arguments_of, person_of
from bot.telegram.work import Work, current_work


def tell_candidate(work: Work, outcome: Asked | SignedOff) -> None:
    """What the candidate is told of an assessor's follow-up question or sign-off, made in the chat or the console."""
    if isinstance(outcome, Asked):
        work.reply(outcome.candidate_chat_id, "follow_up_question.html", asked=outcome)
    else:
        work.reply(outcome.candidate_chat_id, "outcome.html", signed=outcome)


def send_records(work: Work, person: Person, enrolment_id: int) -> Denied | None:
    """Queue an enrolment's records as PDF documents to the assessor's own chat (the sender makes them), asked for
    in the chat or the console; why not, if the assessor may not see them."""
    wanted = work.caseload.request_export(person, enrolment_id)
    if isinstance(wanted, Denied):
        return wanted
    candidate_id, unit_code = wanted
    work.reply(person.chat_id, "export_coming.html", unit_code=unit_code)
    work.call(person.chat_id, EVIDENCE_CALL, {"chat_id": person.chat_id, "candidate": candidate_id, "unit": unit_code})
    return None


def show_next(work: Work, person: Person, outcome) -> None:
    """Show the next answer to judge, or offer sign-off when all are judged."""
    if isinstance(outcome, Denied):
        work.reply(person.chat_id, "denied.html", denied=outcome.value)
    elif isinstance(outcome, AnswerToJudge):
        work.reply(person.chat_id, "judge_answer.html", keyboard=keyboards.judging(outcome.answer_id, outcome.submission_id), item=outcome)
    elif isinstance(outcome, AllJudged):
        work.reply(person.chat_id, "all_judged.html", keyboard=keyboards.sign_off(outcome.submission_id), outcome=outcome)
    elif isinstance(outcome, UnitNotComplete):
        work.reply(person.chat_id, "unit_not_complete.html", keyboard=keyboards.unit_not_complete(outcome), outcome=outcome)
    elif isinstance(outcome, SignedOff):
        work.reply(person.chat_id, "signed_off.html", signed=outcome)
        tell_candidate(work, outcome)
    elif isinstance(outcome, CreditConfirmed):
        work.reply(person.chat_id, "credit_confirmed.html", confirmed=outcome)


def _listing(template: str, keyboard_for=None, key: str = "rows"):
    """A command that shows one of the assessor's lists (or why they may not see it)."""

    async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        work, person = current_work(), person_of(update)
        found = work.judging.queue(person) if key == "items" else work.caseload.cohort(person)
        if isinstance(found, Denied):
            work.reply(person.chat_id, "denied.html", denied=found.value)
        else:
            keyboard = keyboard_for(found) if keyboard_for else None
            work.reply(person.chat_id, template, keyboard=keyboard, **{key: found})

    return command


queue = _listing("queue.html", keyboards.queue, key="items")
cohort = _listing("cohort.html")
export = _listing("export_menu.html", keyboards.exports)


async def deadline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/deadline lists the assessor's enrolments, each by its number (the enrolment's id, which never moves);
    /deadline NUMBER YYYY-MM-DD moves that one's deadline."""
    work, person = current_work(), person_of(update)
    rows = work.caseload.cohort(person)
    if isinstance(rows, Denied):
        work.reply(person.chat_id, "denied.html", denied=rows.value)
        return
    args = arguments_of(context)
    chosen = _deadline_args(args, {row.enrolment_id: row for row in rows})
    if chosen is None:
        work.reply(person.chat_id, "deadline.html", rows=rows, changed=None, asked=bool(args))
        return
    row, new_date = chosen
    changed = work.caseload.set_deadline(person, row.enrolment_id, new_date)
    if isinstance(changed, Denied):
        work.reply(person.chat_id, "denied.html", denied=changed.value)
    else:
        work.reply(person.chat_id, "deadline.html", rows=rows, changed=row, new_date=new_date, asked=True)


def _deadline_args(args: list[str], rows: dict):
    if len(args) != 2 or not args[0].isdigit() or int(args[0]) not in rows:
        return None
    try:
        return rows[int(args[0])], date.fromisoformat(args[1])
    except ValueError:
        return None


async def invite_assessor(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person = current_work(), person_of(update)
    invite = work.caseload.invite_assessor(person)
    if isinstance(invite, Denied):
        work.reply(person.chat_id, "denied.html", denied=invite.value)
    else:
        work.reply(person.chat_id, "staff_invite.html", invite=invite, username=context.bot.username,
                   zone=work.discussion_plans.zone)


async def console(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/console: a one-use link to the web console (and a button that opens it as a Mini App)."""
    from bot.web.links import console_link

    work, person = current_work(), person_of(update)
    assessor = work.caseload.assessor(person)
    if assessor is None:
        work.reply(person.chat_id, "denied.html", denied=Denied.NOT_AN_ASSESSOR.value)
        return
    link, minutes, keyboard = console_link(work.session, assessor, work.now())
    work.reply(person.chat_id, "console_link.html", keyboard=keyboard, link=link, minutes=minutes)


async def assessor_message(work: Work, person: Person, text: str | None, voice) -> bool:
    """An assessor's message that is the feedback or follow-up question they were asked for. False if not."""
    if not work.judging.awaited(person):
        return False
    _, outcome = work.judging.take_text(person, text, voice)
    work.attachments_added = voice is not None
    if isinstance(outcome, Asked):
        tell_candidate(work, outcome)
        work.reply(person.chat_id, "follow_up_sent.html", asked=outcome)
    elif isinstance(outcome, Denied):
        work.reply(person.chat_id, "denied.html", denied=outcome.value)
    else:
        work.reply(person.chat_id, "judged.html", judgment=outcome)
        answer = work.judging.next_after_judgment(person, outcome.answer_id)
        show_next(work, person, answer)
    return True


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    work, person, query = current_work(), person_of(update), update.callback_query
    assert query is not None, "registered for button presses only"
    work.answer_button(person.chat_id, query.id)
    action, number, name = keyboards.parse(query.data) or (None, None, None)
    if number is None:  # every assessor button carries the number of what it acts on
        show_next(work, person, Denied.NOT_YOURS)
        return
    judging = work.judging
    if action == keyboards.OPEN:
        show_next(work, person, judging.next_to_judge(person, number))
    elif action == keyboards.NEXT and name and name.isdigit():
        show_next(work, person, judging.next_to_judge(person, number, after_answer=int(name)))
    elif action == keyboards.MET:
        judgment = judging.judge(person, number, "met")
        if isinstance(judgment, Denied):
            show_next(work, person, judgment)
        else:
            work.reply(person.chat_id, "judged.html", judgment=judgment)
            show_next(work, person, judging.next_after_judgment(person, number))
    elif action in (keyboards.NOT_YET, keyboards.ASK):
        kind = "feedback" if action == keyboards.NOT_YET else "question"
        waiting = judging.await_text(person, number, kind)
        if isinstance(waiting, Denied):
            show_next(work, person, waiting)
        else:
            work.reply(person.chat_id, "awaiting_text.html", kind=kind, item=waiting)
    elif action in (keyboards.SIGN_OFF, keyboards.INTERIM):
        show_next(work, person, work.caseload.sign_off(person, number, interim=action == keyboards.INTERIM))
    elif action == keyboards.CREDIT and (target := keyboards.credit_target(name)):
        show_next(work, person, work.caseload.confirm_credit(person, target[0], number, target[1]))
    elif action == keyboards.EXPORT:
        if (refused := send_records(work, person, number)) is not None:
            show_next(work, person, refused)
    else:
        show_next(work, person, Denied.NOT_YOURS)


ASSESSOR_ACTIONS = rf"^({'|'.join([keyboards.OPEN, keyboards.MET, keyboards.NOT_YET, keyboards.ASK, keyboards.NEXT, keyboards.SIGN_OFF, keyboards.EXPORT, keyboards.INTERIM, keyboards.CREDIT])})(:|$)"


def register(application: Application) -> None:
    commands = {"queue": queue, "cohort": cohort, "export": export, "deadline": deadline, "invite_assessor": invite_assessor,
                "console": console}
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGE))
    application.add_handler(OwnChatButtonHandler(button, pattern=ASSESSOR_ACTIONS))
