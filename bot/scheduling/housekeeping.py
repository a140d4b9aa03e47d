"""Housekeeping: expired web-console sign-in links and sessions are deleted every so often."""

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.storage.db import transaction
from bot.storage.models import utcnow
from bot.web.auth import purge_expired

log = logging.getLogger(__name__)
JOB_ID = "web-housekeeping"


def purge_job(engine: Engine, now: Callable[[], datetime] = utcnow) -> Callable[[], Awaitable[None]]:
    """The job: one purge in one transaction, logged; a failure (e.g. the database is down) is logged, not raised."""

    async def purge() -> None:
        try:
            with transaction(engine) as session:
                purged = purge_expired(session, now())
        except Exception:  # the next run tries again
            log.exception("web housekeeping failed")
            return
        if purged.links or purged.sessions:
            log.info("web housekeeping: %d sign-in links and %d sessions deleted", purged.links, purged.sessions)

    return purge


def schedule_housekeeping(scheduler, engine: Engine, every_seconds: int, now: Callable[[], datetime] = utcnow) -> None:
    """Add the purge to a scheduler: once when it starts, then every `every_seconds`."""
    scheduler.add_job(purge_job(engine, now), "interval", id=JOB_ID, seconds=every_seconds, max_instances=1,
                      coalesce=True, next_run_time=utcnow())
