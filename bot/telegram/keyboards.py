"""Inline keyboards, and reading back the callback data their buttons carry.

Callback data is never trusted: it only names what was pressed, and the domain checks that the
person pressing may do it.
"""

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.sittings import PdChoice
from bot.domain.submissions import Review
from bot.rendering import button_label

# Callback data: an action word, then up to two id fields.
_CALLBACK = re.compile(r"^([a-z]{2,8})(?::(\d{1,12}))?(?::([A-Za-z0-9_.-]{1,40}))?$")

DONE, SKIP, AGAIN = "done", "skip", "again"
CONTINUE, PAUSE_REMINDERS, RESUME_REMINDERS = "cont", "rpause", "rresume"
CASE, CHANGE, SUBMIT, CONFIRM, CANCEL_DECLARATION = "case", "change", "submit", "confirm", "goback"
OLD_CASE = "pd"  # what case buttons carried before /case: still on messages already sent
OPEN, MET, NOT_YET, ASK, NEXT, SIGN_OFF, EXPORT = "open", "met", "notyet", "ask", "next", "signoff", "export"
INTERIM, CREDIT = "interim", "credit"


def parse(data: str | None) -> tuple[str, int | None, str | None] | None:
    """(action, number, name) from a button's data, or None if it is not one of ours."""
    match = _CALLBACK.match(data or "")
    if not match:
        return None
    action, number, name = match.groups()
    return action, int(number) if number else None, name


def _button(label: str, *data) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=":".join(str(d) for d in data))


def answering() -> InlineKeyboardMarkup:
    """Under every question and every acknowledged message of an answer."""
    return InlineKeyboardMarkup(
        [[_button(button_label("done"), DONE), _button(button_label("skip"), SKIP)], [_button(button_label("again"), AGAIN)]]
    )


def carry_on() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("continue"), CONTINUE)]])


def cases(choices: list[PdChoice]) -> InlineKeyboardMarkup | None:
    """One button a case type not yet described, labelled from the question bank."""
    many_units = len({choice.unit_code for choice in choices}) > 1
    buttons = [
        [
            _button(
                button_label("case_started" if c.state == "in_progress" else "case",
                             case=button_label("case_of_unit", unit=c.unit_code, case=c.case_type) if many_units
                             else c.case_type),
                CASE, c.enrolment_id, c.case_id,
            )
        ]
        for c in choices
        if c.state != "done"
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def review(outline: Review) -> InlineKeyboardMarkup | None:
    changeable = [item for item in outline.items if not item.locked and item.changeable]
    rows = [
        [_button(button_label("change", question=item.question_ref), CHANGE, item.answer_id) for item in changeable[i : i + 4]]
        for i in range(0, len(changeable), 4)
    ]
    if outline.unlocked:
        rows.append([_button(button_label("submit"), SUBMIT, outline.enrolment_id)])
    return InlineKeyboardMarkup(rows) if rows else None


def declaration(enrolment_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[_button(button_label("confirm"), CONFIRM, enrolment_id), _button(button_label("cancel_declaration"), CANCEL_DECLARATION)]]
    )


def reminders(paused: bool) -> InlineKeyboardMarkup:
    action = RESUME_REMINDERS if paused else PAUSE_REMINDERS
    return InlineKeyboardMarkup([[_button(button_label("resume_reminders" if paused else "pause_reminders"), action)]])


def queue(items) -> InlineKeyboardMarkup | None:
    rows = [
        [_button(button_label("open_submission", candidate=i.candidate, unit=i.unit_code, judged=i.judged, answers=i.answers), OPEN, i.submission_id)]
        for i in items
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def judging(answer_id: int, submission_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(button_label("met"), MET, answer_id), _button(button_label("not_yet"), NOT_YET, answer_id)],
            [_button(button_label("ask"), ASK, answer_id), _button(button_label("next"), NEXT, submission_id, answer_id)],
        ]
    )


def sign_off(submission_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("sign_off"), SIGN_OFF, submission_id)]])


def unit_not_complete(outcome) -> InlineKeyboardMarkup:
    """One button for each partial credit awaiting confirmation, then the interim decision."""
    rows = [
        [
            _button(
                button_label("confirm_credit", ref=criterion.ref, unit=item.unit_code, answer=item.ref),
                CREDIT,
                item.answer_id,
                f"{outcome.enrolment_id}.{criterion.ref}",
            )
        ]
        for criterion, item in outcome.coverage.awaiting_confirmation
    ]
    rows.append([_button(button_label("interim"), INTERIM, outcome.submission_id)])
    return InlineKeyboardMarkup(rows)


def credit_target(name: str | None) -> tuple[int, str] | None:
    """(enrolment id, criterion ref) from a credit button's name field."""
    enrolment, _, ref = (name or "").partition(".")
    return (int(enrolment), ref) if enrolment.isdigit() and ref else None


def exports(rows) -> InlineKeyboardMarkup | None:
    buttons = [[_button(f"{row.candidate} — {row.unit_code}", EXPORT, row.enrolment_id)] for row in rows]
    return InlineKeyboardMarkup(buttons) if buttons else None
