"""Housekeeping of the web console, on SQLite and PostgreSQL: sign-in links and sessions that expired, were used
or ended more than a grace period ago are deleted; live ones, and ones refused only lately, are kept."""

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine
from sqlmodel import select

from bot.domain.assessment import Assessment
from bot.scheduling.housekeeping import JOB_ID, schedule_housekeeping
from bot.storage.db import transaction
from bot.storage.models import WebLogin, WebSession
from bot.storage.repository import Repository
from bot.web.auth import Purged, purge_expired

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

# name: (expires_at, used_at or ended_at), relative to NOW; the grace period is one day.
LINKS = {
    "live": (timedelta(minutes=10), None),
    "expired-lately": (-2 * HOUR, None),
    "expired-long-ago": (-2 * DAY, None),
    "used-lately": (HOUR, -HOUR),
    "used-long-ago": (HOUR, -2 * DAY),
}
SESSIONS = {
    "live": (12 * HOUR, None),
    "expired-lately": (-2 * HOUR, None),
    "expired-long-ago": (-2 * DAY, None),
    "ended-lately": (12 * HOUR, -HOUR),
    "ended-long-ago": (12 * HOUR, -2 * DAY),
}
KEPT = ["expired-lately", "live", "used-lately"], ["ended-lately", "expired-lately", "live"]


def seed(engine, banks) -> None:
    """One assessor with a link and a session in each state (the token hash names the state)."""
    with transaction(engine) as session:
        assessor = Assessment(Repository(session), banks).add_assessor(11, "Ann Assessor")
        assert assessor.id is not None
        for name, (expires, used) in LINKS.items():
            session.add(WebLogin(token_hash=name, assessor_id=assessor.id, created_at=NOW - 3 * DAY,
                                 expires_at=NOW + expires, used_at=used and NOW + used))
        for name, (expires, ended) in SESSIONS.items():
            session.add(WebSession(token_hash=name, assessor_id=assessor.id, csrf_token="csrf", via="link",
                                   created_at=NOW - 3 * DAY, expires_at=NOW + expires, ended_at=ended and NOW + ended))


def remaining(engine) -> tuple[list[str], list[str]]:
    with transaction(engine) as session:
        links = sorted(session.exec(select(WebLogin.token_hash)).all())
        sessions = sorted(session.exec(select(WebSession.token_hash)).all())
    return links, sessions


def test_purge_deletes_only_what_expired_was_used_or_ended_before_the_grace_period(engine, banks):
    seed(engine, banks)
    with transaction(engine) as session:
        assert purge_expired(session, NOW, keep=DAY) == Purged(links=2, sessions=2)
    assert remaining(engine) == KEPT
    with transaction(engine) as session:
        assert purge_expired(session, NOW, keep=DAY) == Purged(links=0, sessions=0)


def test_a_shorter_grace_period_deletes_the_lately_refused_too(engine, banks):
    seed(engine, banks)
    with transaction(engine) as session:
        assert purge_expired(session, NOW, keep=timedelta(0)) == Purged(links=4, sessions=4)
    assert remaining(engine) == (["live"], ["live"])


async def test_the_scheduled_job_deletes_the_old_rows_and_logs_the_counts(engine, banks, caplog):
    seed(engine, banks)
    scheduler = AsyncIOScheduler(timezone="UTC")
    schedule_housekeeping(scheduler, engine, every_seconds=6 * 3600, now=lambda: NOW)
    job = scheduler.get_job(JOB_ID)
    assert job.trigger.interval == timedelta(hours=6) and job.max_instances == 1 and job.coalesce
    with caplog.at_level(logging.INFO, logger="bot.scheduling.housekeeping"):
        await job.func()
    assert remaining(engine) == KEPT
    assert "2 sign-in links and 2 sessions deleted" in caplog.text


async def test_the_job_logs_rather_than_raises_when_the_database_fails(caplog):
    broken = create_engine("sqlite://")  # no tables: every statement fails
    scheduler = AsyncIOScheduler(timezone="UTC")
    schedule_housekeeping(scheduler, broken, every_seconds=60, now=lambda: NOW)
    await scheduler.get_job(JOB_ID).func()
    assert "web housekeeping failed" in caplog.text
    broken.dispose()
