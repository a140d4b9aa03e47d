"""Signing in and out: the one-use link's page and claim, the Mini App's initData, and the session cookie."""

import logging
from http.cookies import SimpleCookie

from aiohttp import web

from bot.storage.db import transaction
from bot.storage.repository import Repository
from bot.web import auth
from bot.web.requests import COOKIE, ENGINE, NOW, SETTINGS, Signed, action, page, redirect, same_origin

log = logging.getLogger(__name__)


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


async def login_page(request: web.Request) -> web.Response:
    """The page a /console link opens: a button that signs in (a GET changes nothing, so link previews and
    scanners that fetch the link do not use it up)."""
    return page("login.html", token=request.query.get("t", ""))


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not same_origin(request):
        return page("forbidden.html", status=403, reason="origin")
    now = request.app[NOW]()
    with transaction(request.app[ENGINE]) as session:
        assessor = auth.claim_login(session, str(form.get("t", "")), now)
        if assessor is None:
            return page("link_refused.html", status=403)
        started = auth.start_session(session, assessor, "link", now, request.app[SETTINGS].web_session_hours)
    response = redirect("/")
    _cookie(response, request, started.token, "link")
    return response


async def miniapp_page(request: web.Request) -> web.Response:
    return page("miniapp.html", miniapp=True)


async def miniapp_login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    if not same_origin(request):
        return page("forbidden.html", status=403, reason="origin")
    settings, now = request.app[SETTINGS], request.app[NOW]()
    try:
        user_id = auth.telegram_user_id(str(form.get("init_data", "")), settings.token(), now,
                                        settings.web_init_data_max_age_s)
    except auth.InitDataRefused as refused:
        log.info("Mini App sign-in refused: %s", refused)
        return page("miniapp_refused.html", status=403)
    with transaction(request.app[ENGINE]) as session:
        assessor = Repository(session).assessor_by_telegram_id(user_id)
        if assessor is None:
            return page("miniapp_refused.html", status=403, not_assessor=True)
        started = auth.start_session(session, assessor, "miniapp", now, settings.web_session_hours)
    response = redirect("/")
    _cookie(response, request, started.token, "miniapp")
    return response


@action
def logout(request: web.Request, signed: Signed, form: dict) -> web.StreamResponse:
    auth.end_session(signed.work.session, signed.row, request.app[NOW]())
    response = redirect("/login")
    _cookie(response, request, "", signed.row.via, max_age=0)
    return response

