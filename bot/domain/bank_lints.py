"""Questioning lints: what `banks check` (and every load of the banks) refuses in how questions are asked.

Each is an error reported as `file:line: message`, on the line of the text at fault:

- **Yes/no probe.** A probe whose question opens with an auxiliary verb (Is, Are, Was, Were, Do, Does, Did,
  Have, Has, Had, Can, Could, Would, Will, Should, Shall, May, Might, Must, or their negatives: Isn't, Don't, …)
  can be answered "yes" or "no". The opening word is that of each sentence ending in "?" (of the first sentence
  if none does), after a leading "And", "So", "But" or "Then". An alternative question is let through: one that
  offers a second choice after a comma, ", or …" ("Was it yours to decide, or did you need someone's
  agreement?"), but not ", or not".
- **More than one question.** A question's text, a part's prompt or a probe with more than one "?".
- **Hypothetical or habitual on performance.** A text or probe of a question or part tagged to a performance
  criterion that asks what the candidate *would* do or *usually* does: performance is only what they did in a
  real case. Hypothetical: "imagine", "suppose", "supposing", "what if", "hypothetical(ly)", or "would you" /
  "what would" in the same text as "if" ("What would you do if…", "What would happen if…", "If a customer…, what
  would you…", "What would you have done if…"; not "agree what would happen", which reports a real case).
  Habitual: "usually", "normally", "typically", "generally", "in general", "as a rule", "tend(s) to", "most of
  the time", "whenever", or a sentence that opens with a question word and asks in the present simple what
  "you" do ("How do you share…", "What do you do when…", "How often do you…"; not "do you think / feel / know /
  remember / recall / mean / reckon / wish", which ask for reflection or recall).
- **Knowledge question on performance.** A question of a knowledge question set tagged to a performance
  criterion (reported on the tag): performance is evidenced by what was done, in a case walk-through.
- **Look-for copied from another unit.** A look-for whose text is the same (ignoring case and spacing) as a
  look-for of a question or part in another unit that is tagged only to criteria the mapping does not connect to
  this one's (no credit either way, `Banks.credits_from` / `credits_to`). Questions and parts tagged to no
  criterion (a case's scene-setting opening) are left out on both sides: they credit nothing.
- **Reading age.** A candidate-facing text (a question's text, a part's prompt, a probe) of 8 words or more whose
  Flesch-Kincaid grade (textstat, syllables by pyphen) is above 8, that is a reading age above about 13-14.
  Shorter texts are not graded: the formula is noise on a few words. Grade = 0.39 x words per sentence + 11.8 x
  syllables per word - 15.59, rounded to one decimal; 8.0 passes.

Every lint runs on every load (`load_banks`), so the bot refuses to start on banks that `banks check` refuses.
"""

import re
from collections.abc import Callable, Iterable, Mapping

import textstat

from bot.domain.bank_checks import asked_items
from bot.domain.bank_loading import BankProblem
from bot.domain.bank_schema import Credit, CriterionKey, PdPart, Question, UnitBank

READING_GRADE_MAX = 8.0  # Flesch-Kincaid grade; a reading age of about 13-14
READING_MIN_WORDS = 8  # texts shorter than this are not graded

AUXILIARIES = frozenset(
    """is are was were do does did have has had can could would will should shall may might must
    isn't aren't wasn't weren't don't doesn't didn't haven't hasn't hadn't can't cannot couldn't wouldn't won't
    shouldn't shan't mightn't mustn't""".split()
)
_LEADING = frozenset({"and", "so", "but", "then"})
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_FIRST_WORDS = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ALTERNATIVE = re.compile(r",\s*or\s+(?!not\b)\w")
_HYPOTHETICAL = re.compile(r"\b(imagine|suppose|supposing|what if|hypothetical(ly)?)\b", re.I)
_WOULD = re.compile(r"\b(would you|what would)\b", re.I)
_IF = re.compile(r"\bif\b", re.I)
_HABITUAL = re.compile(
    r"\b(usually|normally|typically|generally|in general|as a rule|tends? to|most of the time|whenever)\b", re.I
)
# A question in the present simple about what the candidate does: "How do you share…", "What do you do when…".
_DO_YOU = re.compile(
    r"^(?:(?:and|so|but|then)\s+)?(how|what|when|who|whom|where|which|why)\b[^,?]{0,40}?\bdo you\b"
    r"(?!\s+(think|feel|know|remember|recall|mean|reckon|wish)\b)",
    re.I,
)

Report = Callable[[tuple, str], BankProblem]


def _plain(text: str) -> str:
    return text.replace("\u2019", "'")


def yes_no(text: str) -> bool:
    """True when a probe can be answered yes or no (see the module's docstring for the rule)."""
    text = _plain(text)
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    asked = [s for s in sentences if s.endswith("?")] or sentences[:1]
    for sentence in asked:
        words = _FIRST_WORDS.findall(sentence.lower())
        while words and words[0] in _LEADING:
            words = words[1:]
        if words and words[0] in AUXILIARIES and not _ALTERNATIVE.search(sentence):
            return True
    return False


def hypothetical(text: str) -> bool:
    text = _plain(text)
    return bool(_HYPOTHETICAL.search(text) or (_WOULD.search(text) and _IF.search(text)))


def habitual(text: str) -> bool:
    text = _plain(text)
    return bool(_HABITUAL.search(text) or any(_DO_YOU.search(s.strip()) for s in _SENTENCE.findall(text)))


def reading_grade(text: str) -> float | None:
    """The Flesch-Kincaid grade of a text of READING_MIN_WORDS words or more; None for a shorter one."""
    if textstat.lexicon_count(text) < READING_MIN_WORDS:
        return None
    return textstat.flesch_kincaid_grade(text)


def lint_unit(bank: UnitBank, problem: Report) -> list[BankProblem]:
    """The lints that need only the unit: yes/no probes, question marks, hypotheticals and habits on performance,
    knowledge questions on performance, reading age. `problem(path, message)` makes a problem on a path's line."""
    problems: list[BankProblem] = []
    kinds = {c.ref: c.kind for c in bank.criteria}
    knowledge_questions = {id(q) for s in bank.question_sets if s.kind == "knowledge" for q in s.questions}
    for path, owner, item in asked_items(bank):
        text_key = "prompt" if isinstance(item, PdPart) else "text"
        performance = [ref for ref in item.criteria if kinds.get(ref) == "performance"]
        texts = [(path + (text_key,), "its " + text_key, _text(item))] + [
            (path + ("probes", pi, "text"), f"probe {pi + 1}", probe.text) for pi, probe in enumerate(item.probes)
        ]
        if id(item) in knowledge_questions:
            for ci, ref in enumerate(item.criteria):
                if kinds.get(ref) == "performance":
                    problems.append(
                        problem(
                            path + ("criteria", ci),
                            f"{owner} is a knowledge question tagged to performance criterion {ref!r}: performance is"
                            " evidenced by what the candidate did in a real case (a PD part), not by a knowledge"
                            " question; retag it or move it into a case",
                        )
                    )
        for pi, probe in enumerate(item.probes):
            if yes_no(probe.text):
                problems.append(
                    problem(
                        path + ("probes", pi, "text"),
                        f"{owner}: probe {pi + 1} can be answered yes or no ({probe.text!r}): ask an open question"
                        " (what, how, who, when, where, why, tell me)",
                    )
                )
        for at, what, text in texts:
            if text.count("?") > 1:
                problems.append(
                    problem(at, f"{owner}: {what} asks {text.count('?')} questions ({text!r}); ask one at a time")
                )
            if performance:
                refs = ", ".join(performance)
                if hypothetical(text):
                    problems.append(
                        problem(
                            at,
                            f"{owner}: {what} is hypothetical ({text!r}) but the {_noun(item)} is tagged to performance"
                            f" criterion {refs}: performance is what the candidate did in a real case, never what"
                            " they would do",
                        )
                    )
                if habitual(text):
                    problems.append(
                        problem(
                            at,
                            f"{owner}: {what} asks what the candidate usually does ({text!r}) but the {_noun(item)}"
                            f" is tagged to performance criterion {refs}: ask what they did in a real case"
                            ' ("What did you…", "How did you…")',
                        )
                    )
            grade = reading_grade(text)
            if grade is not None and grade > READING_GRADE_MAX:
                problems.append(
                    problem(
                        at,
                        f"{owner}: {what} reads at Flesch-Kincaid grade {grade:g}, above {READING_GRADE_MAX:g}"
                        f" (a reading age above about 13-14; texts of {READING_MIN_WORDS} words or more are graded):"
                        f" use shorter sentences and shorter words ({text!r})",
                    )
                )
    return problems


def lint_copied_look_fors(units: Mapping[str, tuple[UnitBank, Report]], credits: Iterable[Credit]) -> list[BankProblem]:
    """Look-fors the same as another unit's, on questions whose criteria the mapping does not connect."""
    connected: set[tuple[CriterionKey, CriterionKey]] = set()
    for credit in credits:
        connected.add((credit.source, credit.target))
        connected.add((credit.target, credit.source))
    # Normalised look-for text -> every (unit, item, criteria) that has it.
    holders: dict[str, list[tuple[str, str, list[CriterionKey]]]] = {}
    for code, (bank, _) in units.items():
        for _, owner, item in asked_items(bank):
            if not item.criteria:
                continue
            keys = [CriterionKey(code, ref) for ref in item.criteria]
            for look_for in item.look_fors:
                holders.setdefault(_normal(look_for.text), []).append((code, owner, keys))
    problems: list[BankProblem] = []
    for code, (bank, problem) in units.items():
        for path, owner, item in asked_items(bank):
            if not item.criteria:
                continue
            mine = [CriterionKey(code, ref) for ref in item.criteria]
            for li, look_for in enumerate(item.look_fors):
                copies = [
                    (other, other_owner, keys)
                    for other, other_owner, keys in holders.get(_normal(look_for.text), [])
                    if other != code and not any((a, b) in connected for a in mine for b in keys)
                ]
                if not copies:
                    continue
                other, other_owner, keys = copies[0]
                more = f" (and {len(copies) - 1} more)" if len(copies) > 1 else ""
                problems.append(
                    problem(
                        path + ("look_fors", li, "text"),
                        f"{owner}: look-for {look_for.id!r} is word for word a look-for of {other} {other_owner}{more},"
                        f" which is tagged to {', '.join(k.ref for k in keys)}; the mapping connects none of them to"
                        f" this one's {', '.join(k.ref for k in mine)}: write it for this unit's own criteria",
                    )
                )
    return problems


def _text(item: Question | PdPart) -> str:
    return item.prompt if isinstance(item, PdPart) else item.text


def _noun(item: Question | PdPart) -> str:
    return "part" if isinstance(item, PdPart) else "question"


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())
