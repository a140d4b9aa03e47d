"""The buttons of professional discussions: planning, running one, referencing criteria, confirming the record.

Their callback data names what was pressed (`action:number[:ref]`, read back by keyboards.parse) and nothing else:
the domain checks that the person pressing may do it.
"""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.discussion_plans import PlanCandidate, Planning, Upcoming
from bot.rendering import button_label
from bot.telegram import keyboards

PLAN, CRITERION, CHOOSE_TIME, CANCEL = "pdplan", "pdcrit", "pdtime", "pdcancel"
START, PAUSE, RESUME, END = "pdstart", "pdpause", "pdresume", "pdend"
REFERENCE, OTHER, BACK = "pdref", "pdother", "pdback"
TRUE_RECORD, WRONG_RECORD = "pdok", "pdwrong"
ACTIONS = (PLAN, CRITERION, CHOOSE_TIME, CANCEL, START, PAUSE, RESUME, END, REFERENCE, OTHER, BACK, TRUE_RECORD, WRONG_RECORD)
PER_ROW = 4


def _button(label: str, *data) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=":".join(str(d) for d in data))


def _rows(buttons: list[InlineKeyboardButton]) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]


def choices(candidates: list[PlanCandidate], upcoming: list[Upcoming]) -> InlineKeyboardMarkup | None:
    rows = [[_button(button_label("pd_start", ref=u.ref, candidate=u.candidate), START, u.discussion_id)]
            for u in upcoming if u.status == "planned"]
    rows += [[_button(button_label("pd_plan_with", candidate=c.candidate, unit=c.unit_code), PLAN, c.enrolment_id)]
             for c in candidates]
    return InlineKeyboardMarkup(rows) if rows else None


def planning(plan: Planning) -> InlineKeyboardMarkup:
    toggles = [
        _button(button_label("pd_chosen" if c.chosen else "pd_not_chosen", ref=c.ref), CRITERION, plan.discussion_id, c.ref)
        for c in plan.choices
    ]
    return InlineKeyboardMarkup([
        *_rows(toggles),
        [_button(button_label("pd_choose_time"), CHOOSE_TIME, plan.discussion_id),
         _button(button_label("pd_cancel"), CANCEL, plan.discussion_id)],
    ])


def start(discussion_id: int, ref: str, candidate: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("pd_start", ref=ref, candidate=candidate), START, discussion_id)]])


def controls(discussion_id: int, paused: bool) -> InlineKeyboardMarkup:
    hold = _button(button_label("pd_resume"), RESUME, discussion_id) if paused else _button(button_label("pd_pause"), PAUSE, discussion_id)
    return InlineKeyboardMarkup([[hold, _button(button_label("pd_end"), END, discussion_id)]])


def references(part_id: int, refs: list[tuple[str, bool]]) -> InlineKeyboardMarkup:
    """Under each of the candidate's messages: the plan's criteria still open (a tick on those referenced here)."""
    buttons = [_button(button_label("pd_referenced" if done else "pd_reference", ref=ref), REFERENCE, part_id, ref)
               for ref, done in refs]
    return InlineKeyboardMarkup([*_rows(buttons), [_button(button_label("pd_other"), OTHER, part_id)]])


def other_criteria(part_id: int, refs: list[tuple[str, bool]]) -> InlineKeyboardMarkup:
    """Every criterion of the unit, to reference one the plan did not name."""
    buttons = [_button(button_label("pd_referenced" if done else "pd_reference", ref=ref), REFERENCE, part_id, ref)
               for ref, done in refs]
    return InlineKeyboardMarkup([*_rows(buttons), [_button(button_label("pd_back"), BACK, part_id)]])


def to_judge(submission_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("pd_judge"), keyboards.OPEN, submission_id)]])


def record(discussion_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("pd_true_record"), TRUE_RECORD, discussion_id)],
                                 [_button(button_label("pd_wrong_record"), WRONG_RECORD, discussion_id)]])
