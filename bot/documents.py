"""The evidence documents: a transcript, the knowledge evidence record and the criterion coverage.

Each is rendered to HTML from a Jinja2 template in `transcripts/`, and to PDF from that same HTML with
xhtml2pdf; the evidence data itself exports as JSON.
"""

import io
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import reportlab
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup, escape
from sqlalchemy import Engine
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.default import PML_ERROR

from bot.domain.banks import Banks
from bot.domain.evidence import evidence_for
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
FONTS = Path(reportlab.__file__).resolve().parent / "fonts"
# Bitstream Vera, bundled with reportlab, draws more than the PDF base fonts (Ł, ≤, π…); a character
# it lacks comes out as a box, not an error.
_FONT_FACES = "".join(
    f'@font-face {{ font-family: Vera; src: url("{FONTS / file}");{style} }}\n'
    for file, style in (
        ("Vera.ttf", ""),
        ("VeraBd.ttf", " font-weight: bold;"),
        ("VeraIt.ttf", " font-style: italic;"),
        ("VeraBI.ttf", " font-weight: bold; font-style: italic;"),
    )
)
# The PDF may read the fonts and nothing else: no other local file, nothing over the network.
_PDF_RESOURCES = ResourceAccessPolicy(allow_remote=False, base_dir=FONTS)
_OUTCOMES = {"met": "met", "not_yet": "not yet", "competent": "competent", None: "not judged"}


class DocumentError(RuntimeError):
    """A document could not be produced; the message says why, in one line."""


@pass_context
def _when(context, value: str | None) -> str:
    """An ISO time in the centre's time zone, like "23 Nov 2026 14:05"; a dash when there is none."""
    if not value:
        return "—"
    local = datetime.fromisoformat(value).astimezone(ZoneInfo(context["e"]["timezone"]))
    return f"{local.day} {local:%b %Y %H:%M}"


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


def _details(details: dict) -> str:
    """An audit event's details on one line: "answer: 12; outcome: met"."""
    def shown(value) -> str:
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)

    return "; ".join(f"{key}: {shown(value)}" for key, value in sorted(details.items()))


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when, day=_day, size=_size, duration=_duration, lines=_lines, details=_details, outcome=_OUTCOMES.get
    )
    return env


def render_html(kind: str, evidence: dict[str, Any]) -> str:
    if kind not in DOCUMENT_KINDS:
        raise ValueError(f"unknown document {kind!r} (one of {', '.join(DOCUMENT_KINDS)})")
    judgments = {a["ref"]: a["judgments"][-1]["outcome"] if a["judgments"] else None for a in evidence["answers"]}
    return _environment().get_template(f"{kind}.html.j2").render(
        e=evidence, document_title=_TITLES[kind], judgments=judgments
    )


def render_pdf(kind: str, evidence: dict[str, Any]) -> bytes:
    html = render_html(kind, evidence).replace("<style>", "<style>\n" + _FONT_FACES, 1)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=_PDF_RESOURCES)
    if result.err:
        # Each logged entry is (level, line, message, fragment).
        reasons = "; ".join(str(entry[2]) for entry in result.log if entry[0] == PML_ERROR)
        raise DocumentError(
            f"xhtml2pdf could not render the {kind} PDF ({result.err} error(s)): {reasons or 'no details'}"
        )
    return out.getvalue()


def render_json(evidence: dict[str, Any]) -> str:
    return json.dumps(evidence, indent=2, ensure_ascii=False)


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
        evidence = evidence_for(session, banks, candidate_telegram_id, unit_code, timezone)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{unit_code}_{candidate_telegram_id}"
    written = []
    for fmt in dict.fromkeys(formats):
        if fmt == "json":
            written.append(_write(out_dir / f"{stem}_evidence.json", render_json(evidence).encode("utf-8")))
            continue
        for kind in DOCUMENT_KINDS:
            content = render_pdf(kind, evidence) if fmt == "pdf" else render_html(kind, evidence).encode("utf-8")
            written.append(_write(out_dir / f"{stem}_{kind}.{fmt}", content))
    return written


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
