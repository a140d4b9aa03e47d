"""Tables. Times are stored as UTC and always read back timezone-aware."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def created_at_field() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)


class Assessor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=BigInteger, unique=True)
    name: str
    created_at: datetime = created_at_field()
    role: str = "assessor"  # "assessor", or "admin": an assessor who may also add assessors
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    # What the assessor's next message is for: {"kind": "feedback" | "question", "answer_id": N}.
    awaiting: dict | None = Field(default=None, sa_type=JSON)


class StaffInvite(SQLModel, table=True):
    """A one-use code with which an admin lets a new assessor register themselves."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    role: str = "assessor"
    created_by_id: int = Field(foreign_key="assessor.id")
    created_at: datetime = created_at_field()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="assessor.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)  # it works until then, once, unless revoked
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # `nvqbot invite --revoke`


class Candidate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_type=BigInteger, unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    name: str
    created_at: datetime = created_at_field()
    # The sitting the candidate is in: their messages are answers to its current question.
    active_run_id: int | None = None  # a questionrun id; no foreign key, which would make a cycle of tables
    reminders_paused: bool = False
    # An assessor's follow-up question waiting for the candidate's reply (an assessorquestion id).
    awaited_question_id: int | None = None
    # The enrolment whose declaration the candidate has been shown and not yet signed or cancelled:
    # what they type meanwhile is never filed into an answer.
    declaring_enrolment_id: int | None = None
    timezone: str | None = None  # the centre's time zone when not set
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # they blocked the bot


class Unit(SQLModel, table=True):
    code: str = Field(primary_key=True)
    title: str
    level: int
    awarding_body: str
    source: str


class Criterion(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("unit_code", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(foreign_key="unit.code", index=True)
    ref: str
    kind: str
    text: str


class BankVersion(SQLModel, table=True):
    """One version of a unit's question bank file, known by the SHA-256 of its bytes. Rows are only added."""

    __table_args__ = (UniqueConstraint("unit_code", "sha256"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_code: str = Field(index=True)
    file: str
    sha256: str
    source: str  # the awarding body's document the bank was transcribed from
    first_loaded_at: datetime = created_at_field()


class Invite(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    unit_code: str = Field(foreign_key="unit.code")
    assessor_id: int = Field(foreign_key="assessor.id")
    deadline: date
    created_at: datetime = created_at_field()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_candidate_id: int | None = Field(default=None, foreign_key="candidate.id")
    expires_at: datetime = Field(sa_type=UTCDateTime)  # it works until then, once, unless revoked
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # `nvqbot invite --revoke`


class Enrolment(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("candidate_id", "unit_code"),)
    id: int | None = Field(default=None, primary_key=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    unit_code: str = Field(foreign_key="unit.code")
    assessor_id: int = Field(foreign_key="assessor.id", index=True)
    deadline: date
    status: str = "active"  # active, submitted, referred, signed_off
    created_at: datetime = created_at_field()
    last_activity_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the candidate's last answer


class QuestionRun(SQLModel, table=True):
    """A candidate's way through one question set; `current_question_id` is the question awaiting an answer."""

    __table_args__ = (UniqueConstraint("enrolment_id", "question_set"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    question_set: str
    current_question_id: str | None = None
    status: str = "in_progress"
    started_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Answer(SQLModel, table=True):
    """One version of a candidate's answer to a question, made of the messages in `answerpart`.

    Rows are only ever added: re-answering or editing a message makes a new version, and the latest
    version of a question is the current one. An answer is "open" while the candidate is still adding
    messages, and "complete" once they tap Done (or move on after a follow-up).
    """

    __table_args__ = (UniqueConstraint("run_id", "question_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="questionrun.id", index=True)
    question_id: str
    version: int = 1
    status: str = "open"
    # The probes asked, in order, each when the answer did not yet cover the look-fors it aims at:
    # [{"text": ..., "aims": [look-for ids], "asked_at": ISO time}] (see bot/domain/probing.py).
    probes: list = Field(default_factory=list, sa_type=JSON)
    started_at: datetime = created_at_field()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    # What was asked, as it was asked, frozen when the answer version was begun: the question's words,
    # its set, its reference in the records, the look-fors, and each criterion with its words then
    # (see bot/domain/asked.py). Records render from this, never from today's bank.
    asked: dict | None = Field(default=None, sa_type=JSON(none_as_null=True))
    bank_version_id: int | None = Field(default=None, foreign_key="bankversion.id")


class Attachment(SQLModel, table=True):
    """A file a candidate sent; its SHA-256 is filled in once the file has been fetched from Telegram."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str  # voice, audio, photo, document, video, video_note
    file_id: str
    file_unique_id: str = Field(index=True)
    file_size: int | None = None
    duration: int | None = None
    mime_type: str | None = None
    file_name: str | None = None
    sha256: str | None = Field(default=None, index=True)
    fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    fetch_attempts: int = 0  # attempts made; the backoff grows with them
    fetch_error: str | None = None  # why the last attempt failed
    # Set when the file can never be fetched (too big, refused by Telegram); fetch_error says why.
    fetch_failed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AnswerPart(SQLModel, table=True):
    """One message within an answer version: text, or an attachment with an optional caption."""

    __table_args__ = (UniqueConstraint("answer_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    seq: int
    text: str | None = None
    attachment_id: int | None = Field(default=None, foreign_key="attachment.id")
    probe_number: int | None = None  # sent in reply to the answer's probe with this number (1, 2, 3), if any
    # A forwarded message, not the candidate's own words: {"kind": user | hidden_user | chat | channel,
    # "name": the sender or chat as Telegram names it, "date": when it was first sent (ISO 8601)}.
    forwarded_from: dict | None = Field(default=None, sa_type=JSON(none_as_null=True))
    # Characters no database can hold (NUL, other control characters, lone surrogates) were replaced in `text`.
    text_cleaned: bool = False
    chat_id: int = Field(sa_type=BigInteger)
    message_id: int = Field(sa_type=BigInteger)
    update_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_at: datetime = created_at_field()
    # In a professional discussion (see Discussion) a part is either person's message, or the assessor's note.
    author: str = "candidate"  # "candidate" or "assessor"
    private: bool = False  # an assessor's note: kept in the record, never relayed to the candidate
    # Criteria the assessor referenced at this message, when they did: [{"ref": ..., "at": ISO time}].
    referenced: list = Field(default_factory=list, sa_type=JSON)


class Submission(SQLModel, table=True):
    """A candidate's declaration that the submitted answers are their own work; it locks them."""

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    declaration: str
    declared_by: str
    declared_by_telegram_id: int = Field(sa_type=BigInteger)
    declared_at: datetime = created_at_field()
    signed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_off_by_id: int | None = Field(default=None, foreign_key="assessor.id")
    # At sign-off: "competent" (every criterion of the unit met), "not_yet" (an answer referred back) or
    # "interim" (what was submitted is judged, but the unit is not yet complete).
    outcome: str | None = None
    declaration_source: str = "unit"  # "unit": the awarding body's words; "centre": nvqbot's, where it gives none
    # Signed as well when nothing of the unit was left to answer (e.g. NHS "I SUBMIT THIS AS A COMPLETE UNIT").
    complete_declaration: str | None = None
    # The unit's assessor statement, in its own words, recorded with a "competent" sign-off.
    assessor_statement: str | None = None
    # "unit": the candidate's declaration on their answers; "discussion": their confirmation that the record of a
    # professional discussion is true (it submits that record alone, and leaves the unit's status as it was).
    kind: str = "unit"


class AnswerCriterion(SQLModel, table=True):
    answer_id: int = Field(foreign_key="answer.id", primary_key=True)
    criterion_id: int = Field(foreign_key="criterion.id", primary_key=True)


class CreditConfirmation(SQLModel, table=True):
    """An assessor's confirmation that one answer, tagged to a criterion of another unit, also evidences a
    criterion of this enrolment's unit through a mapping group marked partial (a near-match)."""

    __table_args__ = (UniqueConstraint("enrolment_id", "target_ref", "answer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    target_ref: str
    answer_id: int = Field(foreign_key="answer.id")
    source_unit: str
    source_ref: str
    mapping_group: str
    assessor_id: int = Field(foreign_key="assessor.id")
    confirmed_at: datetime = created_at_field()


class InboundUpdate(SQLModel, table=True):
    """Every Telegram update, stored before Telegram is told it arrived; processed from here."""

    update_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    payload: dict = Field(sa_type=JSON)
    received_at: datetime = created_at_field()
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    attempts: int = 0
    last_error: str | None = None
    # Part of a flood (bot/domain/flood.py): left unprocessed until this time; `held_for` is whose it is.
    held_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    held_for: int | None = Field(default=None, sa_type=BigInteger, index=True)


class MessagePace(SQLModel, table=True):
    """How many of one person's updates were processed in their current minute (bot/domain/flood.py)."""

    telegram_user_id: int = Field(sa_type=BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    admitted: int = 0
    holding: bool = False  # some of the person's updates may be held: look before letting one through


class OutboundMessage(SQLModel, table=True):
    """A Bot API call (a reply, a reminder, a notice) written in the same transaction as the change it reports.

    The sender (bot/telegram/sender.py) claims the oldest pending call of each chat for a short lease, makes
    it, and records the outcome: sent; retried later (`next_attempt_at`) after a timeout, a 5xx or a 429;
    or closed for good on a permanent error (`failed`, or `unreachable` when the person blocked the bot)."""

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    method: str = "sendMessage"
    params: dict = Field(sa_type=JSON)
    created_at: datetime = created_at_field()
    status: str = Field(default="pending", index=True)  # pending, sent, failed, unreachable
    paced: bool = False  # bulk (reminders, digests): kept under Telegram's broadcast limits; replies are not
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: as soon as possible
    claimed_by: str | None = None  # the sender holding it, until claimed_until
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)  # when it was sent or closed
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    attempts: int = 0
    last_error: str | None = None


class Judgment(SQLModel, table=True):
    """An assessor's decision on one answer version: met, or not yet (referred back, with feedback)."""

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    assessor_id: int = Field(foreign_key="assessor.id")
    outcome: str  # "met" or "not_yet"
    feedback: str | None = None
    feedback_attachment_id: int | None = Field(default=None, foreign_key="attachment.id")  # a voice note
    judged_at: datetime = created_at_field()


class AssessorQuestion(SQLModel, table=True):
    """An assessor's follow-up question on an answer (assessor questioning), and the candidate's reply."""

    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    assessor_id: int = Field(foreign_key="assessor.id")
    text: str
    asked_at: datetime = created_at_field()
    reply_text: str | None = None
    reply_attachment_id: int | None = Field(default=None, foreign_key="attachment.id")
    reply_message_id: int | None = Field(default=None, sa_type=BigInteger)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """The append-only audit trail. Each event carries the hash of the one before, so an edit shows."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor: str  # e.g. "assessor:3", "candidate:7", "cli"
    action: str  # judged, signed_off, reopened, exported, asked, submitted…
    enrolment_id: int | None = Field(default=None, foreign_key="enrolment.id", index=True)
    details: dict = Field(sa_type=JSON)
    previous_hash: str
    hash: str = Field(unique=True)


class Reminder(SQLModel, table=True):
    """A nudge, recorded under a unique key before it is sent: whoever inserts the key sends it, once."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    kind: str  # "deadline", "idle", "digest" or "discussion"
    chat_id: int = Field(sa_type=BigInteger)
    candidate_id: int | None = Field(default=None, foreign_key="candidate.id", index=True)
    assessor_id: int | None = Field(default=None, foreign_key="assessor.id")
    enrolment_id: int | None = Field(default=None, foreign_key="enrolment.id")
    discussion_id: int | None = Field(default=None, foreign_key="discussion.id")  # the one a "discussion" reminder is of
    claimed_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # queued (with outbound_id: the outbox call that delivers it, and says whether it was sent) or idle_merged;
    # rows from before the outbox: sent, failed, unreachable
    status: str = "claimed"
    outbound_id: int | None = Field(default=None, foreign_key="outboundmessage.id")
    attempts: int = 0
    last_error: str | None = None


class Discussion(SQLModel, table=True):
    """A professional discussion: planned by the assessor (criteria, time), held live through the bot, and kept
    as one answer version of method PD whose parts are the messages of both, in order, each with the criteria
    the assessor referenced at it. The candidate's confirmation that the record is true submits it."""

    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    assessor_id: int = Field(foreign_key="assessor.id", index=True)
    number: int  # PD1, PD2… within the enrolment
    criteria: list = Field(default_factory=list, sa_type=JSON)  # the refs the plan covers
    planned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None while being planned
    # draft (being planned), planned, live, paused, ended (waiting for the candidate), confirmed, cancelled
    status: str = Field(default="draft", index=True)
    created_at: datetime = created_at_field()
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # both told it is about to start
    answer_id: int | None = Field(default=None, foreign_key="answer.id")  # the record, begun when it starts
    # What happened when: [{"event": "started" | "paused" | "resumed" | "ended" | "confirmed" | "disputed", "at": ISO}]
    events: list = Field(default_factory=list, sa_type=JSON)


class Witness(SQLModel, table=True):
    """Someone who saw the candidate work (often their line manager), named with the criteria they saw, and asked
    for a statement through a one-use link. Their statement is one answer version (method WT, in the enrolment's
    "witness" run) whose parts are their messages (author "witness"); it supports a decision, never makes a
    criterion met on its own."""

    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    number: int  # WT1, WT2… within the enrolment
    named_by: str  # "candidate" or "assessor"
    named_by_telegram_id: int = Field(sa_type=BigInteger, index=True)  # who named them (their draft, while naming)
    name: str
    job_role: str
    relationship: str  # to the candidate, e.g. "my line manager"
    contact: str  # how to reach them (phone, e-mail)
    criteria: list = Field(default_factory=list, sa_type=JSON)  # the refs they are asked to confirm
    code: str | None = Field(default=None, unique=True)  # the one-use link's code, made once the criteria are chosen
    code_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = created_at_field()
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the link was opened (and is spent)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger)  # who opened it
    telegram_name: str | None = None  # their Telegram name then
    answer_id: int | None = Field(default=None, foreign_key="answer.id")  # their statement
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # they signed it
    # details (the namer's next message is the four details), criteria (being chosen), invited (the link is out),
    # writing (the witness opened it and is writing), declaring (their declaration is shown), confirmed, cancelled
    status: str = Field(default="details", index=True)


class Observation(SQLModel, table=True):
    """A direct observation: what the assessor saw the candidate do, recorded from their phone as it happens
    (one answer version, method DO, in the enrolment's "observation" run, parts by the assessor), with where and
    when, and the criteria it covers; the candidate countersigns it."""

    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    assessor_id: int = Field(foreign_key="assessor.id", index=True)
    number: int  # DO1, DO2… within the enrolment
    place: str | None = None
    observed_at: datetime = Field(sa_type=UTCDateTime)
    criteria: list = Field(default_factory=list, sa_type=JSON)
    # choosing (criteria), placing (the assessor's next message says where), recording, awaiting_countersignature,
    # countersigned, cancelled
    status: str = "recording"
    answer_id: int | None = Field(default=None, foreign_key="answer.id")
    created_at: datetime = created_at_field()
    countersigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Product(SQLModel, table=True):
    """A product of the candidate's work (a document or photo) given as evidence for chosen performance criteria,
    with a line on what it shows: one answer version, method P, in the enrolment's "product" run."""

    __table_args__ = (UniqueConstraint("enrolment_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    number: int  # P1, P2… within the enrolment
    criteria: list = Field(default_factory=list, sa_type=JSON)
    status: str = "choosing"  # choosing (criteria), awaiting_file, awaiting_line (what it shows), complete, cancelled
    answer_id: int | None = Field(default=None, foreign_key="answer.id")
    created_at: datetime = created_at_field()


class WebLogin(SQLModel, table=True):
    """A one-use link to the assessor's web console (`/console`): only a hash of its token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    assessor_id: int = Field(foreign_key="assessor.id", index=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # claimed once, by one conditional UPDATE


class WebSession(SQLModel, table=True):
    """A signed-in web console: the cookie carries a token whose hash is kept here, with the form (CSRF) token."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    assessor_id: int = Field(foreign_key="assessor.id", index=True)
    csrf_token: str
    via: str  # "link" (a one-use link) or "miniapp" (Telegram's initData)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # signed out
