"""Personal details in a candidate's answer: advice for the assessor, never a filter.

Candidates describe real customers, patients and colleagues, and are asked not to name them. This
check points the assessor at an answer that seems to name someone or give their contact details, so
that it can be put right before the evidence goes to verifiers. It is deliberately simple, and it
will sometimes be wrong both ways; nothing is changed or refused because of it.

What it looks for, in this order:

- **e-mail addresses**: ``something@domain.tld`` (letters, digits and ``. _ % + -`` before the ``@``,
  a domain with at least one dot after it).
- **UK phone numbers**: a mobile (``07…``, eleven digits), a geographic or non-geographic landline
  (``01…``, ``02…``, ``03…``, ten or eleven digits), either written from ``+44`` (with or without
  ``(0)``) instead of the leading ``0``; the digits may be grouped with single spaces or dashes, and
  the area code may be in brackets: ``07700 900123``, ``+44 7700-900-123``, ``(020) 7946 0958``.
- **names**, where a name is a *capitalised word* (an upper-case letter followed by at least one
  lower-case letter, so ``O'Brien``, ``Smith-Jones``, ``McDonald`` and ``Zoë`` count, while initials
  such as ``J`` or ``JS`` and acronyms such as ``CRM`` do not):
  - a title (``Mr``, ``Mrs``, ``Ms``, ``Miss``, ``Mx``, ``Dr``, ``Prof``, ``Sir``, ``Dame``,
    ``Lady``, ``Lord``, ``Rev``, and on a ward ``Sister`` and ``Nurse``, with or without a full stop)
    followed by one or more capitalised words: ``Mrs Patel``, ``Dr. Anne Jones``, ``Sister Okafor``,
    anywhere in the text;
  - two or more capitalised words in a row (separated by single spaces or tabs only), not counting
    the first word of a sentence or of a line, and not counting words known not to be names: days,
    months, ``I``/``I'm``…, small words (``The``, ``And``, ``Of``…), and common words of
    workplaces, organisations and law (``Customer``, ``Service``, ``Team``, ``Manager``, ``Data``,
    ``Protection``, ``Act``, ``Council``, ``Hospital``…). Such a word splits a run, so
    ``Yesterday John Smith rang`` and ``I told Customer Services John Smith was waiting`` both find
    ``John Smith``, while ``Customer Service Team`` and ``the Data Protection Act`` find nothing.

What it misses: a first name or surname on its own (``I told Sarah``), a name that starts a sentence
with only one more capitalised word after it (``John Smith rang me`` — its first word is the
sentence's), names written in lower case or all capitals, a title written in lower case
(``mrs patel``), names in scripts without capital letters, phone numbers outside the UK or written
in words, ``08``/``09`` numbers (usually an organisation's), postal addresses, dates of birth, NHS
or National Insurance numbers, and anything in a voice note or photo.

What it wrongly flags: the names of places, products and organisations it does not know
(``Milton Keynes``, ``Royal Mail``, ``Tesco Express``), capitalised phrases it does not know
(``Returns Desk Supervisor`` is fine, ``Golden Rules`` is not), and a run of digits that happens to
look like a UK phone number (a reference number starting ``07``…).
"""

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["PersonalDetail", "personal_details"]


@dataclass(frozen=True)
class PersonalDetail:
    kind: Literal["name", "phone", "email"]
    text: str  # as it appears in the answer


EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")

# "+44", "+44 (0)" or "0" (perhaps after "("), then the digits after the 0: each may be preceded by
# one space or dash, and a ")" may close a bracketed area code.
PHONE = re.compile(
    r"(?<![\w+])(?:\+44[ \-]?(?:\(0\)[ \-]?)?|\(?0)(?P<rest>\d(?:\)?[ \-]?\d){8,9})(?![\d])"
)

TITLES = frozenset(
    {"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Lady", "Lord", "Rev", "Sister", "Nurse"}
)

_DAYS_AND_MONTHS = """
monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs fri sat sun
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec christmas easter
"""
_SMALL_WORDS = """
i i'm i've i'd i'll the a an and or but of for to in on at by with from as into about after before
my our your their his her its we they he she it you this that these those then when if so not no yes
there here what who how why where which also please thanks thank dear hi hello ok okay
"""
_WORKPLACE_WORDS = """
customer customers client clients patient patients service services care team teams manager managers
management supervisor leader lead head senior junior assistant adviser advisor agent officer staff
colleague colleagues department dept desk centre center contact call helpdesk help line duty shift
store shop branch office head site ward unit clinic surgery practice pharmacy reception receptionist
nurse nurses practitioner practitioners doctor doctors consultant sister matron porter cashier till returns refunds refund
complaint complaints procedure procedures policy policies process processes guidelines guidance
standard standards charter code conduct practice quality assurance training handbook manual
data protection act acts law regulation regulations gdpr rights consumer consumers equality health
safety hygiene food fire first aid trading ombudsman advice advisory liaison citizens sale goods
supply services council borough county city district trust foundation hospital hospitals nhs
national royal general community social housing benefits payments payment accounts account billing
finance sales marketing operations support technical it hr human resources customer-service
company ltd limited plc group bank building society association board committee government
department ministry public private sector services' system systems database software portal app
website online email e-mail phone telephone internet web crm microsoft excel word outlook teams
google zoom whatsapp facebook twitter instagram
level unit units question questions answer answers case cases evidence nvq vq diploma certificate
award assessor assessors verifier verifiers candidate candidates
mrs mr ms miss mx dr prof sir dame lady lord rev
"""
NON_NAMES = frozenset((_DAYS_AND_MONTHS + _SMALL_WORDS + _WORKPLACE_WORDS).split())

_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_SENTENCE_BREAK = re.compile(r"[.!?…\n\r]")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int
    end: int
    sentence_start: bool  # the first word of the text, a line or a sentence
    joined: bool  # follows the previous word across spaces or tabs only


def _capitalised(word: str) -> bool:
    return word[0].isupper() and any(c.islower() for c in word[1:])


def _known(word: str) -> bool:
    return word.replace("’", "'").casefold() in NON_NAMES


def _words(text: str) -> list[_Word]:
    words, previous = [], None
    for match in _WORD.finditer(text):
        gap = text[previous.end : match.start()] if previous else ""
        after_title = previous is not None and previous.text in TITLES and gap.strip() in ("", ".")
        words.append(
            _Word(
                match.group(),
                match.start(),
                match.end(),
                sentence_start=previous is None or (bool(_SENTENCE_BREAK.search(gap)) and not after_title),
                joined=previous is not None and (gap.strip(" \t") == "" or (after_title and "\n" not in gap)),
            )
        )
        previous = words[-1]
    return words


def _names(text: str) -> list[tuple[int, str]]:
    """(position, name) for each name found, as written."""
    words, found, i = _words(text), [], 0
    while i < len(words):
        word = words[i]
        if word.text in TITLES:
            j = i + 1
            while j < len(words) and words[j].joined and _capitalised(words[j].text) and not _known(words[j].text):
                j += 1
            if j > i + 1:
                found.append((word.start, text[word.start : words[j - 1].end]))
                i = j
                continue
        if not _capitalised(word.text):
            i += 1
            continue
        # A run of capitalised words, each joined to the one before.
        j = i + 1
        while j < len(words) and words[j].joined and _capitalised(words[j].text):
            j += 1
        run = words[i + 1 : j] if word.sentence_start else words[i:j]
        piece: list[_Word] = []
        for candidate in [*run, None]:
            if candidate is not None and not _known(candidate.text) and candidate.text not in TITLES:
                piece.append(candidate)
                continue
            if len(piece) >= 2:
                found.append((piece[0].start, text[piece[0].start : piece[-1].end]))
            piece = []
        # A title inside the run starts the next scan, so "Sarah and Mrs Patel" still finds "Mrs Patel".
        titles = [k for k in range(i + 1, j) if words[k].text in TITLES]
        i = titles[0] if titles else j
    return found


def _phone(match: re.Match) -> bool:
    digits = re.sub(r"\D", "", match.group("rest"))
    if digits[0] == "7":
        return len(digits) == 10
    if digits[0] == "1":
        return len(digits) in (9, 10)
    if digits[0] in "23":
        return len(digits) == 10
    return False


def personal_details(text: str) -> list[PersonalDetail]:
    """Every e-mail address, UK phone number and seeming name in the text, in the order they appear, once each."""
    if not text:
        return []
    found: list[tuple[int, PersonalDetail]] = []
    masked = list(text)

    def mask(start: int, end: int) -> None:
        masked[start:end] = "_" * (end - start)  # "_" is neither a letter nor a space: it joins no run

    for match in EMAIL.finditer(text):
        found.append((match.start(), PersonalDetail("email", match.group())))
        mask(match.start(), match.end())
    for match in PHONE.finditer("".join(masked)):
        if _phone(match):
            found.append((match.start(), PersonalDetail("phone", text[match.start() : match.end()])))
            mask(match.start(), match.end())
    for start, name in _names("".join(masked)):
        found.append((start, PersonalDetail("name", name)))
    found.sort(key=lambda item: item[0])
    return list(dict.fromkeys(detail for _, detail in found))
