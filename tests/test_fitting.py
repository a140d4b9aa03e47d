"""Splitting a rendered message into parts within Telegram's limits (bot/telegram/fitting.py)."""

import random

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.telegram.fitting import message_calls, split_html, utf16_length
from tests.telegram_html import NotTelegramHtml, shown_text, styled


def _breakable(char: str) -> bool:
    return char.isspace() and char not in "\u00a0\u2007\u202f"


def _lengths_of(chars: list[tuple[str, tuple]], ends) -> list[int]:
    """For each character, the UTF-16 length of the stretch between `ends` characters it is in (0 for an end)."""
    lengths, start = [0] * len(chars), 0
    for end in range(len(chars) + 1):
        if end == len(chars) or ends(chars[end][0]):
            stretch = utf16_length("".join(c for c, _ in chars[start:end]))
            lengths[start:end] = [stretch] * (end - start)
            start = end + 1
    return lengths


def check_split(text: str, limit: int) -> list[str]:
    """Split, and check what must hold of any split: every part is Telegram HTML within the limit, and the
    parts show the original's characters in order, each formatted as it was, losing only whitespace at the
    cuts (and at the ends); a cut with no whitespace lies inside a word longer than the limit, and one not
    at a line break inside a line longer than a third of the limit."""
    parts = split_html(text, limit)
    original = styled(text)
    if parts == [text]:
        assert utf16_length("".join(c for c, _ in original)) <= limit
        return parts
    word_lengths = _lengths_of(original, _breakable)
    line_lengths = _lengths_of(original, lambda c: c == "\n")
    pos = 0
    for number, part in enumerate(parts, 1):
        cut_at = pos
        while pos < len(original) and _breakable(original[pos][0]):
            pos += 1
        if number > 1:
            assert pos > cut_at or word_lengths[pos] > limit, (text, parts, number)
            at_line_break = any(c == "\n" for c, _ in original[cut_at:pos])
            assert at_line_break or 3 * line_lengths[pos] > limit, (text, parts, number)
        chars = styled(part)
        assert chars and utf16_length("".join(c for c, _ in chars)) <= limit, (part, limit)
        assert original[pos : pos + len(chars)] == chars, (text, parts, number)
        pos += len(chars)
    assert all(_breakable(c) for c, _ in original[pos:]), (text, parts)
    return parts


def test_a_message_within_the_limit_is_left_as_it_is():
    text = "<b>Question 1 of 9</b>\nHow do you &amp; your team log a complaint? 🙂"
    assert split_html(text) == [text]
    assert split_html("x" * MessageLimit.MAX_TEXT_LENGTH) == ["x" * MessageLimit.MAX_TEXT_LENGTH]


def test_the_limit_counts_what_telegram_shows_in_utf16_units():
    tagged = "<b>" + "a" * 10 + "</b>" + "&amp;" * 10  # 20 characters shown, 47 written
    assert split_html(tagged, 20) == [tagged]
    assert check_split(" ".join(["🙂"] * 10), 8) == ["🙂 🙂 🙂", "🙂 🙂 🙂", "🙂 🙂 🙂", "🙂"]  # an emoji counts 2


def test_a_blank_line_is_preferred_to_a_line_break_and_a_line_break_to_a_space():
    paragraphs = "one two three\nfour five\n\nsix seven\neight nine"
    assert check_split(paragraphs, 30) == ["one two three\nfour five", "six seven\neight nine"]
    lines = "one two three four\nfive six seven eight"
    assert check_split(lines, 30) == ["one two three four", "five six seven eight"]
    words = "one two three four five six seven eight"
    assert check_split(words, 20) == ["one two three four", "five six seven eight"]


def test_a_blank_line_near_the_top_does_not_make_a_part_of_a_few_words():
    text = "Head\n\n" + " ".join(["word"] * 30)
    parts = check_split(text, 60)
    assert parts[0].startswith("Head\n\nword word") and len(shown_text(parts[0])) > 30


def test_a_word_is_never_cut_unless_it_alone_is_longer_than_the_limit():
    assert check_split("short " + "x" * 25 + " end", 10) == ["short", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx end"]
    assert check_split("ab🙂🙂", 3) == ["ab", "🙂", "🙂"]  # an emoji's two UTF-16 units stay together


def test_an_entity_is_never_cut():
    assert check_split("&amp;" * 7, 3) == ["&amp;&amp;&amp;", "&amp;&amp;&amp;", "&amp;"]
    assert check_split("a &#128512;&lt;&gt;&quot;", 4) == ["a", "&#128512;&lt;&gt;", "&quot;"]


def test_a_tag_open_at_a_cut_is_closed_and_opened_again_in_the_next_part():
    assert check_split("<b>one two three</b> four", 10) == ["<b>one two</b>", "<b>three</b> four"]
    link = '<a href="https://example.org/?a=1&amp;b=2">read the whole log</a>'
    assert check_split(link, 10) == [
        '<a href="https://example.org/?a=1&amp;b=2">read the</a>',
        '<a href="https://example.org/?a=1&amp;b=2">whole log</a>',
    ]
    nested = "<blockquote expandable><i>alpha beta</i> gamma</blockquote>"
    assert check_split(nested, 6) == [
        "<blockquote expandable><i>alpha</i></blockquote>",
        "<blockquote expandable><i>beta</i></blockquote>",
        "<blockquote expandable>gamma</blockquote>",
    ]
    code = '<pre><code class="language-python">print(1)\nprint(2)</code></pre>'
    assert check_split(code, 10) == [
        '<pre><code class="language-python">print(1)</code></pre>',
        '<pre><code class="language-python">print(2)</code></pre>',
    ]


def test_a_tag_opened_just_before_a_cut_is_not_left_empty():
    assert check_split("one two\n\n<b>three four</b>", 9) == ["one two", "<b>three</b>", "<b>four</b>"]
    assert check_split("one two <i>\nthree</i>", 8) == ["one two", "<i>three</i>"]


def test_a_limit_that_cannot_hold_one_character_is_refused():
    with pytest.raises(ValueError):
        split_html("🙂🙂🙂", 1)


def test_message_calls_put_the_keyboard_under_the_last_part_only():
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Met", callback_data="met:1")]])
    text = "<b>Answer</b>\n" + " ".join(["word"] * 2000)
    calls = message_calls(42, text, keyboard)
    assert len(calls) == 3 and [c["chat_id"] for c in calls] == [42] * 3
    assert all(c["parse_mode"] == "HTML" for c in calls)
    assert [("reply_markup" in c) for c in calls] == [False, False, True]
    assert calls[-1]["reply_markup"] == keyboard.to_dict()
    assert message_calls(42, "Thanks.") == [{"chat_id": 42, "text": "Thanks.", "parse_mode": "HTML"}]


# Random Telegram HTML, for the property tests below.
WORDS = ["a", "log", "complaint", "&amp;", "&lt;b&gt;", "&quot;it&quot;", "&#128512;", "🙂", "👩‍👩‍👧", "naïve", "ŵyŷ",
         "中文字", "e\u0301", "no\u00a0break", "🇬🇧", "x" * 30, "—", "«quote»"]
SEPARATORS = [" ", " ", " ", " ", "\n", "\n", "\n\n", "  ", "\n \n", " \n", "\t"]
FORMATS = ["<b>", "<strong>", "<i>", "<u>", "<s>", "<tg-spoiler>", '<span class="tg-spoiler">',
           '<a href="https://example.org/?a=1&amp;b=2">', "<code>", "<pre>", '<pre><code class="language-python">',
           "<blockquote>", "<blockquote expandable>"]


def random_html(rng: random.Random, pieces: int) -> str:
    out: list[str] = []
    opened: list[str] = []  # the closing tags due, innermost last
    for _ in range(pieces):
        roll = rng.random()
        in_code = any("code" in c or "pre" in c for c in opened)
        if roll < 0.08 and not in_code and len(opened) < 3:
            tag = rng.choice([f for f in FORMATS if not ("blockquote" in f and "</blockquote>" in opened)])
            out.append(tag)
            opened.append("</code></pre>" if tag.startswith("<pre><code") else f"</{tag[1:].split()[0].rstrip('>')}>")
        elif roll < 0.14 and opened:
            out.append(opened.pop())
        elif roll < 0.5:
            out.append(rng.choice(SEPARATORS))
        elif roll < 0.52:
            out.append("".join(rng.choice("abcdefgh🙂&") for _ in range(rng.randint(1, 400))).replace("&", "&amp;"))
        else:
            out.append(rng.choice(WORDS))
    out.extend(reversed(opened))
    return "".join(out)


def test_random_texts_split_within_the_limit_without_losing_a_character_or_a_format():
    rng = random.Random(20261124)
    for _ in range(400):
        text = random_html(rng, rng.randint(1, 300))
        if not shown_text(text).strip():
            continue
        check_split(text, rng.choice([4, 5, 7, 10, 16, 33, 64, 100, 257]))


def test_random_long_texts_split_within_telegrams_limit():
    rng = random.Random(4096)
    for _ in range(10):
        text = random_html(rng, rng.randint(2000, 6000))
        parts = check_split(text, MessageLimit.MAX_TEXT_LENGTH)
        assert len(parts) >= utf16_length(shown_text(text)) // MessageLimit.MAX_TEXT_LENGTH
        check_split(text, MessageLimit.CAPTION_LENGTH)


def test_the_checker_refuses_what_telegram_refuses():
    for bad in ["<b>open", "a < b", "<br>", "<b><i>x</b></i>", "<code><b>x</b></code>", "&nbsp;", "<a>x</a>",
                "<blockquote><blockquote>x</blockquote></blockquote>"]:
        with pytest.raises(NotTelegramHtml):
            styled(bad)
