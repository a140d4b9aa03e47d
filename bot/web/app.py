"""The web console as an aiohttp application, served in the bot's own event loop (`nvqbot run`).

Each request that reads or changes the records runs in one database transaction (`bot.storage.db.transaction`)
with a `Work` made on it, as a Telegram update does: the domain classes decide, and the replies the candidate
is owed are queued in the outbox in that same transaction, then the sender is woken.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine

from bot.documents import DOCUMENT_KINDS, render_html, render_json, render_pdf
from bot.domain.assessor_work import Denied
from bot.domain.banks import Banks
from bot.domain.caseload import SignedOff, UnitNotComplete
from bot.domain.evidence import record_for
from bot.domain.judging import Asked
from bot.rendering import web_page
from bot.settings import Settings
from bot.storage.db import transaction
from bot.storage.models import Answer, Assessor, QuestionRun, Submission, WebSession, utcnow
from bot.telegram.assessing import send_records, tell_candidate
from bot.telegram.work import Work
from bot.web import auth, views

log = logging.getLogger(__name__)
COOKIE = "nvqbot_session"
STATIC = Path(__file__).resolve().parent / "static"


class Waker:
    """Wakes the outbox sender once one runs (the console may start before it, and runs without one in tests)."""

    def __init__(self, wake: Callable[[], None] | None = None):
        self.wake = wake

    def __call__(self) -> None:
        if self.wake is not None:
            self.wake()


SETTINGS = web.AppKey("settings", Settings)
ENGINE = web.AppKey("engine", Engine)
BANKS = web.AppKey("banks", Banks)
WAKE = web.AppKey("wake", Waker)
NOW: web.AppKey[Callable[[], datetime]] = web.AppKey("now")


def build_app(settings: Settings, engine: Engine, banks: Banks, wake: Waker | None = None,
              now: Callable[[], datetime] = utcnow) -> web.Application:
    app = web.Application(middlewares=[_headers])
    app[SETTINGS], app[ENGINE], app[BANKS], app[WAKE], app[NOW] = settings, engine, banks, wake or Waker(), now
    app.add_routes([
        web.get("/", cohort),
        web.get("/login", login_page),
        web.post("/login", login),
        web.get("/app", miniapp_page),
        web.post("/app", miniapp_login),
        web.post("/logout", logout),
        web.get(r"/candidates/{enrolment:\d+}", candidate),
        web.get(r"/candidates/{enrolment:\d+}/records/{kind}.{fmt:html|pdf|json}", download),
        web.post(r"/candidates/{enrolment:\d+}/records/send", send_to_chat),
        web.post(r"/answers/{answer:\d+}/judge", judge),
        web.post(r"/answers/{answer:\d+}/ask", ask),
        web.post(r"/submissions/{submission:\d+}/sign-off", sign_off),
        web.static("/static", STATIC),
    ])
    return app


@web.middleware
async def _headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = _page("not_found.html", status=404)
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
                                "img-src 'self' data:; form-action 'self'; "
                                "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _page(template: str, status: int = 200, **context) -> web.Response:
    return web.Response(text=web_page(template, **context), status=status, content_type="text/html")


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _same_origin(request: web.Request) -> bool:
    """A state-changing request must come from the console's own pages: Origin, else Referer, must name it."""
    own = _origin(request.app[SETTINGS].web_base_url)
    origin = request.headers.get("Origin")
    if origin:
        return origin.lower() == own
    referer = request.headers.get("Referer")
    return referer is not None and _origin(referer) == own


class Signed:
    """The request's session: the assessor, their Work, the session row."""

    def __init__(self, work: Work, session_row: WebSession, assessor: Assessor):
        self.work, self.row, self.assessor = work, session_row, assessor
        self.person = views.person_for(assessor)


def _signed_in(request: web.Request, session) -> Signed | None:
    now = request.app[NOW]
    found = auth.current_session(session, request.cookies.get(COOKIE), now())
    if found is None:
        return None
    row, assessor = found
    return Signed(Work(session, request.app[BANKS], now), row, assessor)


def _signed_out() -> web.Response:
    return _page("signed_out.html", status=401)


async def _checked_post(request: web.Request, session) -> tuple[Signed | None, dict, web.Response | None]:
    """The form of a state-changing POST, once its origin and CSRF token are checked against the session."""
    form = dict(await request.post())
    if not _same_origin(request):
        return None, form, _page("forbidden.html", status=403, reason="origin")
    signed = _signed_in(request, session)
    if signed is None:
        return None, form, _signed_out()
    if not auth.csrf_ok(signed.row, str(form.get("csrf", ""))):
        return None, form, _page("forbidden.html", status=403, reason="csrf")
    return signed, form, None


def _action(handler: Callable[[web.Request, Signed, dict], web.StreamResponse]):
    """A state-changing POST: its origin and CSRF token checked, the handler run in one transaction, and the
    outbox sender woken once that has committed if the handler queued a reply."""

    async def run(request: web.Request) -> web.StreamResponse:
        with transaction(request.app[ENGINE]) as session:
            signed, form, refused = await _checked_post(request, session)
            if refused is not None:
                return refused
            assert signed is not None
            response = handler(request, signed, form)
        if signed.work.queued:
            request.app[WAKE]()
        return response

    return run


def _cookie(response: web.StreamResponse, request: web.Request, token: str, via: str, max_age: int | None = None) -> None:
    """The session cookie (an empty token and max_age 0 clear it).

    A desktop session (via "link") lives in a top-level page: SameSite=Lax. A Mini App session may live in a
    cross-site frame (Telegram Web shows Mini Apps in an iframe of web.telegram.org), where a browser neither
    stores nor sends a Lax cookie, nor an unpartitioned third-party one: it is SameSite=None; Secure; Partitioned,
    kept for that frame only. Python's http.cookies knows no Partitioned before 3.14, so that header is written here.
    """
    settings = request.app[SETTINGS]
    age = settings.web_session_hours * 3600 if max_age is None else max_age
    if via != "miniapp":
        response.set_cookie(COOKIE, token, max_age=age, path="/", httponly=True, samesite="Lax",
                            secure=settings.web_base_url.startswith("https://"))
        return
    cookie: SimpleCookie = SimpleCookie()
    cookie[COOKIE] = token
    cookie[COOKIE].update({"max-age": str(age), "path": "/", "httponly": "1", "secure": "1", "samesite": "None"})
    response.headers.add("Set-Cookie", f"{cookie[COOKIE].OutputString()}; Partitioned")


# --- signing in ------------------------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """The page a /console link opens: a button that signs in (a GET changes nothing, so link previews and
    scanners that fetch the link do not use it up)."""
    return _page("login.html", token=request.query.get("t", ""))


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not _same_origin(request):
        return _page("forbidden.html", status=403, reason="origin")
    now = request.app[NOW]()
    with transaction(request.app[ENGINE]) as session:
        assessor = auth.claim_login(session, str(form.get("t", "")), now)
        if assessor is None:
            return _page("link_refused.html", status=403)
        started = auth.start_session(session, assessor, "link", now, request.app[SETTINGS].web_session_hours)
    response = _redirect("/")
    _cookie(response, request, started.token, "link")
    return response


async def miniapp_page(request: web.Request) -> web.Response:
    return _page("miniapp.html", miniapp=True)


async def miniapp_login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not _same_origin(request):
        return _page("forbidden.html", status=403, reason="origin")
    settings, now = request.app[SETTINGS], request.app[NOW]()
    try:
        user_id = auth.telegram_user_id(str(form.get("init_data", "")), settings.token(), now,
                                        settings.web_init_data_max_age_s)
    except auth.InitDataRefused as refused:
        log.info("Mini App sign-in refused: %s", refused)
        return _page("miniapp_refused.html", status=403)
    with transaction(request.app[ENGINE]) as session:
        work = Work(session, request.app[BANKS], request.app[NOW])
        assessor = work.repo.assessor_by_telegram_id(user_id)
        if assessor is None:
            return _page("miniapp_refused.html", status=403, not_assessor=True)
        started = auth.start_session(session, assessor, "miniapp", now, settings.web_session_hours)
    response = _redirect("/")
    _cookie(response, request, started.token, "miniapp")
    return response


@_action
def logout(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    auth.end_session(signed.work.session, signed.row, request.app[NOW]())
    response = _redirect("/login")
    _cookie(response, request, "", signed.row.via, max_age=0)
    return response


# --- pages -----------------------------------------------------------------------------------------------


def _today(request: web.Request) -> date:
    return request.app[NOW]().astimezone(request.app[SETTINGS].tz).date()


async def cohort(request: web.Request) -> web.Response:
    with transaction(request.app[ENGINE]) as session:
        signed = _signed_in(request, session)
        if signed is None:
            return _signed_out()
        filters = views.Filters.from_query(request.query)
        data = views.dashboard(signed.work, signed.assessor, filters, request.app[SETTINGS].reminder_idle_days,
                               _today(request))
        return _page("cohort.html", me=signed.assessor, csrf=signed.row.csrf_token, via=signed.row.via, **data)


async def candidate(request: web.Request) -> web.Response:
    enrolment_id = int(request.match_info["enrolment"])
    with transaction(request.app[ENGINE]) as session:
        signed = _signed_in(request, session)
        if signed is None:
            return _signed_out()
        row = signed.work.caseload.row_for(signed.person, enrolment_id)
        if isinstance(row, Denied):
            return _refused(row)
        data = views.candidate_page(signed.work, signed.assessor, row)
        return _page("candidate.html", me=signed.assessor, csrf=signed.row.csrf_token, via=signed.row.via,
                     kinds=DOCUMENT_KINDS, done=request.query.get("done"), today=_today(request), **data)


async def download(request: web.Request) -> web.StreamResponse:
    enrolment_id, kind, fmt = int(request.match_info["enrolment"]), request.match_info["kind"], request.match_info["fmt"]
    if fmt != "json" and kind not in DOCUMENT_KINDS:
        raise web.HTTPNotFound()
    with transaction(request.app[ENGINE]) as session:
        signed = _signed_in(request, session)
        if signed is None:
            return _signed_out()
        wanted = signed.work.caseload.request_export(signed.person, enrolment_id, (f"{kind}.{fmt}",), to="web")
        if isinstance(wanted, Denied):
            return _refused(wanted)
        telegram_id, unit_code = wanted
        record = record_for(session, request.app[BANKS], telegram_id, unit_code)
    stem = f"{unit_code}_{telegram_id}"
    if fmt == "json":
        body, content_type, name = render_json(record).encode("utf-8"), "application/json", f"{stem}_evidence.json"
    elif fmt == "html":
        body, content_type, name = render_html(kind, record).encode("utf-8"), "text/html", f"{stem}_{kind}.html"
    else:  # the PDF layout is slow: kept off the event loop the bot shares
        body = await asyncio.get_running_loop().run_in_executor(None, partial(render_pdf, kind, record))
        content_type, name = "application/pdf", f"{stem}_{kind}.pdf"
    return web.Response(body=body, content_type=content_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- actions: the same domain calls as the chat's buttons, and the same replies to the candidate -------------


def _enrolment_of_answer(session, answer_id: int) -> int | None:
    answer = session.get(Answer, answer_id)
    run = session.get(QuestionRun, answer.run_id) if answer is not None else None
    return run.enrolment_id if run is not None else None


def _back(enrolment_id: int | None, done: str) -> web.StreamResponse:
    return _redirect(f"/candidates/{enrolment_id}?done={done}" if enrolment_id else "/")


def _refused(denied: Denied) -> web.Response:
    if denied in (Denied.NOT_YOURS, Denied.NOT_AN_ASSESSOR):
        return _page("not_found.html", status=404)
    return _page("denied.html", status=409, denied=denied.value)


@_action
def send_to_chat(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    """The records as PDFs in the assessor's Telegram chat: inside a Mini App a download may go nowhere."""
    enrolment_id = int(request.match_info["enrolment"])
    refused = send_records(signed.work, signed.person, enrolment_id)
    return _refused(refused) if refused is not None else _back(enrolment_id, "sent")


@_action
def judge(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    answer_id = int(request.match_info["answer"])
    outcome = str(form.get("outcome", ""))
    feedback = str(form.get("feedback", "")).strip() or None
    if outcome not in ("met", "not_yet") or (outcome == "not_yet" and not feedback):
        return _page("denied.html", status=400, denied="feedback_needed")
    judgment = signed.work.judging.judge(signed.person, answer_id, outcome, feedback if outcome == "not_yet" else None)
    if isinstance(judgment, Denied):
        return _refused(judgment)
    return _back(_enrolment_of_answer(signed.work.session, answer_id), "judged")


@_action
def ask(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    answer_id = int(request.match_info["answer"])
    question = str(form.get("question", "")).strip()
    if not question:
        return _page("denied.html", status=400, denied="question_needed")
    asked = signed.work.judging.ask(signed.person, answer_id, question)
    if isinstance(asked, Denied):
        return _refused(asked)
    assert isinstance(asked, Asked)
    tell_candidate(signed.work, asked)
    return _back(_enrolment_of_answer(signed.work.session, answer_id), "asked")


@_action
def sign_off(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    submission_id = int(request.match_info["submission"])
    outcome = signed.work.caseload.sign_off(signed.person, submission_id, interim=form.get("interim") == "1")
    if isinstance(outcome, Denied):
        return _refused(outcome)
    if isinstance(outcome, UnitNotComplete):
        return _page("unit_not_complete.html", status=200, me=signed.assessor, csrf=signed.row.csrf_token,
                     via=signed.row.via, outcome=outcome)
    assert isinstance(outcome, SignedOff)
    tell_candidate(signed.work, outcome)
    submission = signed.work.session.get(Submission, submission_id)
    return _back(submission.enrolment_id if submission is not None else None, "signed_off")


async def start_web(settings: Settings, engine: Engine, banks: Banks, wake: Waker) -> web.AppRunner | None:
    """Serve the console on NVQBOT_WEB_HOST:NVQBOT_WEB_PORT; None (logged) if that address cannot be had: the bot
    runs on without its console rather than not at all."""
    runner = web.AppRunner(build_app(settings, engine, banks, wake), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
    except OSError as error:
        log.error("the web console cannot listen on %s:%s (%s); the bot runs without it",
                  settings.web_host, settings.web_port, error)
        await runner.cleanup()
        return None
    log.info("the web console is at %s", settings.web_base_url)
    return runner
