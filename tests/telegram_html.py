"""Reading a message in Telegram's HTML parse mode as Telegram does, for tests.

Only Telegram's tags (with the attributes they need), properly nested, no other entity inside <code> or
<pre> (but <pre><code class=…>), no blockquote in a blockquote; every "<" starts a tag and every "&" an
entity (&lt; &gt; &amp; &quot; or numeric). The result is what Telegram shows: each character with the
opening tags that format it.
"""

import html
import re

SIMPLE_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "code", "pre", "blockquote"}
)
_ATTRIBUTES = {
    "a": re.compile(r'^a\s+href="[^"<>]+"$'),
    "span": re.compile(r'^span\s+class="tg-spoiler"$'),
    "tg-emoji": re.compile(r'^tg-emoji\s+emoji-id="\d+"$'),
    "code": re.compile(r'^code(\s+class="language-[\w+-]+")?$'),
    "blockquote": re.compile(r"^blockquote(\s+expandable)?$"),
}
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")


class NotTelegramHtml(ValueError):
    pass


def styled(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each character Telegram shows for this message, with the opening tags around it, outermost first."""
    shown: list[tuple[str, tuple[str, ...]]] = []
    opened: list[tuple[str, str]] = []
    formats: tuple[str, ...] = ()
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            end = text.find(">", pos)
            if end == -1:
                raise NotTelegramHtml(f"unclosed tag at {pos}")
            _tag(text[pos + 1 : end], opened)
            formats = tuple(raw for _, raw in opened)
            pos = end + 1
        elif char == "&":
            entity = _ENTITY.match(text, pos)
            if entity is None:
                raise NotTelegramHtml(f"a bare & at {pos}")
            shown.append((html.unescape(entity.group()), formats))
            pos = entity.end()
        elif char == ">":
            raise NotTelegramHtml(f"a bare > at {pos}")
        else:
            shown.append((char, formats))
            pos += 1
    if opened:
        raise NotTelegramHtml(f"<{opened[-1][0]}> is never closed")
    return shown


def shown_text(text: str) -> str:
    return "".join(char for char, _ in styled(text))


def _tag(inside: str, opened: list[tuple[str, str]]) -> None:
    if inside.startswith("/"):
        name = inside[1:].strip()
        if not opened or opened[-1][0] != name:
            raise NotTelegramHtml(f"</{name}> closes nothing open")
        opened.pop()
        return
    name = re.match(r"[^\s/]*", inside).group()
    pattern = _ATTRIBUTES.get(name)
    if not (pattern.match(inside) if pattern else name in SIMPLE_TAGS and inside == name):
        raise NotTelegramHtml(f"<{inside}> is not a Telegram tag")
    names = [open_name for open_name, _ in opened]
    if names and names[-1] in ("code", "pre") and not (names[-1] == "pre" and name == "code"):
        raise NotTelegramHtml(f"<{name}> inside <{names[-1]}>")
    if "code" in names or (name == "blockquote" and "blockquote" in names):
        raise NotTelegramHtml(f"<{name}> inside {names}")
    opened.append((name, f"<{inside}>"))
