"""The console's pages: the cohort, a candidate, and the records to download."""

import asyncio
from datetime import date
from functools import partial

from aiohttp import web

from bot.documents import DOCUMENT_KINDS, render_html, render_json, render_pdf
from bot.domain.assessor_work import Denied
from bot.domain.evidence import record_for
from bot.storage.db import transaction
from bot.web import views
from bot.web.requests import BANKS, ENGINE, NOW, SETTINGS, page, refusal, signed_in, signed_out


def _today(request: web.Request) -> date:
    return request.app[NOW]().astimezone(request.app[SETTINGS].tz).date()


async def cohort(request: web.Request) -> web.Response:
    with transaction(request.app[ENGINE]) as session:
        signed = signed_in(request, session)
        if signed is None:
            return signed_out()
        filters = views.Filters.from_query(request.query)
        data = views.dashboard(signed.work, signed.assessor, filters, request.app[SETTINGS].reminder_idle_days,
                               _today(request))
        return page("cohort.html", me=signed.assessor, csrf=signed.row.csrf_token, via=signed.row.via, **data)


async def candidate(request: web.Request) -> web.Response:
    enrolment_id = int(request.match_info["enrolment"])
    with transaction(request.app[ENGINE]) as session:
        signed = signed_in(request, session)
        if signed is None:
            return signed_out()
        row = signed.work.caseload.row_for(signed.person, enrolment_id)
        if isinstance(row, Denied):
            return refusal(row)
        data = views.candidate_page(signed.work, signed.assessor, row)
        return page("candidate.html", me=signed.assessor, csrf=signed.row.csrf_token, via=signed.row.via,
                     kinds=DOCUMENT_KINDS, done=request.query.get("done"), today=_today(request), **data)


async def download(request: web.Request) -> web.StreamResponse:
    enrolment_id, kind, fmt = int(request.match_info["enrolment"]), request.match_info["kind"], request.match_info["fmt"]
    if fmt != "json" and kind not in DOCUMENT_KINDS:
        raise web.HTTPNotFound()
    with transaction(request.app[ENGINE]) as session:
        signed = signed_in(request, session)
        if signed is None:
            return signed_out()
        wanted = signed.work.caseload.request_export(signed.person, enrolment_id, (f"{kind}.{fmt}",), to="web")
        if isinstance(wanted, Denied):
            return refusal(wanted)
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

