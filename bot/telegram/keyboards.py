"""Inline keyboards, and reading back the callback data their buttons carry.

Callback data is never trusted: it only names what was pressed, and the domain checks that the
person pressing may do it.
"""

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.assessment import PdChoice

_PD_CASE = re.compile(r"^pd:(\d{1,12}):([A-Za-z0-9_-]{1,40})$")


def pd_cases(choices: list[PdChoice]) -> InlineKeyboardMarkup | None:
    """One button a case type not yet described, labelled from the question bank."""
    many_units = len({choice.unit_code for choice in choices}) > 1
    buttons = [
        [
            InlineKeyboardButton(
                f"{choice.unit_code}: {choice.case_type}" if many_units else choice.case_type,
                callback_data=f"pd:{choice.enrolment_id}:{choice.case_id}",
            )
        ]
        for choice in choices
        if choice.state != "done"
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def parse_pd_case(data: str | None) -> tuple[int, str] | None:
    """(enrolment id, case id) from a PD button's data, or None if it is not one."""
    match = _PD_CASE.match(data or "")
    return (int(match.group(1)), match.group(2)) if match else None
