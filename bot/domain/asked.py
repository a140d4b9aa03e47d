"""What was asked, frozen with each answer version.

When a candidate begins an answer, nvqbot copies into it the question as the bank words it then: its
reference in the records (Q3, Case-a-2…), the set it belongs to, the look-fors, the probes, the method,
each criterion it evidences with that criterion's words, and the bank version (the SHA-256 of the
unit's bank file). Records and coverage read this copy, never today's bank, so a later edit of a bank
changes no record already made.
"""

from dataclasses import dataclass
from typing import Any

from bot.domain.bank_schema import MethodKind, Question, QuestionSet, UnitBank
from bot.domain.banks import Banks

QUESTIONING: MethodKind = "questioning"
# A case the candidate walks through alone is their written account of real work, not a professional
# discussion (which an assessor leads live): recorded as a reflective account where the unit allows one.
CASE_ACCOUNT_METHODS: tuple[MethodKind, ...] = ("reflective_account", QUESTIONING)
# The question set of an enrolment's live discussion records (bot/domain/discussions.py): no bank holds it.
DISCUSSION_RUN = "discussion"


@dataclass(frozen=True)
class Slot:
    """Where a question sits in its unit's bank: its sort rank and its reference stem in the records."""

    rank: tuple[int, int]
    stem: str
    question_set: QuestionSet
    question: Question


def slots(bank: UnitBank) -> dict[tuple[str, str], Slot]:
    """Every question of the unit by (set id, question id): knowledge sets in bank order (Q1, Q2…), then cases."""
    found, number = {}, 0
    for set_rank, question_set in enumerate(bank.knowledge_sets):
        for position, question in enumerate(question_set.questions):
            number += 1
            found[question_set.id, question.id] = Slot((set_rank, position), f"Q{number}", question_set, question)
    for case_rank, case in enumerate(bank.pd_cases, len(bank.knowledge_sets)):
        question_set = case.as_question_set()
        for position, question in enumerate(question_set.questions, 1):
            found[case.set_id, question.id] = Slot((case_rank, position), f"Case-{case.id}-{position}", question_set, question)
    return found


def method_kind(bank: UnitBank, question_set: QuestionSet) -> MethodKind:
    if question_set.kind == "knowledge":
        return QUESTIONING
    return next(kind for kind in CASE_ACCOUNT_METHODS if kind in bank.evidence_methods.codes)


def snapshot(banks: Banks, unit_code: str, question_set: QuestionSet, question: Question) -> dict[str, Any]:
    """The frozen copy of a question, to keep with an answer version begun now."""
    bank = banks.units[unit_code]
    slot = slots(bank)[question_set.id, question.id]
    version = banks.version(unit_code)
    kind = method_kind(bank, question_set)
    return {
        "ref": slot.stem,
        "rank": list(slot.rank),
        "question_set": question_set.id,
        "set_title": question_set.title,
        "set_kind": question_set.kind,
        "question_id": question.id,
        "short": question.short,
        "question": question.text,
        "probes": [probe.text for probe in question.probes],
        "look_fors": [look_for.text for look_for in question.look_fors],
        "method": kind,
        "method_code": bank.method_code(kind),
        "criteria": [_criterion(bank, unit_code, ref) for ref in question.criteria],
        "bank": {"file": version.file, "sha256": version.sha256, "source": version.source},
    }


def _criterion(bank: UnitBank, unit_code: str, ref: str) -> dict[str, Any]:
    spec = bank.criterion(ref)
    if spec is None:
        raise LookupError(f"question names criterion {ref!r}, which {unit_code} does not have")  # banks check refuses it
    return {"unit": unit_code, "ref": ref, "kind": spec.kind, "text": spec.text, "part_of": spec.part_of}
