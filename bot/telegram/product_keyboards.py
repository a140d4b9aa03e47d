"""The buttons of products of work: the unit, the criteria the product shows, sending it, cancelling it.

Their callback data names what was pressed (`action:number[:ref]`, read back by keyboards.parse) and nothing else:
the domain checks that the person pressing may do it.
"""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.products import Choosing, UnitChoice
from bot.rendering import button_label

UNIT, CRITERION, SEND, CANCEL = "produnit", "prodcrit", "prodfile", "prodstop"
ACTIONS = (UNIT, CRITERION, SEND, CANCEL)
PER_ROW = 4


def _button(label: str, *data) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=":".join(str(d) for d in data))


def units(choices: list[UnitChoice]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("product_unit", unit=c.unit_code), UNIT, c.enrolment_id)]
                                 for c in choices])


def choosing(outcome: Choosing) -> InlineKeyboardMarkup:
    toggles = [_button(button_label("product_chosen" if c.chosen else "product_not_chosen", ref=c.ref),
                       CRITERION, outcome.product_id, c.ref) for c in outcome.choices]
    rows = [toggles[i : i + PER_ROW] for i in range(0, len(toggles), PER_ROW)]
    return InlineKeyboardMarkup([*rows, [_button(button_label("product_send"), SEND, outcome.product_id),
                                         _button(button_label("product_cancel"), CANCEL, outcome.product_id)]])


def cancel(product_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("product_cancel"), CANCEL, product_id)]])
