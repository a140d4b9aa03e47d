"""The console beside the real bot (`nvqbot run` against the emulator): /console sends a one-use link that
signs in to the web app the bot serves, and what is decided there reaches the candidate in Telegram."""

import re
import socket

import httpx
import pytest

from tests.botprocess import nvqbot
from tests.phone import Phone, add_assessor, invite
from tests.test_assessor_flows import ANN, BOB, FULL_ANSWER, SAM

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(emulator, bot, database_url):
    """The bot with its console on a free port; Sam has submitted two answers to Ann; Bob assesses nobody."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    bot.env.update({"NVQBOT_WEB_HOST": "127.0.0.1", "NVQBOT_WEB_PORT": str(port), "NVQBOT_WEB_URL": base})
    add_assessor(database_url, ANN)
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", str(BOB), "--name", "Bob Assessor").returncode == 0
    code = invite(database_url, assessor=ANN)
    bot.start()
    sam = Phone(emulator, SAM, "Sam", "Candidate")
    sam.send(f"/start {code}")
    sam.answer(FULL_ANSWER)
    sam.answer(FULL_ANSWER + " Every week.")
    review = sam.send("/review")
    submit = next(b["callback_data"] for row in review["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("submit:"))
    declaration = sam.press(submit, on=review)
    sam.press(declaration["reply_markup"]["inline_keyboard"][0][0]["callback_data"], on=declaration)
    return base, sam


def _sign_in(phone: Phone, base: str) -> httpx.Client:
    reply = phone.send("/console")["text"]
    link = re.search(r'href="([^"]+)"', reply).group(1)
    assert link.startswith(f"{base}/login?t=") and "works once" in reply
    http = httpx.Client(headers={"Origin": base}, follow_redirects=False, timeout=30)
    token = link.split("t=", 1)[1]
    assert http.post(f"{base}/login", data={"t": token}).status_code == 303
    assert httpx.post(f"{base}/login", data={"t": token}, headers={"Origin": base}).status_code == 403  # used
    return http


def test_console_link_signs_in_and_the_candidate_is_told_in_telegram(emulator, served):
    base, sam = served
    ann = _sign_in(Phone(emulator, ANN, "Ann"), base)
    cohort = ann.get(f"{base}/").text
    assert "Sam Candidate" in cohort
    enrolment = int(re.search(r'href="/candidates/(\d+)"', cohort).group(1))
    page = ann.get(f"{base}/candidates/{enrolment}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    first, second = dict.fromkeys(int(n) for n in re.findall(r'action="/answers/(\d+)/judge"', page))
    assert ann.post(f"{base}/answers/{first}/judge", data={"csrf": csrf, "outcome": "met"}).status_code == 303
    assert ann.post(f"{base}/answers/{second}/judge",
                    data={"csrf": csrf, "outcome": "not_yet", "feedback": "Say who checks the log."}).status_code == 303
    page = ann.get(f"{base}/candidates/{enrolment}").text
    submission = int(re.search(r'action="/submissions/(\d+)/sign-off"', page).group(1))
    before = len(sam.received)
    assert ann.post(f"{base}/submissions/{submission}/sign-off", data={"csrf": csrf}).status_code == 303
    told = sam.next_reply(before)["text"]
    assert "Say who checks the log." in told and "/review" in told

    bob = _sign_in(Phone(emulator, BOB, "Bob"), base)
    assert "Sam Candidate" not in bob.get(f"{base}/").text
    assert bob.get(f"{base}/candidates/{enrolment}").status_code == 404
    assert "assessors only" in sam.send("/console")["text"]


def test_the_running_bot_deletes_sign_in_links_that_ended_long_ago(emulator, bot, database_url):
    """Housekeeping runs in `nvqbot run` itself: at start, a link that expired two days ago is deleted and one
    still valid is kept."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine
    from sqlmodel import Session, select

    from bot.storage.models import Assessor, WebLogin
    from bot.web.auth import issue_login
    from tests.phone import wait_until

    add_assessor(database_url, ANN)
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            assessor = session.exec(select(Assessor)).one()
            now = datetime.now(UTC)
            issue_login(session, assessor, now - timedelta(days=2), 10)
            issue_login(session, assessor, now, 10)
            session.commit()
        bot.env.update({"NVQBOT_WEB_HOST": "127.0.0.1", "NVQBOT_WEB_PORT": str(_free_port())})
        bot.start()

        def left() -> list[datetime]:
            with Session(engine) as session:
                return [row.expires_at for row in session.exec(select(WebLogin)).all()]

        wait_until(lambda: len(left()) == 1, what="the old link deleted")
        assert left()[0] > datetime.now(UTC)
    finally:
        engine.dispose()
