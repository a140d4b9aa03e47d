"""The checks of bank files beyond the schema: ids, criteria named, question counts, look-fors, methods, mapping."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot.domain.bank_loading import BankProblem, _Lines
from bot.domain.bank_schema import CriterionKey, EvidenceMethods, Mapping, PdPart, Question, UnitBank, _key
from bot.domain.probing import term_stems

MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION = 2
# nvqbot collects answers to questions and professional discussions, so every unit needs a code for both.
COLLECTED_METHODS = ("questioning", "professional_discussion")
SHORT_MAX = 40  # characters in a question's `short` name, the candidate's /review list


def _check_mapping_shape(data: Any, lines: _Lines) -> list[BankProblem]:
    """What pydantic would only call "Field required": a mapping group without a direction."""
    problems: list[BankProblem] = []
    groups = data.get("groups") if isinstance(data, dict) else None
    for gi, group in enumerate(groups if isinstance(groups, list) else []):
        if isinstance(group, dict) and "direction" not in group:
            problems.append(
                lines.problem(
                    ("groups", gi),
                    f"group {group.get('id', gi)!r} has no direction: write `direction: equivalent` (the same"
                    " requirement at the same level, listed under criteria) or `direction: one_way` (evidence for"
                    " the sources credits the targets, never the reverse)",
                )
            )
    return problems


def _check_unit(bank: UnitBank, file: Path, lines: _Lines) -> list[BankProblem]:
    problems: list[BankProblem] = []
    refs = {c.ref for c in bank.criteria}
    by_ref = {c.ref: c for c in bank.criteria}
    # The parts of each criterion, counting only well-formed parts (the checks below report the others).
    parts: dict[str, list[str]] = {}
    for criterion in bank.criteria:
        parent = by_ref.get(criterion.part_of) if criterion.part_of else None
        if parent is not None and parent.part_of is None and parent.kind == criterion.kind:
            parts.setdefault(parent.ref, []).append(criterion.ref)

    def duplicates(items: Iterable[tuple[str, tuple]], what: str) -> None:
        seen: set[str] = set()
        for value, path in items:
            if value in seen:
                problems.append(lines.problem(path, f"duplicate {what} {value!r}"))
            seen.add(value)

    def known(tagged: list[str], path: tuple, owner: str) -> None:
        for index, ref in enumerate(tagged):
            if ref not in refs:
                problems.append(lines.problem(path + (index,), f"{owner} names unknown criterion {ref!r}"))
            elif ref in parts:
                names = ", ".join(parts[ref])
                problems.append(
                    lines.problem(
                        path + (index,),
                        f"{owner} names criterion {ref!r}, which has parts ({names}): name the part it evidences",
                    )
                )

    duplicates(((c.ref, ("criteria", i, "ref")) for i, c in enumerate(bank.criteria)), "criterion")
    duplicates(((s.id, ("question_sets", i, "id")) for i, s in enumerate(bank.question_sets)), "question set id")
    duplicates(((c.id, ("pd_cases", i, "id")) for i, c in enumerate(bank.pd_cases)), "PD case id")
    duplicates(
        (
            (q.id, ("question_sets", si, "questions", qi, "id"))
            for si, s in enumerate(bank.question_sets)
            for qi, q in enumerate(s.questions)
        ),
        "question id",
    )
    for ci, criterion in enumerate(bank.criteria):
        if criterion.part_of is None:
            continue
        path: tuple[str | int, ...] = ("criteria", ci, "part_of")
        parent = by_ref.get(criterion.part_of)
        if parent is None:
            problems.append(lines.problem(path, f"criterion {criterion.ref!r} is part of unknown criterion {criterion.part_of!r}"))
        elif parent.part_of is not None:
            problems.append(
                lines.problem(
                    path,
                    f"criterion {criterion.ref!r} is part of {parent.ref!r}, which is itself part of"
                    f" {parent.part_of!r}: parts go one level deep",
                )
            )
        elif parent.kind != criterion.kind:
            problems.append(
                lines.problem(path, f"criterion {criterion.ref!r} ({criterion.kind}) is part of {parent.ref!r} ({parent.kind})")
            )
    asked: dict[str, int] = {}
    for si, question_set in enumerate(bank.question_sets):
        for qi, question in enumerate(question_set.questions):
            path = ("question_sets", si, "questions", qi, "criteria")
            known(question.criteria, path, f"question {question.id!r}")
            for ref in question.criteria:
                asked[ref] = asked.get(ref, 0) + 1
    for ci, case in enumerate(bank.pd_cases):
        known(case.covers, ("pd_cases", ci, "covers"), f"PD case {case.id!r}")
        duplicates(((p.id, ("pd_cases", ci, "parts", pi, "id")) for pi, p in enumerate(case.parts)), "part id")
        for pi, part in enumerate(case.parts):
            known(part.criteria, ("pd_cases", ci, "parts", pi, "criteria"), f"PD part {case.id}/{part.id}")
    for ci, criterion in enumerate(bank.criteria):
        count = asked.get(criterion.ref, 0)
        # A criterion with parts is evidenced through its parts, which each need their questions.
        if criterion.kind == "knowledge" and criterion.ref not in parts and count < MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION:
            problems.append(
                lines.problem(
                    ("criteria", ci, "ref"),
                    f"knowledge criterion {criterion.ref!r} has {count} question(s);"
                    f" it needs at least {MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION}",
                )
            )
    for path, owner, item in asked_items(bank):
        problems.extend(_check_question(item, path, owner, lines))
    problems.extend(_check_methods(bank.evidence_methods, lines))
    return problems


def asked_items(bank: UnitBank) -> Iterable[tuple[tuple, str, "Question | PdPart"]]:
    """Every knowledge question and PD part of a unit: its path in the file, how messages name it, and itself."""
    for si, question_set in enumerate(bank.question_sets):
        for qi, question in enumerate(question_set.questions):
            yield ("question_sets", si, "questions", qi), f"question {question.id!r}", question
    for ci, case in enumerate(bank.pd_cases):
        for pi, part in enumerate(case.parts):
            yield ("pd_cases", ci, "parts", pi), f"PD part {case.id}/{part.id}", part


def generic_only(term: str) -> bool:
    """True when an evidence term can never count: made only of GENERIC_WORDS and stop words, after stemming.

    Asks the matcher itself (`probing.term_stems`), so the loader refuses exactly the terms that never match."""
    needed, _ = term_stems(term)
    return not needed


def _check_question(question: "Question | PdPart", path: tuple, owner: str, lines: _Lines) -> list[BankProblem]:
    """The look-fors and probes of one question or part: ids, aims, evidence terms, and its short name."""
    problems: list[BankProblem] = []
    if len(question.short) > SHORT_MAX:
        problems.append(
            lines.problem(
                path + ("short",),
                f"{owner}: short is {len(question.short)} characters; at most {SHORT_MAX}"
                " (2-6 words naming it in the candidate's /review list)",
            )
        )
    ids: set[str] = set()
    for li, look_for in enumerate(question.look_fors):
        if look_for.id in ids:
            at = path + ("look_fors", li, "id")
            problems.append(lines.problem(at, f"{owner}: duplicate look-for id {look_for.id!r}"))
        ids.add(look_for.id)
        for ei, term in enumerate(look_for.evidence):
            if generic_only(term):
                words = ", ".join(term.lower().split()) or "none"
                problems.append(
                    lines.problem(
                        path + ("look_fors", li, "evidence", ei),
                        f"{owner}, look-for {look_for.id!r}: evidence term {term!r} is made only of generic or stop"
                        f" words ({words}), which never count as evidence: write what a candidate would say that is"
                        " specific to this look-for",
                    )
                )
    for pi, probe in enumerate(question.probes):
        for ai, aim in enumerate(probe.aims):
            if aim not in ids:
                known = ", ".join(dict.fromkeys(look_for.id for look_for in question.look_fors))
                problems.append(
                    lines.problem(
                        path + ("probes", pi, "aims", ai),
                        f"{owner}: probe {pi + 1} aims at {aim!r}, which is not one of its look-fors ({known})",
                    )
                )
    return problems


def _check_methods(methods: EvidenceMethods, lines: _Lines) -> list[BankProblem]:
    problems: list[BankProblem] = []
    for kind in COLLECTED_METHODS:
        if kind not in methods.codes:
            problems.append(
                lines.problem(
                    ("evidence_methods", "codes"),
                    f"evidence_methods.codes has no code for {kind!r}: nvqbot collects it, so the unit needs one"
                    " (the source's own, or the plain code where the source names none)",
                )
            )
    seen: dict[str, str] = {}
    for kind, code in methods.codes.items():
        path = ("evidence_methods", "codes", kind)
        if not code.strip():
            problems.append(lines.problem(path, f"the code for {kind!r} is empty"))
        elif code in seen:
            problems.append(lines.problem(path, f"code {code!r} is used for both {seen[code]!r} and {kind!r}"))
        else:
            seen[code] = kind
    if methods.evidence_index is not None and methods.evidence_index in seen:
        problems.append(
            lines.problem(
                ("evidence_methods", "evidence_index"),
                f"{methods.evidence_index!r} is the evidence index column, so it cannot also be the code for"
                f" {seen[methods.evidence_index]!r}",
            )
        )
    for index, kind in enumerate(methods.mandatory):
        if kind not in methods.codes:
            problems.append(
                lines.problem(
                    ("evidence_methods", "mandatory", index),
                    f"mandatory method {kind!r} has no code in evidence_methods.codes",
                )
            )
    return problems


def _check_mapping(
    mapping: Mapping,
    units: dict[str, UnitBank],
    lines: _Lines,
    placed: dict[tuple[CriterionKey, CriterionKey], str],
    group_ids: dict[str, Path],
) -> list[BankProblem]:
    """Each group's shape, its criteria, its levels, and that no credit is given by two groups.

    `placed` and `group_ids` are shared by every mapping file read, so two files cannot clash either.
    """
    problems: list[BankProblem] = []
    for gi, group in enumerate(mapping.groups):
        at = ("groups", gi)
        if group.id in group_ids:
            problems.append(lines.problem(at + ("id",), f"duplicate group id {group.id!r}"))
        group_ids.setdefault(group.id, lines.file)
        if group.direction == "equivalent":
            if len(group.criteria) < 2:
                problems.append(lines.problem(at + ("criteria",), f"equivalent group {group.id!r} needs at least two criteria"))
            for field in ("sources", "targets"):
                if getattr(group, field):
                    problems.append(
                        lines.problem(
                            at + (field,),
                            f"equivalent group {group.id!r} lists its criteria under criteria, not {field}"
                            " (use direction: one_way for sources and targets)",
                        )
                    )
        else:
            for field in ("sources", "targets"):
                if not getattr(group, field):
                    problems.append(lines.problem(at + (field,), f"one_way group {group.id!r} needs at least one of {field}"))
            if group.criteria:
                problems.append(
                    lines.problem(
                        at + ("criteria",),
                        f"one_way group {group.id!r} lists sources and targets, not criteria"
                        " (use direction: equivalent for criteria)",
                    )
                )
        # Every criterion named must exist and may not have parts; collect the valid ones by field.
        valid: dict[str, list[tuple[CriterionKey, tuple]]] = {}
        for field in ("criteria", "sources", "targets"):
            seen: set[CriterionKey] = set()
            for ci, text in enumerate(getattr(group, field)):
                path = at + (field, ci)
                key = _key(text)
                bank = units.get(key.unit)
                if bank is None:
                    problems.append(lines.problem(path, f"{text!r}: no unit {key.unit!r} (write unit:ref)"))
                elif bank.criterion(key.ref) is None:
                    problems.append(lines.problem(path, f"{text!r}: unit {key.unit!r} has no criterion {key.ref!r}"))
                elif bank.parts_of(key.ref):
                    names = ", ".join(p.ref for p in bank.parts_of(key.ref))
                    problems.append(lines.problem(path, f"{text!r} has parts ({names}): map its parts instead"))
                elif key in seen:
                    problems.append(lines.problem(path, f"{text!r} is named twice in group {group.id!r}"))
                else:
                    seen.add(key)
                    valid.setdefault(field, []).append((key, path))

        def level(key: CriterionKey) -> int:
            return units[key.unit].unit.level

        if group.direction == "equivalent":
            members = valid.get("criteria", [])
            units_seen: dict[str, CriterionKey] = {}
            for key, path in members:
                if key.unit in units_seen:
                    problems.append(
                        lines.problem(path, f"'{key}': group {group.id!r} already names {units_seen[key.unit]} of the same unit")
                    )
                units_seen.setdefault(key.unit, key)
            if members and any(level(key) != level(members[0][0]) for key, _ in members):
                levels = ", ".join(f"{key} is level {level(key)}" for key, _ in members)
                problems.append(
                    lines.problem(
                        at + ("direction",),
                        f"equivalent group {group.id!r} joins criteria of different levels ({levels}):"
                        " use direction: one_way from the higher level to the lower",
                    )
                )
            pairs = [(a, b, pb) for a, _ in members for b, pb in members if a.unit != b.unit]
        else:
            pairs = []
            for source, _ in valid.get("sources", []):
                for target, path in valid.get("targets", []):
                    if source.unit == target.unit:
                        problems.append(lines.problem(path, f"{source} and {target} are in the same unit"))
                    elif level(source) < level(target):
                        problems.append(
                            lines.problem(
                                path,
                                f"level {level(source)} evidence cannot credit level {level(target)}:"
                                f" {source} -> {target}",
                            )
                        )
                    else:
                        pairs.append((source, target, path))
        for source, target, path in pairs:
            if (source, target) in placed and placed[(source, target)] != group.id:
                problems.append(
                    lines.problem(path, f"{source} -> {target} is already credited by group {placed[(source, target)]!r}")
                )
            placed.setdefault((source, target), group.id)
    return problems
