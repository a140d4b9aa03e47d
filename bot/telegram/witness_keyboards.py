"""The buttons of witness testimony: the unit, the criteria the witness saw, the link; the witness's Done and
declaration.

Their callback data names what was pressed (`action:number[:ref]`, read back by keyboards.parse) and nothing else:
the domain checks that the person pressing may do it.
"""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.witness_requests import ChooseUnit, ChoosingCriteria
from bot.rendering import button_label
from bot.telegram import keyboards

UNIT, CRITERION, LINK, CANCEL = "wtunit", "wtcrit", "wtlink", "wtcancel"
DONE, CONFIRM, BACK = "wtdone", "wtok", "wtback"
ACTIONS = (UNIT, CRITERION, LINK, CANCEL, DONE, CONFIRM, BACK)
PER_ROW = 4
MOST_UNITS = 96  # Telegram shows at most 100 buttons under a message


def _button(label: str, *data) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=":".join(str(d) for d in data))


def units(choose: ChooseUnit) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [_button(button_label("wt_unit_of", candidate=c.candidate, unit=c.unit_code) if choose.for_assessor
                 else button_label("wt_unit", unit=c.unit_code, title=c.unit_title), UNIT, c.enrolment_id)]
        for c in choose.choices[:MOST_UNITS]
    ])


def cancel(witness_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("wt_cancel"), CANCEL, witness_id)]])


def criteria(choosing: ChoosingCriteria) -> InlineKeyboardMarkup:
    toggles = [
        _button(button_label("wt_chosen" if c.chosen else "wt_not_chosen", ref=c.ref), CRITERION, choosing.witness_id, c.ref)
        for c in choosing.choices
    ]
    return InlineKeyboardMarkup([
        *[toggles[i : i + PER_ROW] for i in range(0, len(toggles), PER_ROW)],
        [_button(button_label("wt_make_link"), LINK, choosing.witness_id),
         _button(button_label("wt_cancel"), CANCEL, choosing.witness_id)],
    ])


def writing(witness_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("wt_done"), DONE, witness_id)]])


def declaration(witness_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("wt_confirm"), CONFIRM, witness_id)],
                                 [_button(button_label("wt_back"), BACK, witness_id)]])


def to_judge(submission_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("wt_judge"), keyboards.OPEN, submission_id)]])
