"""Whether to probe an answer, and which probe to ask: advice for questioning, never a judgment.

A question's look-fors (`LookFor`: `id`, `text`, `evidence`) say what a sufficient answer names;
each look-for's `evidence` terms are what a candidate might say that evidences it, in their own
words ("logged", "put it on the system", "raised a ticket"). Its probes (`Probe`: `text`, `aims`)
form a ladder: each aims at one or two look-fors.

Matching reads stems, not spelling. The answer is lower-cased, apostrophes dropped ("customer's"
reads as "customers"), "-ize" spellings read as "-ise", split into words, the past forms of common
irregular verbs read as the verb ("came" as "come", "rang" as "ring", "told" as "tell"), and every
word stemmed with Snowball's English stemmer ("logged", "logs", "logging" -> "log").
- A one-word term matches when its stem is among the answer's stems.
- A term of several words matches when its stems, less stopwords ("the", "on", "it", "up"…),
  all appear in the answer in the term's order, within (words in the term + 3) words of each
  other: "put it on the system" matches "I put the whole thing on our system".
- Generic words (`bank_schema.GENERIC_WORDS`: customer, policy, happy, always, make sure…) never count:
  a term made only of them (and stopwords) never matches; the loader refuses such a term.

The rule for `sufficient` (chosen on the labelled set tests/data/probing/answers.yaml; see
bench/probing.py for how well it does):

    an answer is sufficient when it covers at least half of the question's look-fors (rounded
    up: 1 of 2, 2 of 3, 2 of 4), has at least SUFFICIENT_MIN_WORDS words, and less than
    MAX_VAGUE_SHARE of its words (stopwords aside) are vague: generic words and the stock phrases
    of an answer that names nothing (important, properly, the right people, everything, make sure,
    go the extra mile, communication…: VAGUE_WORDS).

The last test catches the answer that uses a look-for's words without saying anything specific ("we
record everything and keep the customer updated, it is important to be consistent"): on the labelled
sets, full answers have at most 27 % vague words, generic answers mostly 30 % and more.

Anything else gets a probe. `next_probe` picks the first probe, in the bank's order, not yet asked
whose aims include a look-for the answer has not covered, at most MAX_PROBES per question. The text
given should be everything the candidate has said for the question so far (answer and replies to
probes). Nothing here decides whether a criterion is met: only the assessor judges.
"""

import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

import snowballstemmer

from bot.domain.bank_schema import GENERIC_WORDS

MAX_PROBES = 3
# An answer with this share of vague words or more is probed whatever it covers (see the module's doc).
MAX_VAGUE_SHARE = 0.3
# A sufficient answer has at least this many words, whatever it covers (see the module's doc).
SUFFICIENT_MIN_WORDS = 10
# How many words beyond its own length a term of several words may be spread over.
TERM_SLACK = 3

# Words a term does not need: left out of a term of several words ("put it on the system" needs "put" and
# "system"), and a term of these (and generic words) alone never counts; the loader refuses such a term
# (bank_checks.generic_only asks term_stems).
STOPWORDS = frozenset(
    """a an the and or but of to in on at by for with from into onto up out off over about as it its it's this that
    these those there their they them i me my we our us you your he she his her is are was were be been being am do
    does did have has had will would can could should shall may might must not no so if then than when what who how
    why where which just""".replace("'", "").split()
)

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile(r"['\u2019\u2018`]")
_IZE = re.compile(r"iz(e|ed|es|er|ers|ing|ation|ations)$")

# Past tense and past participle of common irregular English verbs -> the verb, so "came back" reads as
# "come back" and "rang her" as "ring her" (Snowball only strips regular endings). General English, not
# words picked from any answer; forms that are also other common words ("left", "felt", "found", "saw",
# "lay") are left out.
_IRREGULAR = {
    form: verb
    for verb, forms in {
        "be": "was were been", "begin": "began begun", "break": "broke broken", "bring": "brought",
        "buy": "bought", "catch": "caught", "choose": "chose chosen", "come": "came", "do": "did done",
        "drive": "drove driven", "eat": "ate eaten", "fall": "fell fallen", "fight": "fought",
        "forget": "forgot forgotten", "get": "got gotten", "give": "gave given", "go": "went gone",
        "grow": "grew grown", "have": "had", "hear": "heard", "hold": "held", "keep": "kept", "know": "knew known",
        "lead": "led", "lose": "lost", "make": "made", "mean": "meant", "meet": "met", "pay": "paid",
        "ring": "rang rung", "rise": "rose risen", "run": "ran", "say": "said", "see": "seen", "sell": "sold",
        "send": "sent", "show": "shown", "sing": "sang sung", "sit": "sat", "speak": "spoke spoken",
        "spend": "spent", "stand": "stood", "take": "took taken", "teach": "taught", "tell": "told",
        "think": "thought", "throw": "threw thrown", "understand": "understood", "wake": "woke woken",
        "wear": "wore worn", "win": "won", "write": "wrote written",
    }.items()
    for form in forms.split()
}


class _LookFor(Protocol):
    id: str
    evidence: Sequence[str]


class _Probe(Protocol):
    text: str
    aims: Sequence[str]


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(_IRREGULAR.get(word) or _IZE.sub(r"is\1", word))


def _words(text: str) -> list[str]:
    return _WORD.findall(_APOSTROPHE.sub("", text.lower()))


def stems(text: str) -> list[str]:
    """The text's words, lower-cased, each reduced to its Snowball English stem."""
    return [_stem(w) for w in _words(text)]


GENERIC_STEMS = frozenset(_stem(w) for w in GENERIC_WORDS)
# Words of an answer that names nothing: generic words, and the stock words of vague answers.
VAGUE_WORDS = frozenset(
    """important properly proper right everything everyone everybody professional professionally always best good
    great correct correctly appropriate appropriately relevant necessary whatever anything something really very
    just value valued extra mile key communication communicate ensure sure make get got deal dealt handle handled
    situation matter possible able try tried feel""".split()
)
VAGUE_STEMS = GENERIC_STEMS | frozenset(_stem(w) for w in VAGUE_WORDS)


@lru_cache(maxsize=16384)
def term_stems(term: str) -> tuple[tuple[str, ...], int]:
    """What a term needs: its stems in order (stopwords left out of a term of several words) and
    the window they must fall in. Empty when the term can never count (only generic words)."""
    words = _words(term)
    needed = tuple(_stem(w) for w in words if w not in STOPWORDS)
    if all(s in GENERIC_STEMS for s in needed):  # also when nothing is left
        return (), 0
    return needed, len(words) + TERM_SLACK


def _positions(answer: Sequence[str]) -> dict[str, list[int]]:
    where: dict[str, list[int]] = {}
    for i, s in enumerate(answer):
        where.setdefault(s, []).append(i)
    return where


def _matches(term: str, where: dict[str, list[int]]) -> bool:
    needed, window = term_stems(term)
    if not needed:
        return False
    if len(needed) == 1:
        return needed[0] in where
    if any(s not in where for s in needed):
        return False
    for start in where[needed[0]]:
        at = start
        for s in needed[1:]:
            at = next((i for i in where[s] if i > at), -1)
            if at < 0 or at - start >= window:
                break
        else:
            return True
    return False


def _covered(look_fors: Iterable[_LookFor], where: dict[str, list[int]]) -> set[str]:
    return {lf.id for lf in look_fors if any(_matches(term, where) for term in lf.evidence)}


def covered(question: Any, text: str) -> set[str]:
    """Ids of the question's look-fors that the text evidences (any one of a look-for's terms)."""
    return _covered(question.look_fors, _positions(stems(text)))


def _needed(question: Any) -> int:
    return math.ceil(len(question.look_fors) / 2)


def vague_share(text: str) -> float:
    """The share of the text's words, stopwords aside, that are vague (VAGUE_STEMS); 1 for no words."""
    words = [_stem(w) for w in _words(text) if w not in STOPWORDS]
    return sum(w in VAGUE_STEMS for w in words) / len(words) if words else 1.0


def _sufficient(question: Any, text: str, answer: Sequence[str], got: set[str]) -> bool:
    return (
        len(answer) >= SUFFICIENT_MIN_WORDS and len(got) >= _needed(question) and vague_share(text) < MAX_VAGUE_SHARE
    )


def sufficient(question: Any, text: str) -> bool:
    """Enough of the look-fors covered, in enough words and specific enough, that no probe is needed."""
    answer = stems(text)
    return _sufficient(question, text, answer, _covered(question.look_fors, _positions(answer)))


def next_probe(question: Any, text: str, asked: Sequence[str]) -> _Probe | None:
    """The first probe (bank order) not yet asked (by its text) that aims at a look-for the text has
    not covered; None when the answer is sufficient, MAX_PROBES have been asked, or none is left."""
    if len(asked) >= MAX_PROBES:
        return None
    answer = stems(text)
    got = _covered(question.look_fors, _positions(answer))
    if _sufficient(question, text, answer, got):
        return None
    done = set(asked)
    for probe in question.probes:
        if probe.text not in done and any(aim not in got for aim in probe.aims):
            return probe
    return None
