"""Evidence that is not an answer to a bank's question: a professional discussion, a witness's statement, a product
of work, a direct observation. Each is kept as answers are, so that one coverage computation, one judging queue and
one export serve them all: an answer version in a run of its own kind (no bank holds the set), with a frozen copy
of what it evidences, its parts the messages that make it. All but products (which go with the candidate's unit
submission, under their declaration) are submitted alone by the confirmation that closes them.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.asked import DISCUSSION_RUN
from bot.domain.bank_schema import MethodKind
from bot.domain.banks import Banks
from bot.storage.ids import stored_id
from bot.storage.models import Answer, AnswerCriterion, Attachment, BankVersion, Enrolment, QuestionRun, Submission
from bot.storage.repository import Repository

DISCUSSION, WITNESS, PRODUCT, OBSERVATION = DISCUSSION_RUN, "witness", "product", "observation"
# Where each kind sorts in the records: after the question sets and cases, in this order.
_RANKS = {DISCUSSION: 10_000, PRODUCT: 20_000, WITNESS: 30_000, OBSERVATION: 40_000}
KINDS = frozenset(_RANKS)
# How the records title each kind (its set), and one record of it.
_TITLES = {
    DISCUSSION: ("Professional discussion", "Professional discussion {number}"),
    PRODUCT: ("Products of work", "Product of work {number}"),
    WITNESS: ("Witness testimony", "Witness testimony {number}"),
    OBSERVATION: ("Direct observation", "Direct observation {number}"),
}


@dataclass(frozen=True)
class Disputed:
    """The candidate says a record made with them (a discussion, an observation) is not what happened: the
    assessor is told; the record waits, unconfirmed."""

    ref: str
    candidate: str
    assessor_chat_id: int | None


@dataclass(frozen=True)
class RecordLine:
    """One part of a record as people read it back: when, who (and their name), what, and the criteria referenced."""

    at: datetime
    author: str  # "candidate", "assessor" or "witness"
    name: str
    text: str | None
    attachment: str | None  # e.g. "voice 12 s, sha256 3f2a…"
    private: bool  # an assessor's note
    refs: list[str]


@dataclass(frozen=True)
class CriterionChoice:
    """A criterion offered with a toggle button while a record is planned or named."""

    ref: str
    text: str
    chosen: bool


def is_record(asked: dict | None) -> bool:
    """Whether an answer version is one of these records (it is never answered again from the bank)."""
    return (asked or {}).get("set_kind") in KINDS


def frozen_copy(
    banks: Banks, unit_code: str, *, kind: str, number: int, ref: str, method: MethodKind,
    about: list[str], evidencing: list[str], **extra: Any,
) -> dict[str, Any]:
    """What a record evidences, as the bank words it now: `about` (what was planned or asked: its question), and
    `evidencing` (the criteria it is tagged to), each criterion with its words; the method in the unit's own code."""
    bank = banks.units[unit_code]
    version = banks.version(unit_code)
    asked = [spec for r in about if (spec := bank.criterion(r))]
    title, short = _TITLES[kind]
    return {
        "ref": ref,
        "rank": [_RANKS[kind] + number, 0],
        "question_set": kind,
        "set_title": title,
        "set_kind": kind,
        "question_id": ref,
        "short": short.format(number=number),
        "question": "; ".join(f"{spec.ref} {spec.text}" for spec in asked),
        **extra,
        "probes": [],
        "look_fors": [],
        "method": method,
        "method_code": bank.method_code(method),
        "criteria": [
            {"unit": unit_code, "ref": spec.ref, "kind": spec.kind, "text": spec.text, "part_of": spec.part_of}
            for r in evidencing if (spec := bank.criterion(r))
        ],
        "bank": {"file": version.file, "sha256": version.sha256, "source": version.source},
    }


def new_record(repo: Repository, banks: Banks, enrolment: Enrolment, asked: dict[str, Any], now: datetime,
               status: str = "pending") -> Answer:
    """A record's answer version, begun now in its kind's run ("pending": no sitting's draft, and not yet evidence)."""
    kind, ref = asked["set_kind"], asked["ref"]
    run = next((r for r in repo.runs(stored_id(enrolment)) if r.question_set == kind), None)
    run = run or repo.add(QuestionRun(enrolment_id=stored_id(enrolment), question_set=kind, status="finished",
                                      started_at=now, updated_at=now))
    return repo.add(Answer(
        run_id=stored_id(run), question_id=ref, version=repo.next_version(stored_id(run), ref), status=status,
        started_at=now, asked=asked, bank_version_id=bank_version(repo, banks, enrolment.unit_code).id,
    ))


def tag(repo: Repository, answer: Answer, unit_code: str) -> None:
    """Tag the record to the criteria its frozen copy evidences."""
    criteria = repo.criteria(unit_code) or {}
    for c in (answer.asked or {}).get("criteria", []):
        if (row := criteria.get(c["ref"])) is not None:
            repo.session.add(AnswerCriterion(answer_id=stored_id(answer), criterion_id=stored_id(row)))
    repo.session.flush()


def submit_alone(repo: Repository, enrolment: Enrolment, answer: Answer, *, kind: str, statement: str,
                 declared_by: str, telegram_user_id: int, now: datetime) -> Submission:
    """The confirmation that closes a record (in `statement`'s words, the centre's): it submits that record alone,
    to be judged, and leaves the unit's status as it was."""
    submission = repo.add(Submission(
        enrolment_id=stored_id(enrolment), kind=kind, declaration=statement, declaration_source="centre",
        declared_by=declared_by, declared_by_telegram_id=telegram_user_id, declared_at=now,
    ))
    answer.status, answer.completed_at, answer.submission_id = "complete", now, submission.id
    repo.add(answer)
    return submission


def record_lines(repo: Repository, answer_id: int, candidate: str, assessor: str) -> list[RecordLine]:
    """The parts of a record in order, each with its author's name (a candidate's or an assessor's)."""
    lines = []
    for part in repo.parts(answer_id):
        file = repo.attachment(part.attachment_id) if part.attachment_id else None
        lines.append(RecordLine(
            at=part.sent_at, author=part.author, name=assessor if part.author == "assessor" else candidate,
            text=part.text, attachment=describe_attachment(file) if file else None, private=part.private,
            refs=[item["ref"] for item in part.referenced or []],
        ))
    return lines


def describe_attachment(file: Attachment) -> str:
    length = f" {file.duration} s" if file.duration else ""
    return f"{file.kind.replace('_', ' ')}{length}, sha256 {(file.sha256 or 'pending')[:16]}…"


def bank_version(repo: Repository, banks: Banks, unit_code: str) -> BankVersion:
    """The stored row of the unit's bank as it is now (added the first time evidence cites it)."""
    version = banks.version(unit_code)
    return repo.bank_version(unit_code, version.sha256) or repo.add(
        BankVersion(unit_code=unit_code, file=version.file, sha256=version.sha256, source=version.source)
    )
