"""The evidence documents: a transcript, the knowledge evidence record and the criterion coverage.

Each is rendered to HTML from a Jinja2 template in `transcripts/`, and to PDF from that same HTML with
xhtml2pdf; the record itself (`bot.domain.evidence.record_for`: the evidence, its digest, when and by
which nvqbot it was made) exports as JSON. Templates see the whole record as `record` and its evidence
as `e`.

The PDF machinery (fonts for every script, "page N of M") is in `bot.pdf`, imported only when a PDF
is made: it is the largest import of the bot.
"""

import json
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup, escape
from sqlalchemy import Engine

from bot.domain.banks import Banks
from bot.domain.digest import METHOD
from bot.domain.evidence import record_for
from bot.settings import PROJECT_ROOT
from bot.storage.db import transaction

TEMPLATES = PROJECT_ROOT / "transcripts"
DOCUMENT_KINDS = ("transcript", "knowledge_record", "coverage")
_TITLES = {
    "transcript": "Transcript of evidence",
    "knowledge_record": "Knowledge evidence record",
    "coverage": "Criterion coverage record",
}
FORMATS = ("html", "pdf", "json")
# The command that recomputes a record's digest from its JSON export; every record says so.
VERIFY_COMMAND = "nvqbot verify FILE.json"
_OUTCOMES = {"met": "met", "not_yet": "not yet", "competent": "competent", "interim": "interim decision", None: "not judged"}
SHORT_SHA = 12  # hex digits of a bank version's SHA-256 shown on every page


class DocumentError(RuntimeError):
    """A document could not be produced; the message says why, in one line."""


# --- filters ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _zone(key: str) -> ZoneInfo:
    return ZoneInfo(key)


@lru_cache(maxsize=8192)
def _local(value: str, zone: str) -> str:
    local = datetime.fromisoformat(value).astimezone(_zone(zone))
    return f"{local.day} {local:%b %Y %H:%M}"


@pass_context
def _when(context, value: str | None) -> str:
    """An ISO time in the centre's time zone, like "23 Nov 2026 14:05"; a dash when there is none."""
    if not value:
        return "—"
    return _local(value, context["e"]["timezone"])


@lru_cache(maxsize=1024)
def _day(value: str | None) -> str:
    if not value:
        return "—"
    day = date.fromisoformat(value)
    return f"{day.day} {day:%b %Y}"


def _size(value: int) -> str:
    if value < 1024:
        return f"{value} bytes"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / (1024 * 1024):.1f} MB"


def _duration(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def _lines(text: str) -> Markup:
    """Text as typed, escaped, its line breaks kept."""
    return Markup("<br>").join(escape(line) for line in text.splitlines())


def _details(details: dict | str | None) -> str:
    """An audit event's summary; details kept as a dict come out on one line: "answer: Q1.v1; outcome: met"."""
    if not isinstance(details, dict):
        return details or ""

    def shown(value) -> str:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)

    return "; ".join(f"{key}: {shown(value)}" for key, value in sorted(details.items()))


def _short(sha256: str | None) -> str:
    return (sha256 or "")[:SHORT_SHA]


class _RecordEnvironment(Environment):
    """Jinja's environment, looking up `a.ref` in a dict as a key first.

    The record is plain dicts; Jinja tries an attribute first and takes the key only after an
    AttributeError, which was half the time a transcript took to render. A record's keys never name a
    dict method, so nothing a template reaches changes."""

    def getattr(self, obj, attribute):
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@cache
def _environment() -> Environment:
    """One environment per process: each template is compiled once and kept."""
    env = _RecordEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters.update(
        when=_when, day=_day, size=_size, duration=_duration, lines=_lines, details=_details, short=_short,
        outcome=_OUTCOMES.get,
    )
    env.globals.update(digest_method=METHOD, verify_command=VERIFY_COMMAND)
    return env


@cache
def _template(kind: str):
    return _environment().get_template(f"{kind}.html.j2")


# --- rendering -------------------------------------------------------------------------------------------


def render_html(kind: str, record: dict[str, Any]) -> str:
    """The document as HTML, from the record `record_for` returns."""
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document {kind!r} (one of {', '.join(DOCUMENT_KINDS)})")
    return _template(kind).render(record=record, e=record["evidence"], document_title=_TITLES[kind])


def render_pdf(kind: str, record: dict[str, Any]) -> bytes:
    """The document as PDF: the same template, laid out by xhtml2pdf with fonts that draw every script."""
    from bot.pdf import html_to_pdf

    return html_to_pdf(render_html(kind, record), kind)


def render_json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False)


def write_exports(
    engine: Engine,
    banks: Banks,
    candidate_telegram_id: int,
    unit_code: str,
    formats: list[str],
    out_dir: Path,
    timezone: str | None = None,
) -> list[Path]:
    """Write every document in each format asked for (html, pdf, json) to `out_dir`; returns the files written.

    `timezone` is the centre's (default: the NVQBOT_TIMEZONE setting)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r} (one of {', '.join(FORMATS)})")
    with transaction(engine) as session:
        record = record_for(session, banks, candidate_telegram_id, unit_code, timezone)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{unit_code}_{candidate_telegram_id}"
    written = []
    for fmt in dict.fromkeys(formats):
        if fmt == "json":
            written.append(_write(out_dir / f"{stem}_evidence.json", render_json(record).encode("utf-8")))
            continue
        for kind in DOCUMENT_KINDS:
            content = render_pdf(kind, record) if fmt == "pdf" else render_html(kind, record).encode("utf-8")
            written.append(_write(out_dir / f"{stem}_{kind}.{fmt}", content))
    return written


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
