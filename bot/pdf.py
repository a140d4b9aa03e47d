"""PDF from a record's HTML, with xhtml2pdf and reportlab.

What a candidate typed is drawn whatever its script, and never as an empty box:

* FiraGO (from the pymupdf-fonts package, OFL) has Latin with every accent (Welsh ŵ and ŷ too), Greek,
  Cyrillic, Hebrew, Arabic, Georgian, Devanagari and Thai letters, arrows and mathematical signs; its faces
  are registered with reportlab once per process, not read again for each document. (reportlab sets
  letters one after another: scripts that join or stack them, Devanagari say, come out unjoined.)
* Chinese, Japanese and Korean runs are set in reportlab's built-in CID fonts (STSong-Light,
  HeiseiMin-W3, HYSMyeongJo-Medium), which need no font file: the viewer supplies the glyphs.
* An emoji, or any other character none of those fonts has, is written as its name in brackets, e.g.
  "[grinning face]" (the HTML and JSON keep the character itself).

A word too long for its column (a long evidence reference) is broken between characters inside the
column (`overflow-wrap: break-word`) rather than run over the next one; nothing is added to the text, so
what is extracted from the PDF is what was typed.
"""

import html
import importlib
import io
import re
import unicodedata
from contextvars import ContextVar
from functools import cache, lru_cache

import emoji
from markupsafe import escape
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import default as xhtml2pdf_default
from xhtml2pdf import pisa, xhtml2pdf_reportlab
from xhtml2pdf.builders.printmarks import MarkedCanvas
from xhtml2pdf.config.resources import ResourceAccessPolicy
from xhtml2pdf.default import PML_ERROR

from bot.documents import TEMPLATES, DocumentError

# The PDF may read nothing: no local file, nothing over the network (its fonts are registered in memory).
_PDF_RESOURCES = ResourceAccessPolicy(allow_remote=False, base_dir=TEMPLATES)


# --- fonts -------------------------------------------------------------------------------------------

TEXT_FONT = "FiraGO"
_FIRAGO_FACES = {
    "FiraGO": "FiraGO_Regular",
    "FiraGO-Bold": "FiraGO_Bold",
    "FiraGO-Italic": "FiraGO_Italic",
    "FiraGO-BoldItalic": "FiraGO_BoldItalic",
}
# reportlab's CJK faces (no file: Adobe's CID fonts, which PDF viewers supply), by the script they are for.
CJK_FONTS = {"zh": "STSong-Light", "ja": "HeiseiMin-W3", "ko": "HYSMyeongJo-Medium"}


@cache
def _text_font_coverage() -> frozenset[int]:
    """Register FiraGO's four faces with reportlab (once per process); the code points it draws."""
    faces = {}
    for name, module in _FIRAGO_FACES.items():
        data = importlib.import_module(f"pymupdf_fonts.{module}").fontbuffer
        faces[name] = TTFont(name, io.BytesIO(data))
        pdfmetrics.registerFont(faces[name])
    for bold, italic, name in ((0, 0, "FiraGO"), (1, 0, "FiraGO-Bold"), (0, 1, "FiraGO-Italic"), (1, 1, "FiraGO-BoldItalic")):
        addMapping(TEXT_FONT, bold, italic, name)
    for font in CJK_FONTS.values():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    # xhtml2pdf starts every document from this table of the families it knows: adding FiraGO here once
    # spares each document an @font-face that would parse the font files again.
    xhtml2pdf_default.DEFAULT_FONT[TEXT_FONT.lower()] = TEXT_FONT
    covered = set(faces["FiraGO"].face.charToGlyph)
    for name in ("FiraGO-Bold", "FiraGO-Italic", "FiraGO-BoldItalic"):
        covered &= set(faces[name].face.charToGlyph)  # only what every face has
    return frozenset(covered)


def _ranges(points: frozenset[int]) -> str:
    """A regex character class body for these code points."""
    ordered, parts, start = sorted(points), [], None
    for index, point in enumerate(ordered):
        if start is None:
            start = point
        if index + 1 == len(ordered) or ordered[index + 1] != point + 1:
            parts.append(re.escape(chr(start)) + ("-" + re.escape(chr(point)) if point != start else ""))
            start = None
    return "".join(parts)


@cache
def _uncovered(markers: bool = False) -> re.Pattern:
    """Runs of characters FiraGO cannot draw (markup is ASCII, so this never matches inside a tag); with
    `markers`, the two that mark a name (see `_drawable`) are let through."""
    drawn = _text_font_coverage() | frozenset(range(0x20, 0x7F)) | {0x9, 0xA, 0xD} | ({0x0, 0x1} if markers else set())
    return re.compile(f"[^{_ranges(frozenset(drawn))}]+")


# What each CJK face draws, from the Unicode CMaps they are written with (UniGB-UCS2-H, UniJIS-UCS2-H,
# UniKS-UCS2-H): a character outside these is not in the face, and would come out blank, so it is named
# instead. STSong-Light (Adobe-GB1) has every ideograph of U+4E00-9FA5 and Extension A, CJK punctuation
# and full-width forms; HeiseiMin-W3 draws the kana (GB1 has them too, in a Chinese style) and the
# Japanese punctuation GB1 lacks; HYSMyeongJo-Medium draws Hangul.
_CJK_RANGES = {
    "ko": ((0x3131, 0x318E), (0xAC00, 0xD7A3), (0x3018, 0x3019), (0xFFE6, 0xFFE6)),
    "ja": ((0x3041, 0x3094), (0x309B, 0x309E), (0x30A1, 0x30FE), (0xFF61, 0xFF9F), (0x3004, 0x3004),
           (0x301C, 0x301C), (0x301F, 0x3020), (0x3030, 0x3030), (0x3036, 0x3036), (0xFE31, 0xFE33),
           (0xFE35, 0xFE44), (0xFFE8, 0xFFE8)),
    "zh": ((0x2E80, 0x2E99), (0x2E9B, 0x2EF3), (0x2F00, 0x2FD5), (0x3000, 0x3003), (0x3005, 0x3017),
           (0x301D, 0x301E), (0x3021, 0x3029), (0x3033, 0x3035), (0x3038, 0x303A), (0x303E, 0x303F),
           (0x3105, 0x312C), (0x31A0, 0x31B7),
           (0x3220, 0x3229), (0x3231, 0x3231), (0x32A3, 0x32A3), (0x338E, 0x338F), (0x339C, 0x339E),
           (0x33A1, 0x33A1), (0x33C4, 0x33C4), (0x33CE, 0x33CE), (0x33D1, 0x33D2), (0x33D5, 0x33D5),
           (0x3400, 0x4DB5), (0x4E00, 0x9FA5), (0xF92C, 0xF92C), (0xFA0D, 0xFA0F), (0xFA11, 0xFA11),
           (0xFA13, 0xFA14), (0xFA18, 0xFA18), (0xFA1F, 0xFA21), (0xFA23, 0xFA24), (0xFA27, 0xFA29),
           (0xFE30, 0xFE30), (0xFE49, 0xFE4F), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE5)),
}


def _class(ranges) -> str:
    return "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b != a else "") for a, b in ranges)


# The first face (in this order) that draws a character is the one it is set in.
_CJK_FACES = [(re.compile(f"[{_class(_CJK_RANGES[key])}]+"), CJK_FONTS[key]) for key in ("ko", "ja", "zh")]
_CJK = re.compile(f"[{''.join(_class(ranges) for ranges in _CJK_RANGES.values())}]+")


def _cjk_spans(run: str) -> str:
    """A run of CJK characters, each in a span of a face that draws it."""
    out, at = [], 0
    while at < len(run):
        for pattern, font in _CJK_FACES:
            found = pattern.match(run, at)
            if found:
                out.append(f'<span style="font-family: {font}">{escape(found.group())}</span>')
                at = found.end()
                break
        else:  # not reached: `run` is made of characters one of the faces has
            out.append(str(escape(run[at])))
            at += 1
    return "".join(out)


@lru_cache(maxsize=4096)
def _named(char: str) -> str:
    """A character no font here draws, as its (marked) name: "check mark"; "" for an invisible one (a joiner)."""
    category = unicodedata.category(char)
    if category in ("Cf", "Cc", "Cs"):
        return ""
    name = unicodedata.name(char, "")
    if category == "Mn" and not name:
        return ""
    return f"\x00{name.lower() if name else f'U+{ord(char):04X}'}\x01"


def _emoji_name(chars: str, data: dict) -> str:
    """An emoji (or a sequence: a flag, a skin tone, a family) as its name, unless FiraGO draws it."""
    drawn = chars.replace("\ufe0f", "").replace("\ufe0e", "")
    if drawn and all(ord(c) in _text_font_coverage() for c in drawn):
        return drawn  # ©, ®, ™, ‼: ordinary characters that are emoji too
    name = data["en"].strip(":").replace("_", " ")
    if all(0x1F1E6 <= ord(c) <= 0x1F1FF for c in drawn):
        name = f"flag: {name}"
    return f"\x00{name}\x01"  # marked, to be set apart once escaped


def _drawable(text: str) -> str:
    """HTML text (already escaped) made drawable: CJK in its font, emoji and the rest named."""
    # \x00 and \x01 mark the names of emoji (control characters: never drawn, so never part of the text).
    text = emoji.replace_emoji(html.unescape(text).replace("\x00", "").replace("\x01", ""), replace=_emoji_name)
    out = []
    for piece in re.split(f"({_CJK.pattern})", text):
        if not piece:
            continue
        if _CJK.fullmatch(piece):
            out.append(_cjk_spans(piece))
            continue
        shown = _uncovered(markers=True).sub(lambda m: "".join(_named(c) for c in m.group()), piece)
        out.append(
            str(escape(shown))
            .replace("\x00", '<span class="glyph-name">[')
            .replace("\x01", "]</span>")
        )
    return "".join(out)


# A text node (between two tags) that has something FiraGO cannot draw.
_TEXT_NODE = re.compile(r">([^<]+)<")


def _pdf_ready(document: str) -> str:
    """The HTML as xhtml2pdf should see it: every text node in the body drawable with the fonts it has."""
    head, marker, body = document.partition("<body>")
    uncovered = _uncovered()
    if not uncovered.search(body):
        return document
    body = _TEXT_NODE.sub(
        lambda m: f">{_drawable(m.group(1))}<" if uncovered.search(m.group(1)) else m.group(0), body
    )
    return head + marker + body


# --- "page N of M" ----------------------------------------------------------------------------------------

# xhtml2pdf knows M only from a second layout of the whole document (<pdf:pagecount>), which made a
# transcript take 40 % longer. Instead each page draws "page N of " followed by a form (a PDF XObject)
# that is defined once, with M in it, after the last page: one pass, and M is ordinary text on every page.
_PAGE_NUMBERS: ContextVar[bool] = ContextVar("nvqbot_page_numbers", default=False)
_COUNT_FORM = "nvqbotPageCount"
PAGE_NUMBER_SIZE = 6.5
PAGE_NUMBER_X = 42.5  # points: the left margin (1.5 cm)
PAGE_NUMBER_Y = 14.0  # points from the bottom: under the footer frame


class _NumberedCanvas(MarkedCanvas):
    """xhtml2pdf's canvas, writing "page N of M" at the foot of each page of an nvqbot record."""

    def showPage(self):
        if _PAGE_NUMBERS.get():
            self.saveState()
            self.setFillGray(0.27)
            self.setFont(TEXT_FONT, PAGE_NUMBER_SIZE)
            label = f"page {self.getPageNumber()} of "
            self.drawString(PAGE_NUMBER_X, PAGE_NUMBER_Y, label)
            self.translate(PAGE_NUMBER_X + pdfmetrics.stringWidth(label, TEXT_FONT, PAGE_NUMBER_SIZE), PAGE_NUMBER_Y)
            self.doForm(_COUNT_FORM)
            self.restoreState()
        super().showPage()

    def save(self):
        if _PAGE_NUMBERS.get():
            self.beginForm(_COUNT_FORM)
            self.setFillGray(0.27)
            self.setFont(TEXT_FONT, PAGE_NUMBER_SIZE)
            self.drawString(0, 0, str(self.getPageNumber() - 1))  # the number the next page would have had
            self.endForm()
        super().save()


# xhtml2pdf makes every document's canvas from this name (PmlBaseDoc._makeCanvas); the subclass behaves
# exactly as its parent outside `render_pdf`.
xhtml2pdf_reportlab.MarkedCanvas = _NumberedCanvas


def html_to_pdf(document: str, what: str) -> bytes:
    """An nvqbot record's HTML laid out as PDF, with fonts that draw every script and "page N of M"."""
    _text_font_coverage()
    out = io.BytesIO()
    numbering = _PAGE_NUMBERS.set(True)
    try:
        result = pisa.CreatePDF(_pdf_ready(document), dest=out, encoding="utf-8", resource_policy=_PDF_RESOURCES)
    finally:
        _PAGE_NUMBERS.reset(numbering)
    if result.err:
        # Each logged entry is (level, line, message, fragment).
        reasons = "; ".join(str(entry[2]) for entry in result.log if entry[0] == PML_ERROR)
        raise DocumentError(
            f"xhtml2pdf could not render the {what} PDF ({result.err} error(s)): {reasons or 'no details'}"
        )
    return out.getvalue()
