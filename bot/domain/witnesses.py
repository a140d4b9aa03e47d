"""What naming a witness and taking their statement share: the link's form, the statuses, the problems, the helpers.

Witness testimony: someone who saw the candidate work (often their line manager) confirms it in their own words.

The candidate (or their assessor) names the witness with /witness: the unit (when there are several), then one
message with four lines (name, job role, relationship to the candidate, how to reach them), then the performance
criteria the witness saw. nvqbot makes a one-use link (a Telegram deep link whose code starts "wt-", so it is never
taken for an invite) that works until the invite validity runs out (bot/domain/limits.py); the namer forwards it.
That is `WitnessRequests` (bot/domain/witness_requests.py).

The witness opens it: they read who asks, for which candidate, and the criteria's words as the bank has them, with a
reminder not to name customers; what they send (typed, or voice notes) is kept as the parts of one answer version
(method witness testimony in the unit's own code, in the enrolment's "witness" run, author "witness"). They tap Done
and confirm it with a declaration, which submits it (a submission of kind "witness"): it goes to the assessor's
queue and counts in coverage, where it supports a decision and never makes a criterion met on its own
(bot/domain/coverage.py). The link is claimed in one conditional UPDATE: of two people opening it, one gets it.
That is `WitnessStatements` (bot/domain/witness_statements.py).

Every step's state is the Witness row's status: details, criteria, invited, writing, declaring, confirmed, cancelled.
"""

import re
from enum import StrEnum

from bot.domain.assessor_work import AssessorWork
from bot.domain.bank_schema import MethodKind, UnitBank
from bot.storage.ids import stored
from bot.storage.models import Candidate, Enrolment, Witness

WT: MethodKind = "witness_testimony"
CODE_PREFIX = "wt-"  # invite codes are 16 characters of A-Za-z0-9_- with no prefix: the two never meet
CODE = re.compile(r"^wt-[A-Za-z0-9_-]{22}$")  # at most 64 characters, as a deep link's start parameter may be
NAMING = ("details", "criteria")
WITNESSING = ("writing", "declaring")
LISTED = ("invited", "writing", "declaring", "confirmed")  # in the record's witness list


class WitnessProblem(StrEnum):
    NO_ENROLMENT = "no_enrolment"  # nobody to name a witness for
    NO_WT_IN_UNIT = "no_wt_in_unit"  # the unit does not take witness testimony
    BAD_DETAILS = "bad_details"  # not four lines, or a line too long
    NO_CRITERIA = "no_criteria"
    NOT_NAMING = "not_naming"  # that witness is no longer being named
    UNKNOWN = "unknown"  # no such link
    USED = "used"  # someone else opened it
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    OWN_LINK = "own_link"  # the candidate (or their assessor) cannot be the witness
    TOO_LONG = "too_long"
    FULL = "full"
    NOTHING_WRITTEN = "nothing_written"
    NOT_WRITING = "not_writing"  # Done, confirm or back pressed when the statement is not at that step
    DECLARING = "declaring"  # a message while the declaration is shown: it is not kept
    EDITED = "edited"  # an edited message: the statement keeps what was sent


class WitnessWork(AssessorWork):
    """What both sides look up: who named the witness, the candidate, the unit's bank."""

    def _namer(self, witness: Witness) -> str:
        if witness.named_by == "assessor":
            assessor = self.repo.assessor_by_telegram_id(witness.named_by_telegram_id)
            return assessor.name if assessor else ""
        candidate = self.repo.candidate_by_telegram_id(witness.named_by_telegram_id)
        return candidate.name if candidate else ""

    def _candidate(self, enrolment: Enrolment) -> Candidate:
        return stored(self.repo.session, Candidate, enrolment.candidate_id)

    def _bank(self, enrolment: Enrolment) -> UnitBank:
        return self.banks.units[enrolment.unit_code]


def is_link_code(code: str) -> bool:
    """Whether a /start code is a witness's link (never an invite's)."""
    return code.startswith(CODE_PREFIX)
