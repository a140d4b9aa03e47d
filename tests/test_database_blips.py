"""PostgreSQL connections cut under a running bot (a restart of a pooler, an idle timeout, a network blip):
the next message is still taken once and answered, without the bot pinging the server before every use."""

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import func, select

from bot.storage.db import transaction
from bot.storage.models import AnswerPart
from tests.conftest import POSTGRES_URL
from tests.phone import PROBE_MARK, Phone, add_assessor, invite

pytestmark = pytest.mark.slow
SAM = 611


def _cut_connections(application_name: str) -> int:
    """Terminate the bot's pooled connections, but not the one holding its active lock (losing that one rightly
    stops the process)."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return len(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name "
                        "AND pid NOT IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory')"
                    ),
                    {"name": application_name},
                ).all()
            )
    finally:
        admin.dispose()


def test_connections_cut_under_the_bot_lose_no_message(emulator, bot, database_url, engine):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL connections only")
    name = f"nvqbot-{uuid.uuid4().hex[:8]}"
    bot.env["NVQBOT_DATABASE_URL"] = f"{database_url}&application_name={name}"
    add_assessor(database_url)
    code = invite(database_url)
    bot.start()
    sam = Phone(emulator, SAM, "Sam")
    sam.send(f"/start {code}")
    sam.send("We log the complaint and tell the customer what happens next.")

    assert _cut_connections(name) > 0
    reply = sam.send("Then the team leader reviews the complaints log every week.")
    assert "Got it" in reply["text"]
    assert _cut_connections(name) > 0
    after_done = sam.press("done")["text"]  # the next question, or a probe when the answer leaves a look-for out
    assert "Question 2" in after_done or PROBE_MARK in after_done

    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(AnswerPart)).one() == 2
    assert bot.process.poll() is None
