"""Fitting a rendered message within Telegram's limits.

Telegram refuses a message whose text, once its HTML is parsed, is longer than 4,096 UTF-16 code units
(a caption: 1,024). `split_html` cuts a longer one into parts that each fit: at a blank line, else at a
line break, else between words, taking the strongest such place in the second half of what fits (so a
blank line near the top does not leave a part of a few words), else the strongest before it. Only a
single word longer than the limit is cut inside, between two characters. The whitespace at a cut is
dropped. A tag open at a cut is closed at the end of one part and opened again, attributes and all, at
the start of the next; an entity such as &amp; is never cut.
"""

import html
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from telegram import InlineKeyboardMarkup
from telegram.constants import MessageLimit, ParseMode

# A tag, an entity, or one character: what Telegram's HTML parser reads.
_TOKEN = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);|.", re.DOTALL)
_EMPTY_ELEMENT = re.compile(r"<([A-Za-z][\w-]*)(?:\s[^>]*)?></\1\s*>", re.IGNORECASE)
_NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")
_PARAGRAPH, _LINE, _SPACE = 2, 1, 0  # how strong a place to split is
_FILL = 0.5  # a place to split this far into a part's room or further beats a stronger one before it


# The tags open at a point, outermost first: (name, the opening tag as written).
_Open = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class _Token:
    raw: str  # as written in the HTML
    width: int  # UTF-16 code units of the text it shows: 0 for a tag
    tag: str | None = None  # a tag's name
    closing: bool = False
    space: bool = False  # whitespace a message may be split at
    newline: bool = False


@dataclass(frozen=True, slots=True)
class _Gap:
    """Whitespace, with any tags among it, between two pieces of visible text: a place to split."""

    start: int  # token index of its first whitespace
    end: int  # token index just after it
    strength: int  # _PARAGRAPH, _LINE or _SPACE


def utf16_length(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_html(html_text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Telegram HTML in parts that each show at most `limit` UTF-16 code units, in order."""
    if utf16_length(html_text) <= limit:  # tags and entities only ever shorten what is shown
        return [html_text]
    tokens = _tokens(html_text)
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + token.width)
    gaps = _gaps(tokens)
    gap_starts = [gap.start for gap in gaps]
    parts: list[str] = []
    start = 0  # the next part's first token
    stack: _Open = ()  # the tags open there
    while (first := _first_shown(tokens, start)) is not None:
        stack, start = _open_after(stack, tokens[start:first]), first  # a part starts with what it shows
        room = offsets[start] + limit
        if offsets[-1] <= room:
            parts.append(_render(stack, tokens[start:], ()))
            break
        fits = bisect_right(offsets, room) - 1  # tokens[start:fits] fit
        if fits == start:
            raise ValueError(f"a limit of {limit} cannot hold {tokens[start].raw!r}")
        candidates = gaps[bisect_right(gap_starts, start) : bisect_right(gap_starts, fits)]
        if candidates:
            filled = limit * _FILL
            gap = max(candidates, key=lambda g: (offsets[g.start] - offsets[start] >= filled, g.strength, g.start))
            cut, resume = gap.start, gap.end
        else:  # one word longer than the limit
            cut = resume = fits
        open_at_cut = _open_after(stack, tokens[start:cut])
        parts.append(_render(stack, tokens[start:cut], open_at_cut))
        start, stack = resume, _open_after(open_at_cut, tokens[cut:resume])
    return parts


def message_calls(chat_id: int, html_text: str, keyboard: InlineKeyboardMarkup | None = None) -> list[dict]:
    """The sendMessage parameters that show a rendered message, in order: one call a part, the keyboard
    under the last part (so its buttons sit under the end of the text)."""
    calls: list[dict] = [
        {"chat_id": chat_id, "text": part, "parse_mode": ParseMode.HTML} for part in split_html(html_text)
    ]
    if keyboard is not None:
        calls[-1]["reply_markup"] = keyboard.to_dict()
    return calls


def _tokens(html_text: str) -> list[_Token]:
    tokens = []
    for raw in _TOKEN.findall(html_text):
        if len(raw) == 1:
            tokens.append(_character(raw))
        elif raw[0] == "<":
            name = re.split(r"[\s/]", raw[1:-1].lstrip("/ "), maxsplit=1)[0].lower()
            tokens.append(_Token(raw, 0, name, closing=raw[1] == "/"))
        else:
            tokens.append(_Token(raw, utf16_length(html.unescape(raw))))
    return tokens


@lru_cache(maxsize=4096)
def _character(char: str) -> _Token:
    space = char.isspace() and char not in _NO_BREAK_SPACES
    return _Token(char, 2 if char > "\uffff" else 1, space=space, newline=char == "\n")


def _gaps(tokens: list[_Token]) -> list[_Gap]:
    gaps, index = [], 0
    while index < len(tokens):
        if not tokens[index].space:
            index += 1
            continue
        start, newlines = index, 0
        while index < len(tokens) and (tokens[index].space or tokens[index].tag is not None):
            newlines += tokens[index].newline
            index += 1
        gaps.append(_Gap(start, index, _PARAGRAPH if newlines >= 2 else _LINE if newlines else _SPACE))
    return gaps


def _first_shown(tokens: list[_Token], start: int) -> int | None:
    """The index of the first token from `start` that shows something other than whitespace."""
    return next((i for i in range(start, len(tokens)) if tokens[i].width and not tokens[i].space), None)


def _open_after(stack: _Open, tokens: list[_Token]) -> _Open:
    """The tags still open, as (name, opening tag), after these tokens, given those open before them."""
    opened = list(stack)
    for token in tokens:
        if token.tag is None:
            continue
        if not token.closing:
            opened.append((token.tag, token.raw))
        elif opened and opened[-1][0] == token.tag:
            opened.pop()
    return tuple(opened)


def _render(reopened: _Open, tokens: list[_Token], still_open: _Open) -> str:
    text = "".join(raw for _, raw in reopened) + "".join(token.raw for token in tokens)
    text += "".join(f"</{name}>" for name, _ in reversed(still_open))
    while (shorter := _EMPTY_ELEMENT.sub("", text)) != text:  # e.g. a <b> opened just before the cut
        text = shorter
    return text
