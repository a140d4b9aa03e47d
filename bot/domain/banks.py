"""Question banks: the units, their criteria, knowledge questions and professional discussion prompts.

One YAML file per unit in the banks folder, plus `mapping.yaml`, which says which criteria of
different units are the same knowledge or performance. The pydantic models below are the schema;
`load_banks` validates every file and reports each problem as `file:line: message`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAPPING_FILE = "mapping.yaml"
MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitInfo(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    level: int
    awarding_body: str
    credits: int | None = None
    source: str
    # What the candidate signs when submitting evidence (the units' "Unit sign-off").
    declaration: str


class EvidenceMethods(_Strict):
    allowed: list[str]
    mandatory: list[str] = []
    never_for_performance: list[str] = []


class CriterionSpec(_Strict):
    ref: str
    kind: Literal["performance", "knowledge", "range"]
    group: str | None = None
    text: str


class Question(_Strict):
    """A knowledge question, or one part of a professional discussion case."""

    id: str
    criteria: list[str]
    text: str
    probes: list[str] = []
    look_fors: list[str] = []


class QuestionSet(_Strict):
    id: str
    title: str
    kind: Literal["knowledge", "pd"] = "knowledge"
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def position(self, question_id: str) -> int:
        """1-based position of a question in the set."""
        return next(i for i, q in enumerate(self.questions, 1) if q.id == question_id)


class PdPart(_Strict):
    id: str
    prompt: str
    probes: list[str] = []
    look_fors: list[str] = []
    criteria: list[str] = []


class PdCase(_Strict):
    """A kind of real case the candidate describes in a professional discussion."""

    id: str
    case_type: str
    covers: list[str] = []
    parts: list[PdPart] = Field(min_length=1)

    @property
    def set_id(self) -> str:
        return f"pd:{self.id}"

    def as_question_set(self) -> QuestionSet:
        return QuestionSet(
            id=self.set_id,
            title=self.case_type,
            kind="pd",
            questions=[
                Question(id=p.id, criteria=p.criteria, text=p.prompt, probes=p.probes, look_fors=p.look_fors)
                for p in self.parts
            ],
        )


class UnitBank(_Strict):
    unit: UnitInfo
    evidence_methods: EvidenceMethods
    criteria: list[CriterionSpec] = Field(min_length=1)
    question_sets: list[QuestionSet] = Field(min_length=1)
    pd_cases: list[PdCase] = []

    @property
    def knowledge_sets(self) -> list[QuestionSet]:
        return self.question_sets

    @cached_property
    def _sets_by_id(self) -> dict[str, QuestionSet]:
        sets = {s.id: s for s in self.question_sets}
        sets.update((case.set_id, case.as_question_set()) for case in self.pd_cases)
        return sets

    def question_set(self, set_id: str) -> QuestionSet | None:
        """A knowledge question set by its id, or a PD case's parts by `pd:<case id>`."""
        return self._sets_by_id.get(set_id)

    def pd_case(self, case_id: str) -> PdCase | None:
        return next((c for c in self.pd_cases if c.id == case_id), None)

    def criterion(self, ref: str) -> CriterionSpec | None:
        return next((c for c in self.criteria if c.ref == ref), None)


class MappingGroup(_Strict):
    id: str
    summary: str
    criteria: list[str] = Field(min_length=2)


class Mapping(_Strict):
    groups: list[MappingGroup] = []


@dataclass(frozen=True, order=True)
class CriterionKey:
    unit: str
    ref: str

    def __str__(self) -> str:
        return f"{self.unit}:{self.ref}"


@dataclass(frozen=True)
class BankProblem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class BanksInvalid(Exception):
    def __init__(self, problems: list[BankProblem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


class Banks:
    """Every unit the bot can assess, by unit code, and the cross-unit mapping."""

    def __init__(self, units: dict[str, UnitBank], mapping: Mapping | None = None):
        self.units = units
        self._groups: dict[CriterionKey, tuple[CriterionKey, ...]] = {}
        for group in (mapping or Mapping()).groups:
            keys = tuple(_key(text) for text in group.criteria)
            for key in keys:
                self._groups[key] = keys

    def unit(self, code: str) -> UnitBank | None:
        return self.units.get(code)

    def equivalents(self, unit: str, ref: str) -> list[CriterionKey]:
        """Criteria of other units that the mapping says are the same as this one."""
        own = CriterionKey(unit, ref)
        return [key for key in self._groups.get(own, ()) if key != own]

    @classmethod
    def load(cls, folder: Path) -> "Banks":
        return load_banks([folder])


def _key(text: str) -> CriterionKey:
    unit, _, ref = text.partition(":")
    return CriterionKey(unit, ref)


def describe_banks(banks: Banks) -> list[dict[str, Any]]:
    """Per unit, every criterion with its kind, text, how many questions and PD parts evidence it, and its mapping."""
    described = []
    for code, bank in sorted(banks.units.items()):
        questions = [q for s in bank.knowledge_sets for q in s.questions]
        parts = [p for case in bank.pd_cases for p in case.parts]
        described.append(
            {
                "code": code,
                "title": bank.unit.title,
                "level": bank.unit.level,
                "awarding_body": bank.unit.awarding_body,
                "source": bank.unit.source,
                "evidence_methods": bank.evidence_methods.model_dump(),
                "criteria": [
                    {
                        "ref": c.ref,
                        "kind": c.kind,
                        "group": c.group,
                        "text": c.text,
                        "questions": sum(c.ref in q.criteria for q in questions),
                        "pd_parts": sum(c.ref in p.criteria for p in parts),
                        "mapped": [str(key) for key in banks.equivalents(code, c.ref)],
                    }
                    for c in bank.criteria
                ],
                "pd_cases": [{"id": case.id, "case_type": case.case_type, "covers": case.covers} for case in bank.pd_cases],
            }
        )
    return described


# Loading and checking


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those in the folders named."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def load_banks(paths: Iterable[Path]) -> Banks:
    """Read and check every bank file; raises BanksInvalid listing every problem with its file and line."""
    problems: list[BankProblem] = []
    units: dict[str, tuple[UnitBank, Path, "_Lines"]] = {}
    mappings: list[tuple[Mapping, Path, _Lines]] = []
    for file in bank_files(paths):
        parsed = _parse(file, problems)
        if parsed is None:
            continue
        data, lines = parsed
        if file.name == MAPPING_FILE:
            if (mapping := _validate(Mapping, data, file, lines, problems)) is not None:
                mappings.append((mapping, file, lines))
            continue
        bank = _validate(UnitBank, data, file, lines, problems)
        if bank is None:
            continue
        problems.extend(_check_unit(bank, file, lines))
        if bank.unit.code in units:
            other = units[bank.unit.code][1]
            problems.append(lines.problem(("unit", "code"), f"unit code {bank.unit.code!r} is already used by {other}"))
        else:
            units[bank.unit.code] = (bank, file, lines)
    for mapping, file, lines in mappings:
        problems.extend(_check_mapping(mapping, {code: u[0] for code, u in units.items()}, lines))
    if problems:
        raise BanksInvalid(problems)
    merged = Mapping(groups=[group for mapping, _, _ in mappings for group in mapping.groups])
    return Banks({code: bank for code, (bank, _, _) in units.items()}, merged)


class _Lines:
    """Where each part of a YAML document is, by its path of keys and indexes."""

    def __init__(self, file: Path):
        self.file = file
        self.by_path: dict[tuple, int] = {}

    def line(self, path: tuple) -> int:
        while path not in self.by_path and path:
            path = path[:-1]
        return self.by_path.get(path, 1)

    def problem(self, path: tuple, message: str) -> BankProblem:
        return BankProblem(self.file, self.line(path), message)


def _parse(file: Path, problems: list[BankProblem]) -> tuple[Any, _Lines] | None:
    try:
        text = file.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as error:
        problems.append(BankProblem(file, 1, f"cannot read: {error.strerror}"))
        return None
    except UnicodeDecodeError:
        problems.append(BankProblem(file, 1, "not UTF-8 text"))
        return None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problems.append(BankProblem(file, mark.line + 1 if mark else 1, f"bad YAML: {error.problem or error}"))
        return None
    lines = _Lines(file)
    if node is not None:
        _record_lines(node, (), lines, problems)
    return data, lines


def _record_lines(node: yaml.Node, path: tuple, lines: _Lines, problems: list[BankProblem]) -> None:
    lines.by_path.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                problems.append(BankProblem(lines.file, key_node.start_mark.line + 1, f"duplicate key {key!r}"))
            seen.add(key)
            lines.by_path[path + (key,)] = key_node.start_mark.line + 1
            _record_lines(value_node, path + (key,), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (index,), lines, problems)


def _validate(model: type[BaseModel], data: Any, file: Path, lines: _Lines, problems: list[BankProblem]):
    if not isinstance(data, dict):
        problems.append(BankProblem(file, 1, "expected a mapping at the top of the file"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"])
            problems.append(lines.problem(tuple(item["loc"]), f"{where}: {item['msg']}"))
        return None


def _check_unit(bank: UnitBank, file: Path, lines: _Lines) -> list[BankProblem]:
    problems: list[BankProblem] = []
    refs = {c.ref for c in bank.criteria}

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
        if criterion.kind == "knowledge" and count < MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION:
            problems.append(
                lines.problem(
                    ("criteria", ci, "ref"),
                    f"knowledge criterion {criterion.ref!r} has {count} question(s);"
                    f" it needs at least {MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION}",
                )
            )
    methods = bank.evidence_methods
    for index, method in enumerate(methods.mandatory):
        if method not in methods.allowed:
            problems.append(
                lines.problem(("evidence_methods", "mandatory", index), f"mandatory method {method!r} is not allowed")
            )
    return problems


def _check_mapping(mapping: Mapping, units: dict[str, UnitBank], lines: _Lines) -> list[BankProblem]:
    problems: list[BankProblem] = []
    placed: dict[CriterionKey, str] = {}
    group_ids: set[str] = set()
    for gi, group in enumerate(mapping.groups):
        if group.id in group_ids:
            problems.append(lines.problem(("groups", gi, "id"), f"duplicate group id {group.id!r}"))
        group_ids.add(group.id)
        for ci, text in enumerate(group.criteria):
            path = ("groups", gi, "criteria", ci)
            key = _key(text)
            bank = units.get(key.unit)
            if bank is None:
                problems.append(lines.problem(path, f"{text!r}: no unit {key.unit!r} (write unit:ref)"))
            elif bank.criterion(key.ref) is None:
                problems.append(lines.problem(path, f"{text!r}: unit {key.unit!r} has no criterion {key.ref!r}"))
            elif key in placed:
                problems.append(lines.problem(path, f"{text!r} is already mapped in group {placed[key]!r}"))
            else:
                placed[key] = group.id
    return problems
