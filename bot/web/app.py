"""The web console as an aiohttp application, served in the bot's own event loop (`nvqbot run`).

Each request that reads or changes the records runs in one database transaction (`bot.storage.db.transaction`)
with a `Work` made on it, as a Telegram update does: the domain classes decide, and the replies the candidate
is owed are queued in the outbox in that same transaction, then the sender is woken.

Here: the routes, the headers every response carries, and serving. Signing in is `signin.py`, the pages
`pages.py`, what an assessor does `actions.py`, and what every request shares `requests.py`.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web
from sqlalchemy import Engine

from bot.domain.banks import Banks
from bot.settings import Settings
from bot.storage.models import utcnow
from bot.web import actions, pages, signin
from bot.web.requests import BANKS, ENGINE, NOW, SETTINGS, WAKE, Waker, page

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"


def build_app(settings: Settings, engine: Engine, banks: Banks, wake: Waker | None = None,
              now: Callable[[], datetime] = utcnow) -> web.Application:
    app = web.Application(middlewares=[_headers])
    app[SETTINGS], app[ENGINE], app[BANKS], app[WAKE], app[NOW] = settings, engine, banks, wake or Waker(), now
    app.add_routes([
        web.get("/", pages.cohort),
        web.get("/login", signin.login_page),
        web.post("/login", signin.login),
        web.get("/app", signin.miniapp_page),
        web.post("/app", signin.miniapp_login),
        web.post("/logout", signin.logout),
        web.get(r"/candidates/{enrolment:\d+}", pages.candidate),
        web.get(r"/candidates/{enrolment:\d+}/records/{kind}.{fmt:html|pdf|json}", pages.download),
        web.post(r"/candidates/{enrolment:\d+}/records/send", actions.send_to_chat),
        web.post(r"/candidates/{enrolment:\d+}/deadline", actions.move_deadline),
        web.post(r"/candidates/{enrolment:\d+}/credits", actions.confirm_credit),
        web.post(r"/answers/{answer:\d+}/judge", actions.judge),
        web.post(r"/answers/{answer:\d+}/ask", actions.ask),
        web.post(r"/submissions/{submission:\d+}/sign-off", actions.sign_off),
        web.static("/static", STATIC),
    ])
    return app


@web.middleware
async def _headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = page("not_found.html", status=404)
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; "
                                "img-src 'self' data:; form-action 'self'; "
                                "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


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
