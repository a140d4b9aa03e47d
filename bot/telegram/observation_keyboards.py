"""The buttons of direct observations: the candidate, the criteria, where, Finish, and the candidate's countersignature.

Their callback data names what was pressed (`action:number[:ref]`, read back by keyboards.parse) and nothing else:
the domain checks that the person pressing may do it.
"""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.observations import CandidateChoice, Choosing
from bot.rendering import button_label
from bot.telegram import keyboards

CANDIDATE, CRITERION, PLACE, FINISH, CANCEL = "obscand", "obscrit", "obsplace", "obsend", "obsstop"
COUNTERSIGN, DISPUTE = "obsok", "obswrong"
ACTIONS = (CANDIDATE, CRITERION, PLACE, FINISH, CANCEL, COUNTERSIGN, DISPUTE)
PER_ROW = 4


def _button(label: str, *data) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=":".join(str(d) for d in data))


def candidates(choices: list[CandidateChoice]) -> InlineKeyboardMarkup | None:
    rows = [[_button(button_label("observe_candidate", candidate=c.candidate, unit=c.unit_code), CANDIDATE, c.enrolment_id)]
            for c in choices]
    return InlineKeyboardMarkup(rows) if rows else None


def choosing(outcome: Choosing) -> InlineKeyboardMarkup:
    toggles = [_button(button_label("observe_chosen" if c.chosen else "observe_not_chosen", ref=c.ref),
                       CRITERION, outcome.observation_id, c.ref) for c in outcome.choices]
    rows = [toggles[i : i + PER_ROW] for i in range(0, len(toggles), PER_ROW)]
    return InlineKeyboardMarkup([*rows, [_button(button_label("observe_place"), PLACE, outcome.observation_id),
                                         _button(button_label("observe_cancel"), CANCEL, outcome.observation_id)]])


def recording(observation_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("observe_finish"), FINISH, observation_id),
                                  _button(button_label("observe_cancel"), CANCEL, observation_id)]])


def cancel(observation_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("observe_cancel"), CANCEL, observation_id)]])


def countersign(observation_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("observe_countersign"), COUNTERSIGN, observation_id)],
                                 [_button(button_label("observe_dispute"), DISPUTE, observation_id)]])


def to_judge(submission_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(button_label("observe_judge"), keyboards.OPEN, submission_id)]])
