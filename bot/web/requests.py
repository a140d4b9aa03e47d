"""What every console request shares: the app's keys, pages and redirects, the signed-in session, and the
checks (origin, CSRF) and transaction of a state-changing POST."""

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import Engine

from bot.domain.assessor_work import Denied
from bot.domain.banks import Banks
from bot.rendering import web_page
from bot.settings import Settings
from bot.storage.db import transaction
from bot.storage.models import Assessor, WebSession
from bot.telegram.work import Work
from bot.web import auth, views

COOKIE = "nvqbot_session"


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


def page(template: str, status: int = 200, **context) -> web.Response:
    return web.Response(text=web_page(template, **context), status=status, content_type="text/html")


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(request: web.Request) -> bool:
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


def signed_in(request: web.Request, session) -> Signed | None:
    now = request.app[NOW]
    found = auth.current_session(session, request.cookies.get(COOKIE), now())
    if found is None:
        return None
    row, assessor = found
    return Signed(Work(session, request.app[BANKS], now), row, assessor)


def signed_out() -> web.Response:
    return page("signed_out.html", status=401, miniapp=True)  # Telegram's script, should it be inside the Mini App


async def checked_post(request: web.Request, session) -> tuple[Signed | None, dict, web.Response | None]:
    """The form of a state-changing POST, once its origin and CSRF token are checked against the session."""
    form = dict(await request.post())
    if not same_origin(request):
        return None, form, page("forbidden.html", status=403, reason="origin")
    signed = signed_in(request, session)
    if signed is None:
        return None, form, signed_out()
    if not auth.csrf_ok(signed.row, str(form.get("csrf", ""))):
        return None, form, page("forbidden.html", status=403, reason="csrf")
    return signed, form, None


def action(handler: Callable[[web.Request, Signed, dict], web.StreamResponse]):
    """A state-changing POST: its origin and CSRF token checked, the handler run in one transaction, and the
    outbox sender woken once that has committed if the handler queued a reply."""

    async def run(request: web.Request) -> web.StreamResponse:
        with transaction(request.app[ENGINE]) as session:
            signed, form, refused = await checked_post(request, session)
            if refused is not None:
                return refused
            assert signed is not None
            response = handler(request, signed, form)
        if signed.work.queued:
            request.app[WAKE]()
        return response

    return run


def back_to(enrolment_id: int | None, done: str) -> web.StreamResponse:
    return redirect(f"/candidates/{enrolment_id}?done={done}" if enrolment_id else "/")


def refusal(denied: Denied) -> web.Response:
    if denied in (Denied.NOT_YOURS, Denied.NOT_AN_ASSESSOR):
        return page("not_found.html", status=404)
    return page("denied.html", status=409, denied=denied.value)

