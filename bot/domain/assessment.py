"""Assessors, invites and enrolment: how a candidate comes to be assessed on a unit."""

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.banks import Banks
from bot.domain.limits import DEFAULT_LIMITS, Limits
from bot.domain.sittings import Person, Prompt, Sittings
from bot.storage import audit
from bot.storage.ids import stored_id
from bot.storage.models import Assessor, Candidate, Enrolment, Invite, StaffInvite, utcnow
from bot.storage.repository import Repository

INVITE_CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16}$")


class DomainError(Exception):
    """A request the domain refuses; the message is fit for the person who asked."""


class InviteProblem(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    STAFF = "staff"  # a candidate's invite opened by an assessor: left for the candidate
    ALREADY_ENROLLED = "already_enrolled"


@dataclass(frozen=True)
class Enrolled:
    unit_title: str
    deadline: date
    prompt: Prompt


@dataclass(frozen=True)
class AssessorRegistered:
    name: str
    role: str


@dataclass(frozen=True)
class InviteRefused:
    problem: InviteProblem
    prompt: Prompt | None = None  # where an already-enrolled candidate can carry on


class Assessment:
    """One transaction's view of the assessment domain."""

    def __init__(
        self, repo: Repository, banks: Banks, now: Callable[[], datetime] = utcnow, limits: Limits = DEFAULT_LIMITS
    ):
        self.repo = repo
        self.banks = banks
        self.now = now
        self.limits = limits

    # assessors and invites (called from the CLI)
    def add_assessor(self, telegram_user_id: int, name: str, admin: bool = False) -> Assessor:
        if self.repo.assessor_by_telegram_id(telegram_user_id):
            raise DomainError(f"an assessor with Telegram id {telegram_user_id} already exists")
        assessor = self.repo.add(
            Assessor(telegram_user_id=telegram_user_id, name=name.strip(), role="admin" if admin else "assessor")
        )
        audit.record(self.repo.session, "cli", "registered", None, {"assessor_id": assessor.id, "role": assessor.role}, self.now())
        return assessor

    def create_invite(self, unit_code: str, assessor_telegram_id: int, deadline: date) -> Invite:
        if self.banks.unit(unit_code) is None:
            known = ", ".join(sorted(self.banks.units))
            raise DomainError(f"no unit {unit_code!r} in the question banks (known: {known})")
        assessor = self.repo.assessor_by_telegram_id(assessor_telegram_id)
        if assessor is None:
            raise DomainError(f"no assessor with Telegram id {assessor_telegram_id}; add one with 'nvqbot assessor add'")
        refuse_past_deadline(deadline, self.now())
        code = secrets.token_urlsafe(12)  # 16 URL-safe characters, fit for a t.me deep link
        expires_at = self.limits.invite_expires_at(self.now())
        return self.repo.add(
            Invite(code=code, unit_code=unit_code, assessor_id=stored_id(assessor), deadline=deadline, expires_at=expires_at)
        )

    def revoke_invite(self, code: str) -> Invite | StaffInvite:
        """Stop an unused code (a candidate's or an assessor's) from ever working."""
        invite = self.repo.invite_by_code(code) or self.repo.staff_invite_by_code(code)
        if invite is None:
            raise DomainError(f"no invite with the code {code!r}")
        if not self.repo.revoke_invite(invite, self.now()):
            used = invite.used_at is not None
            raise DomainError(f"the invite {code} was already {'used' if used else 'revoked'}: nothing to revoke")
        return invite

    def change_deadline(self, candidate_telegram_id: int, unit_code: str, deadline: date) -> Enrolment:
        candidate = self.repo.candidate_by_telegram_id(candidate_telegram_id)
        enrolment = self.repo.enrolment(stored_id(candidate), unit_code) if candidate else None
        if enrolment is None:
            raise DomainError(f"no enrolment of candidate {candidate_telegram_id} on unit {unit_code!r}")
        return change_deadline(self.repo, enrolment, deadline, "cli", self.now())

    def set_timezone(self, candidate_telegram_id: int, zone: str) -> Candidate:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise DomainError(f"unknown time zone {zone!r} (use an IANA name such as Europe/London)") from None
        candidate = self.repo.candidate_by_telegram_id(candidate_telegram_id)
        if candidate is None:
            raise DomainError(f"no candidate with Telegram id {candidate_telegram_id}")
        candidate.timezone = zone
        return self.repo.add(candidate)

    def record_export(self, candidate_telegram_id: int, unit_code: str, formats: list[str]) -> None:
        """Note in the audit trail that evidence left the system from the command line."""
        candidate = self.repo.candidate_by_telegram_id(candidate_telegram_id)
        enrolment = self.repo.enrolment(stored_id(candidate), unit_code) if candidate else None
        audit.record(self.repo.session, "cli", "exported", enrolment.id if enrolment else None,
                     {"formats": formats, "to": "files"}, self.now())

    # the candidate's side
    def redeem_invite(self, person: Person, code: str) -> Enrolled | AssessorRegistered | InviteRefused:
        if not INVITE_CODE_PATTERN.match(code):
            return InviteRefused(InviteProblem.MALFORMED)
        invite = self.repo.invite_by_code(code)
        if invite is None:
            return self._redeem_staff_invite(person, code)
        if self.repo.assessor_by_telegram_id(person.user_id):
            return InviteRefused(InviteProblem.STAFF)
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate and (enrolment := self.repo.enrolment(stored_id(candidate), invite.unit_code)):
            prompt = Sittings(self.repo, self.banks, self.now).resume(person)
            return InviteRefused(InviteProblem.ALREADY_ENROLLED, prompt if isinstance(prompt, Prompt) else None)
        if not self.repo.claim_invite(invite, self.now()):
            return InviteRefused(_why_unclaimed(invite))
        candidate = candidate or self.repo.add(
            Candidate(telegram_user_id=person.user_id, chat_id=person.chat_id, name=person.name, created_at=self.now())
        )
        invite.used_by_candidate_id = candidate.id
        self.repo.add(invite)
        enrolment = self.repo.add(
            Enrolment(
                candidate_id=stored_id(candidate),
                unit_code=invite.unit_code,
                assessor_id=invite.assessor_id,
                deadline=invite.deadline,
                created_at=self.now(),
            )
        )
        return Enrolled(
            unit_title=self.banks.units[invite.unit_code].unit.title,
            deadline=invite.deadline,
            prompt=Sittings(self.repo, self.banks, self.now).begin(candidate, enrolment),
        )


    def _redeem_staff_invite(self, person: Person, code: str) -> AssessorRegistered | InviteRefused:
        """An admin's one-use code registers the person who opens it as an assessor."""
        invite = self.repo.staff_invite_by_code(code)
        if invite is None:
            return InviteRefused(InviteProblem.UNKNOWN)
        if self.repo.assessor_by_telegram_id(person.user_id) or self.repo.candidate_by_telegram_id(person.user_id):
            return InviteRefused(InviteProblem.ALREADY_ENROLLED)
        if not self.repo.claim_invite(invite, self.now()):
            return InviteRefused(_why_unclaimed(invite))
        assessor = self.repo.add(
            Assessor(telegram_user_id=person.user_id, name=person.name, role=invite.role, chat_id=person.chat_id)
        )
        invite.used_by_id = assessor.id
        self.repo.add(invite)
        audit.record(self.repo.session, f"assessor:{assessor.id}", "registered", None,
                     {"staff_invite_id": invite.id, "role": invite.role}, self.now())
        return AssessorRegistered(assessor.name, assessor.role)


def _why_unclaimed(invite: Invite | StaffInvite) -> InviteProblem:
    """Why a claim found nothing to claim, read after it (the claim itself is the check)."""
    if invite.used_at is not None:
        return InviteProblem.USED
    return InviteProblem.REVOKED if invite.revoked_at is not None else InviteProblem.EXPIRED


def refuse_past_deadline(deadline: date, now: datetime) -> None:
    """The one rule for every deadline set (invites, the CLI, /deadline): today or later."""
    if deadline < now.date():
        raise DomainError(f"the deadline {deadline.isoformat()} is in the past")


def change_deadline(repo: Repository, enrolment: Enrolment, deadline: date, actor: str, now: datetime) -> Enrolment:
    refuse_past_deadline(deadline, now)
    previous = enrolment.deadline
    enrolment.deadline = deadline
    repo.add(enrolment)
    audit.record(repo.session, actor, "deadline_changed", enrolment.id,
                 {"from": previous.isoformat(), "to": deadline.isoformat()}, now)
    return enrolment
