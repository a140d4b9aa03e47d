"""Sign-in without passwords: one-use links sent by /console, Telegram Mini App initData, and sessions.

Only hashes of the link and session tokens are stored, so a copy of the database signs no one in. A link is
claimed by one conditional UPDATE (unused and unexpired), so it works once even when two requests race.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from bot.storage.models import Assessor, WebLogin, WebSession


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_login(session: Session, assessor: Assessor, now: datetime, minutes: int) -> str:
    """A new one-use sign-in token for the assessor (returned once; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    assert assessor.id is not None
    session.add(WebLogin(token_hash=token_hash(token), assessor_id=assessor.id, created_at=now,
                         expires_at=now + timedelta(minutes=minutes)))
    session.flush()
    return token


def claim_login(session: Session, token: str, now: datetime) -> Assessor | None:
    """The assessor the token signs in, once: None if it is unknown, used or expired."""
    digest = token_hash(token)
    claimed = session.execute(
        update(WebLogin)
        .where(col(WebLogin.token_hash) == digest, col(WebLogin.used_at).is_(None), col(WebLogin.expires_at) > now)
        .values(used_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    login = session.exec(select(WebLogin).where(WebLogin.token_hash == digest)).one()
    return session.get(Assessor, login.assessor_id)


@dataclass(frozen=True)
class Started:
    token: str  # for the cookie
    session: WebSession


def start_session(session: Session, assessor: Assessor, via: str, now: datetime, hours: int) -> Started:
    token = secrets.token_urlsafe(32)
    assert assessor.id is not None
    row = WebSession(token_hash=token_hash(token), assessor_id=assessor.id, csrf_token=secrets.token_urlsafe(32),
                     via=via, created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.flush()
    return Started(token, row)


def current_session(session: Session, token: str | None, now: datetime) -> tuple[WebSession, Assessor] | None:
    """The live session the cookie names, with its assessor; None if there is none, or it expired or ended."""
    if not token:
        return None
    row = session.exec(
        select(WebSession).where(
            WebSession.token_hash == token_hash(token), col(WebSession.ended_at).is_(None), col(WebSession.expires_at) > now
        )
    ).first()
    if row is None:
        return None
    assessor = session.get(Assessor, row.assessor_id)
    return (row, assessor) if assessor is not None else None


def end_session(session: Session, row: WebSession, now: datetime) -> None:
    row.ended_at = now
    session.add(row)


def csrf_ok(row: WebSession, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(row.csrf_token.encode(), (given or "").encode())


@dataclass(frozen=True)
class Purged:
    links: int
    sessions: int


def purge_expired(session: Session, now: datetime, keep: timedelta = timedelta(days=1)) -> Purged:
    """Delete the links and sessions that expired, or were used or ended, more than `keep` ago. The grace
    period keeps a refused link or session in the database for a while, so that the refusal can be diagnosed."""
    cutoff = now - keep
    links = session.execute(
        delete(WebLogin).where(or_(col(WebLogin.expires_at) < cutoff, col(WebLogin.used_at) < cutoff))
    )
    sessions = session.execute(
        delete(WebSession).where(or_(col(WebSession.expires_at) < cutoff, col(WebSession.ended_at) < cutoff))
    )
    return Purged(links.rowcount, sessions.rowcount)  # type: ignore[attr-defined]


# --- Telegram Mini App ----------------------------------------------------------------------------------


class InitDataRefused(ValueError):
    """initData that does not prove who opened the Mini App (the message says why, for the log)."""


def telegram_user_id(init_data: str, bot_token: str, now: datetime, max_age_s: int) -> int:
    """The Telegram user id that Telegram.WebApp.initData vouches for, validated as Telegram documents it
    (core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app): the data-check-string is every
    field but `hash`, as key=value, sorted by key, joined by newlines; the secret key is HMAC-SHA256 of the bot
    token keyed with "WebAppData"; the hash is HMAC-SHA256 of the data-check-string with that key, in hex.
    Stale data (auth_date older than `max_age_s`, or from the future) is refused too."""
    if not bot_token:
        raise InitDataRefused("no bot token: initData cannot be checked")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as error:
        raise InitDataRefused("initData is not a query string") from error
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataRefused("a field appears twice")
    given = fields.pop("hash", None)
    if not given:
        raise InitDataRefused("no hash")
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise InitDataRefused("the hash does not match")
    try:
        auth_date = int(fields["auth_date"])
        user_id = int(json.loads(fields["user"])["id"])
    except (KeyError, ValueError, TypeError) as error:
        raise InitDataRefused("no auth_date or user") from error
    age = now.timestamp() - auth_date
    if age > max_age_s or age < -60:
        raise InitDataRefused("auth_date is stale")
    return user_id


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """initData as Telegram would send it for `fields` (for tests and the demo)."""
    from urllib.parse import urlencode

    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode("utf-8"), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode("utf-8"), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})
