"""The web console over real HTTP (the app on a free port), on SQLite and PostgreSQL: signing in by one-use link
and by Mini App initData, the cohort and its filters, judging and sign-off (the candidate told through the
outbox), another assessor's candidates kept out of sight, and cross-site or token-less posts refused."""

import asyncio
import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from sqlmodel import func, select

from bot.domain.assessment import Assessment
from bot.domain.coverage import MET
from bot.domain.sittings import Person
from bot.settings import Settings
from bot.storage import audit
from bot.storage.db import transaction
from bot.storage.models import Assessor, Enrolment, Judgment, OutboundMessage, Submission, WebLogin
from bot.storage.repository import Repository
from bot.telegram.evidence import EVIDENCE_CALL
from bot.web.app import Waker, build_app
from bot.web.auth import issue_login, sign_init_data
from tests.test_coverage import _a_partial_credit, answer_tagged, coverage, enrol, judge_all, submit
from tests.test_judging import ANN, BOB, SAM, submitted  # noqa: F401  (a fixture: Sam has submitted two answers)

TOKEN = "123456:TEST-TOKEN"
ADA = Person(13, 13, "Ada Admin")  # the centre's admin, who assesses nobody


class Server:
    def __init__(self, app: web.Application, port: int):
        self.app, self.port = app, port
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        runner = web.AppRunner(self.app)
        self.loop.run_until_complete(runner.setup())
        self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.runner = runner
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(runner.cleanup())

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(engine, banks, database_url):
    """The console on a free port: (its base URL, a list that grows each time it wakes the sender)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(database_url=database_url, telegram_token=TOKEN, web_url=base, _env_file=None)
    woken: list[int] = []
    with Server(build_app(settings, engine, banks, Waker(lambda: woken.append(1))), port):
        yield base, woken


@pytest.fixture
def console(engine, banks, database_url, submitted):
    with serving(engine, banks, database_url) as served:
        yield served


def client(base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Origin": base}, follow_redirects=False, timeout=60)


def login_token(engine, person: Person, now: datetime | None = None, minutes: int = 10) -> str:
    with transaction(engine) as session:
        assessor = session.exec(select(Assessor).where(Assessor.telegram_user_id == person.user_id)).one()
        return issue_login(session, assessor, now or datetime.now(UTC), minutes)


def signed_in(engine, base: str, person: Person) -> httpx.Client:
    http = client(base)
    token = login_token(engine, person)
    assert 'name="t"' in http.get(f"/login?t={token}").text  # the GET only shows the button: nothing is used up
    response = http.post("/login", data={"t": token})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    return http


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def enrolment_of(page: str) -> int:
    return int(re.search(r'href="/candidates/(\d+)"', page).group(1))


def test_a_one_use_link_signs_in_once_and_an_expired_one_never(engine, console):
    base, _ = console
    http = signed_in(engine, base, ANN)
    page = http.get("/")
    assert page.status_code == 200 and "Sam Candidate" in page.text and "Your cohort" in page.text

    token = login_token(engine, ANN)
    assert client(base).post("/login", data={"t": token}).status_code == 303
    reused = client(base).post("/login", data={"t": token})
    assert reused.status_code == 403 and "doesn't work any more" in reused.text
    stale = login_token(engine, ANN, now=datetime.now(UTC) - timedelta(minutes=11))
    assert client(base).post("/login", data={"t": stale}).status_code == 403
    assert client(base).post("/login", data={"t": "made-up"}).status_code == 403
    assert client(base).get("/").status_code == 401  # no session, no cohort


def test_the_cohort_lists_the_assessors_candidates_and_filters(engine, console):
    base, _ = console
    http = signed_in(engine, base, ANN)
    page = http.get("/").text
    assert "Unit cg-310" in page and "310.4.1" in page and "days left" in page and "0 / " in page
    assert "Sam Candidate" in http.get("/?unit=cg-310&status=answered&sort=name&order=desc").text
    assert "Sam Candidate" not in http.get("/?status=met").text  # nothing of Sam's is met yet
    assert "Sam Candidate" not in http.get("/?unit=nope").text
    assert http.get("/?sort=bogus&status=bogus").status_code == 200
    assert "Sam Candidate" not in http.get("/?risk=1").text  # 30 days to go, and active today
    with transaction(engine) as session:
        enrolment = session.exec(select(Enrolment)).one()
        enrolment.deadline = date.today() + timedelta(days=3)
        session.add(enrolment)
    at_risk = http.get("/?risk=1").text
    assert "Sam Candidate" in at_risk and "At risk: due soon, criteria missing" in at_risk


def test_judging_met_and_not_yet_then_sign_off_and_the_candidate_is_told(engine, console):
    base, woken = console
    http = signed_in(engine, base, ANN)
    enrolment = enrolment_of(http.get("/").text)
    page = http.get(f"/candidates/{enrolment}").text
    assert "Look for" in page and "310.4.1" in page
    answers = [int(n) for n in dict.fromkeys(re.findall(r'action="/answers/(\d+)/judge"', page))]
    assert len(answers) == 2
    csrf = csrf_of(page)

    assert http.post(f"/answers/{answers[0]}/judge", data={"csrf": csrf, "outcome": "met"}).status_code == 303
    refused = http.post(f"/answers/{answers[1]}/judge", data={"csrf": csrf, "outcome": "not_yet", "feedback": " "})
    assert refused.status_code == 400 and "needs feedback" in refused.text
    forged = http.post(f"/answers/{answers[1]}/judge", data={"csrf": csrf, "outcome": "excellent"})
    assert forged.status_code == 400 and "can't be done" in forged.text and "needs feedback" not in forged.text
    judged = http.post(f"/answers/{answers[1]}/judge",
                       data={"csrf": csrf, "outcome": "not_yet", "feedback": "Say how repeats are spotted."})
    assert judged.status_code == 303 and judged.headers["location"] == f"/candidates/{enrolment}?done=judged"

    asked = http.post(f"/answers/{answers[1]}/ask", data={"csrf": csrf, "question": "Who reviews the log?"})
    assert asked.status_code == 303 and asked.headers["location"] == f"/candidates/{enrolment}?done=asked"
    page = http.get(f"/candidates/{enrolment}").text
    assert "Say how repeats are spotted." in page and "Sign off S1" in page
    submission = int(re.search(r'action="/submissions/(\d+)/sign-off"', page).group(1))
    decided = http.post(f"/submissions/{submission}/sign-off", data={"csrf": csrf})
    assert decided.status_code == 303 and decided.headers["location"] == f"/candidates/{enrolment}?done=signed_off"
    again = http.post(f"/submissions/{submission}/sign-off", data={"csrf": csrf})
    assert again.status_code == 409 and "already been signed off" in again.text

    with transaction(engine) as session:
        told = session.exec(select(OutboundMessage).where(OutboundMessage.chat_id == SAM.chat_id)
                            .order_by(OutboundMessage.id)).all()
        texts = [m.params["text"] for m in told]
        assert any("Who reviews the log?" in t for t in texts)  # follow_up_question.html
        assert any("Say how repeats are spotted." in t and "/review" in t for t in texts)  # outcome.html
        assert session.get(Submission, submission).outcome == "not_yet"
        actions = [e.action for e in audit.events(session, enrolment)]
        assert actions[-4:] == ["judged", "judged", "asked", "signed_off"]
        assert all(e.actor == f"assessor:{session.exec(select(Assessor.id).where(Assessor.telegram_user_id == ANN.user_id)).one()}"
                   for e in audit.events(session, enrolment)[-4:])
        assert audit.broken_links(session) == []
    assert woken  # the sender was woken for the candidate's messages


def test_records_download_as_pdf_html_and_json(engine, console):
    base, _ = console
    http = signed_in(engine, base, ANN)
    enrolment = enrolment_of(http.get("/").text)
    pdf = http.get(f"/candidates/{enrolment}/records/transcript.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    html = http.get(f"/candidates/{enrolment}/records/coverage.html")
    assert html.status_code == 200 and "Sam Candidate" in html.text
    record = json.loads(http.get(f"/candidates/{enrolment}/records/evidence.json").text)
    assert record["evidence"]["candidate"]["name"] == "Sam Candidate"
    with transaction(engine) as session:  # each download is in the audit trail, with what went where
        exported = [e.details for e in audit.events(session, enrolment) if e.action == "exported"]
    assert exported == [{"formats": [name], "to": "web"}
                        for name in ("transcript.pdf", "coverage.html", "evidence.json")]


def test_the_records_can_be_sent_to_the_assessors_telegram_chat_as_the_chat_export_sends_them(engine, console):
    base, woken = console
    http = signed_in(engine, base, ANN)
    enrolment = enrolment_of(http.get("/").text)
    csrf = csrf_of(http.get(f"/candidates/{enrolment}").text)
    sent = http.post(f"/candidates/{enrolment}/records/send", data={"csrf": csrf})
    assert sent.status_code == 303 and sent.headers["location"] == f"/candidates/{enrolment}?done=sent" and woken
    assert "on their way to your Telegram chat" in http.get(sent.headers["location"]).text
    with transaction(engine) as session:
        to_ann = session.exec(select(OutboundMessage).where(OutboundMessage.chat_id == ANN.chat_id)
                              .order_by(OutboundMessage.id)).all()
        exported = [e.details for e in audit.events(session, enrolment) if e.action == "exported"]
    assert [m.method for m in to_ann] == ["sendMessage", EVIDENCE_CALL]
    assert "cg-310" in to_ann[0].params["text"] and to_ann[1].params["unit"] == "cg-310"
    assert exported == [{"formats": ["pdf"], "to": "telegram"}]
    bob = signed_in(engine, base, BOB)
    assert bob.post(f"/candidates/{enrolment}/records/send", data={"csrf": csrf_of(bob.get("/").text)}).status_code == 404


def test_an_admin_sees_the_centres_candidates_reads_and_downloads_but_judges_only_their_own(engine, banks, console):
    base, _ = console
    with transaction(engine) as session:
        Assessment(Repository(session), banks).add_assessor(ADA.user_id, ADA.name, admin=True)
    ann = signed_in(engine, base, ANN)
    enrolment = enrolment_of(ann.get("/").text)
    answer = int(re.search(r'action="/answers/(\d+)/judge"', ann.get(f"/candidates/{enrolment}").text).group(1))

    ada = signed_in(engine, base, ADA)
    cohort = ada.get("/").text
    assert "Sam Candidate" in cohort and "<td>Ann Assessor</td>" in cohort and "every candidate in the centre" in cohort
    with transaction(engine) as session:
        ada_id = session.exec(select(Assessor.id).where(Assessor.telegram_user_id == ADA.user_id)).one()
    ann_id = int(re.search(r'<option value="(\d+)">Ann Assessor</option>', cohort).group(1))  # the filter
    assert "Sam Candidate" in ada.get(f"/?assessor={ann_id}").text
    assert "Sam Candidate" not in ada.get(f"/?assessor={ada_id}").text
    page = ada.get(f"/candidates/{enrolment}")
    assert page.status_code == 200 and "is assessed by Ann Assessor" in page.text and "Look for" in page.text
    assert "/judge" not in page.text and "/ask" not in page.text and "/sign-off" not in page.text
    assert ada.get(f"/candidates/{enrolment}/records/evidence.json").status_code == 200
    csrf = csrf_of(page.text)
    assert ada.post(f"/answers/{answer}/judge", data={"csrf": csrf, "outcome": "met"}).status_code == 404
    assert ada.post(f"/answers/{answer}/ask", data={"csrf": csrf, "question": "Why?"}).status_code == 404
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Judgment)).one() == 0
        exported = [(e.actor, e.details["to"]) for e in audit.events(session, enrolment) if e.action == "exported"]
    assert exported == [(f"assessor:{ada_id}", "web")]


def test_another_assessor_sees_none_of_the_first_ones_candidates(engine, console):
    base, _ = console
    ann = signed_in(engine, base, ANN)
    enrolment = enrolment_of(ann.get("/").text)
    page = ann.get(f"/candidates/{enrolment}").text
    answer = int(re.search(r'action="/answers/(\d+)/judge"', page).group(1))
    bob = signed_in(engine, base, BOB)
    cohort = bob.get("/").text
    assert "Sam Candidate" not in cohort
    csrf = csrf_of(cohort)
    assert bob.get(f"/candidates/{enrolment}").status_code == 404
    assert bob.get(f"/candidates/{enrolment}/records/transcript.html").status_code == 404
    assert bob.get(f"/candidates/{enrolment}/records/evidence.json").status_code == 404
    assert bob.post(f"/answers/{answer}/judge", data={"csrf": csrf, "outcome": "met"}).status_code == 404
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Judgment)).one() == 0


def test_a_post_without_the_csrf_token_or_from_another_origin_changes_nothing(engine, console):
    base, _ = console
    http = signed_in(engine, base, ANN)
    enrolment = enrolment_of(http.get("/").text)
    page = http.get(f"/candidates/{enrolment}").text
    answer = int(re.search(r'action="/answers/(\d+)/judge"', page).group(1))
    csrf = csrf_of(page)
    assert http.post(f"/answers/{answer}/judge", data={"outcome": "met"}).status_code == 403
    assert http.post(f"/answers/{answer}/judge", data={"outcome": "met", "csrf": "x" + csrf}).status_code == 403
    evil = {"Origin": "https://evil.example"}
    assert http.post(f"/answers/{answer}/judge", data={"outcome": "met", "csrf": csrf}, headers=evil).status_code == 403
    no_origin = httpx.Client(base_url=base, cookies=http.cookies, follow_redirects=False)
    assert no_origin.post(f"/answers/{answer}/judge", data={"outcome": "met", "csrf": csrf}).status_code == 403
    cross_referer = {"Origin": "", "Referer": "https://evil.example/page"}
    assert no_origin.post(f"/answers/{answer}/judge", data={"outcome": "met", "csrf": csrf},
                          headers=cross_referer).status_code == 403
    token = login_token(engine, ANN)
    assert client(base).post("/login", data={"t": token}, headers=evil).status_code == 403
    with transaction(engine) as session:
        assert session.exec(select(func.count()).select_from(Judgment)).one() == 0
    assert client(base).post("/login", data={"t": token}).status_code == 303  # the refused post did not use it up


def _init_data(user_id: int, auth_date: int) -> str:
    return sign_init_data({"auth_date": str(auth_date), "query_id": "AAH", "user": json.dumps({"id": user_id, "first_name": "Ann"})}, TOKEN)


def test_mini_app_init_data_signs_in_only_when_genuine_and_fresh(engine, console):
    base, _ = console
    now = int(time.time())
    good = _init_data(ANN.user_id, now)
    tampered = good.replace("Ann", "Bob")
    forged = sign_init_data({"auth_date": str(now), "user": json.dumps({"id": ANN.user_id})}, "999:OTHER")
    stale = _init_data(ANN.user_id, now - 2 * 3600)
    for bad in [tampered, forged, stale, "", "hash=00", good + "&auth_date=1"]:
        refused = client(base).post("/app", data={"init_data": bad})
        assert refused.status_code == 403, bad
    assert client(base).post("/app", data={"init_data": _init_data(SAM.user_id, now)}).status_code == 403  # no assessor
    response = client(base).post("/app", data={"init_data": good})
    assert response.status_code == 303
    # Telegram Web opens a Mini App in a cross-site frame: the cookie is one a browser keeps there (a client
    # outside a browser does not send a Secure cookie over plain http, so the test sends it itself).
    cookie = response.headers["set-cookie"]
    assert all(part in cookie for part in ("HttpOnly", "Secure", "SameSite=None", "Partitioned")), cookie
    http = client(base)
    http.headers["Cookie"] = cookie.split(";", 1)[0]
    assert "Sam Candidate" in http.get("/").text
    assert 'telegram-web-app.js' in http.get("/").text  # themed from Telegram inside the Mini App
    logout = http.post("/logout", data={"csrf": csrf_of(http.get("/").text)})
    assert logout.status_code == 303 and "Max-Age=0" in logout.headers["set-cookie"]
    assert "Partitioned" in logout.headers["set-cookie"] and http.get("/").status_code == 401
    assert client(base).post("/app", data={"init_data": good}, headers={"Origin": "https://evil.example"}).status_code == 403


def test_the_console_reply_offers_the_mini_app_only_over_https(engine, submitted, database_url):
    from bot.web.links import console_link

    with transaction(engine) as session:
        assessor = session.exec(select(Assessor).where(Assessor.telegram_user_id == ANN.user_id)).one()
        now = datetime.now(UTC)
        secure = Settings(database_url=database_url, web_url="https://console.example.org/", _env_file=None)
        link, minutes, keyboard = console_link(session, assessor, now, secure)
        assert link.startswith("https://console.example.org/login?t=") and minutes == 10
        assert keyboard.inline_keyboard[0][0].web_app.url == "https://console.example.org/app"
        plain = Settings(database_url=database_url, web_port=9999, _env_file=None)
        link, _, keyboard = console_link(session, assessor, now, plain)
        assert link.startswith("http://127.0.0.1:9999/login?t=") and keyboard is None
        stored = session.exec(select(WebLogin)).all()
        assert len(stored) == 2 and all(row.token_hash not in link for row in stored)  # only hashes are kept


def test_a_professional_discussion_record_appears_as_an_answer_and_is_judged_like_one(engine, banks, console):
    from tests.test_discussions_domain import act, message, planned

    base, _ = console
    http = signed_in(engine, base, ANN)
    enrolment = enrolment_of(http.get("/").text)
    plan = planned(engine, banks, enrolment)
    act(engine, banks, "talk", "start", ANN, plan.discussion_id)
    told = act(engine, banks, "talk", "take", SAM, message(SAM, "A delivery was missed, so I rang the depot.", 20))
    act(engine, banks, "talk", "reference", ANN, told.part_id, "310.1.1")
    act(engine, banks, "talk", "note", ANN, "Clear, real example.")
    act(engine, banks, "talk", "end", ANN, plan.discussion_id)
    act(engine, banks, "talk", "confirm", SAM, plan.discussion_id, "It is a true record.")

    page = http.get(f"/candidates/{enrolment}").text
    assert "PD1.v1" in page and "A delivery was missed, so I rang the depot." in page
    assert "<b>Note:</b> Clear, real example." in page  # the assessor's private note, marked as one
    pd_answer = int(re.search(r'id="answer-PD1.v1".*?action="/answers/(\d+)/judge"', page, re.S).group(1))
    assert http.post(f"/answers/{pd_answer}/judge", data={"csrf": csrf_of(page), "outcome": "met"}).status_code == 303
    cohort = http.get("/?status=met").text
    assert "Sam Candidate" in cohort and "310.1.1: Met" in cohort


def test_a_near_match_credit_is_confirmed_and_the_deadline_moved_from_the_candidate_page(engine, banks, database_url):
    source_unit, source_ref, target_unit, target_ref = _a_partial_credit(banks)
    sam = enrol(engine, banks, source_unit, target_unit)
    answer_tagged(sam, source_unit, source_ref)
    submit(sam, source_unit)
    judge_all(engine, banks)
    with serving(engine, banks, database_url) as (base, _):
        http = signed_in(engine, base, ANN)
        enrolment = enrolment_of(http.get(f"/?unit={target_unit}").text)
        page = http.get(f"/candidates/{enrolment}").text
        assert "Near-match credit to confirm" in page and f"Confirm {target_ref}" in page
        answer, csrf = re.search(r'name="answer" value="(\d+)"', page).group(1), csrf_of(page)
        credit = f"/candidates/{enrolment}/credits"
        assert http.post(credit, data={"csrf": csrf, "answer": answer, "criterion": "no-such"}).status_code == 409
        confirmed = http.post(credit, data={"csrf": csrf, "answer": answer, "criterion": target_ref})
        assert confirmed.status_code == 303 and confirmed.headers["location"].endswith("?done=credit")
        assert coverage(engine, banks, SAM, target_unit).criterion(target_ref).status == MET
        assert "Near-match credit to confirm" not in http.get(f"/candidates/{enrolment}").text

        later = date.today() + timedelta(days=60)
        deadline = f"/candidates/{enrolment}/deadline"
        moved = http.post(deadline, data={"csrf": csrf, "deadline": later.isoformat()})
        assert moved.status_code == 303 and "Deadline moved" in http.get(moved.headers["location"]).text
        past = http.post(deadline, data={"csrf": csrf, "deadline": (date.today() - timedelta(days=1)).isoformat()})
        assert past.status_code == 409 and "into the past" in past.text
        assert http.post(deadline, data={"csrf": csrf, "deadline": "soon"}).status_code == 400
        bob = signed_in(engine, base, BOB)
        assert bob.post(deadline, data={"csrf": csrf_of(bob.get("/").text), "deadline": "2031-01-01"}).status_code == 404
    with transaction(engine) as session:
        assert session.get(Enrolment, enrolment).deadline == later
        actions = [e.action for e in audit.events(session, enrolment)]
    assert "confirmed_credit" in actions
