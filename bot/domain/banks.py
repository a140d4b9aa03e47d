"""Question banks: the units, their criteria, knowledge questions and professional discussion prompts.

One YAML file per unit in the banks folder, plus `mapping.yaml`, which says which criteria of
different units credit each other, and in which direction. The pydantic models below are the schema;
`load_banks` validates every file and reports each problem as `file:line: message`, and records
each file's version (its SHA-256) so that evidence can say which wording it was given against.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

MAPPING_FILE = "mapping.yaml"
MIN_QUESTIONS_PER_KNOWLEDGE_CRITERION = 2
# nvqbot collects answers to questions and professional discussions, so every unit needs a code for both.
COLLECTED_METHODS = ("questioning", "professional_discussion")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Statement(_Strict):
    """A declaration's words, and whose words they are."""

    text: str = Field(min_length=1)
    # "unit": the awarding body's own words, verbatim from the source;
    # "centre": nvqbot's wording, where the source has none.
    source: Literal["unit", "centre"]


class Declarations(_Strict):
    # What the candidate signs when submitting evidence (authenticity: their own work).
    candidate: Statement
    # Signed in addition when the candidate submits the whole unit (NHS: "I SUBMIT THIS AS A COMPLETE UNIT").
    candidate_complete: Statement | None = None
    # The assessor's statement at a "competent" sign-off, as the source words it.
    assessor: Statement | None = None
    # Who signs the assessor statement, as the source says (Edexcel's joint statement:
    # candidate, assessor and internal verifier). Empty: the assessor alone.
    assessor_signatories: list[str] = []


class UnitInfo(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    level: int
    awarding_body: str
    credits: int | None = None
    source: str
    declarations: Declarations


MethodKind = Literal[
    "observation",
    "questioning",
    "professional_discussion",
    "witness_testimony",
    "expert_witness",
    "product",
    "reflective_account",
    "personal_statement",
    "prior_learning",
    "simulation",
]


class EvidenceMethods(_Strict):
    # Each kind of evidence the unit allows -> its code exactly as the source writes it.
    codes: dict[MethodKind, str]
    mandatory: list[MethodKind] = []
    never_for_performance: list[MethodKind] = []
    # The source's evidence-index column (Edexcel "EI"): a reference column, NOT a method.
    evidence_index: str | None = None


class CriterionSpec(_Strict):
    ref: str
    kind: Literal["performance", "knowledge", "range"]
    group: str | None = None
    text: str
    # The criterion this one is a named aspect of (Edexcel knowledge "2a".."2e" are parts of "2").
    part_of: str | None = None


# Words that never count as evidence for a look-for, because almost every answer says them. An evidence term made
# only of these (after stemming; stop words aside) is refused by the loader.
GENERIC_WORDS = frozenset(
    """customer customers client clients policy policies always make sure happy help problem problems issue issues
    service services company organisation organization business good best deal sort work staff people thing things
    try ensure need way""".split()
)
SHORT_MAX = 40  # characters in a question's `short` name, the candidate's /review list


class LookFor(_Strict):
    """What a sufficient answer shows, for the assessor, and the words that evidence it, for the probe ladder."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")  # unique within its question
    text: str  # shown to the assessor
    # What a candidate might say that evidences it: key terms and everyday synonyms, matched on word stems
    # ("logged" matches "log"); a term of several words matches when its words appear close together in order.
    evidence: list[str] = Field(min_length=2)


class Probe(_Strict):
    """A follow-up for a thin answer, aimed at the look-for(s) it is after."""

    text: str
    aims: list[str] = Field(min_length=1)  # ids of look-fors of the same question


class Question(_Strict):
    """A knowledge question, or one part of a professional discussion case."""

    id: str
    short: str = Field(min_length=1)  # 2-6 words naming it for the candidate's /review list (at most SHORT_MAX)
    criteria: list[str]
    text: str
    probes: list[Probe] = []
    look_fors: list[LookFor] = Field(min_length=1)


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
    """One step of a case walk-through: the same as a Question, but its words are under `prompt`."""

    id: str
    short: str = Field(min_length=1)
    prompt: str
    probes: list[Probe] = []
    look_fors: list[LookFor] = Field(min_length=1)
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
                Question(
                    id=p.id, short=p.short, criteria=p.criteria, text=p.prompt, probes=p.probes, look_fors=p.look_fors
                )
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

    def parts_of(self, ref: str) -> list[CriterionSpec]:
        """The criteria that are named parts of this one, in the source's order (empty if it has none)."""
        return [c for c in self.criteria if c.part_of == ref]

    def method_code(self, kind: MethodKind) -> str:
        """The unit's own code for a kind of evidence, e.g. "Q&A" for questioning in Edexcel F6."""
        try:
            return self.evidence_methods.codes[kind]
        except KeyError:
            raise KeyError(f"unit {self.unit.code!r} has no code for {kind!r} evidence") from None


class MappingGroup(_Strict):
    id: str
    summary: str
    # Required: "equivalent" joins the same requirement at the same level (evidence for any credits every
    # other); "one_way": evidence for the sources credits the targets, never the reverse.
    direction: Literal["equivalent", "one_way"]
    criteria: list[str] = []
    sources: list[str] = []
    targets: list[str] = []
    # A near-match: the credit counts only after an assessor confirms it for that candidate.
    partial: bool = False
    note: str | None = None


class Mapping(_Strict):
    groups: list[MappingGroup] = []


@dataclass(frozen=True, order=True)
class CriterionKey:
    unit: str
    ref: str

    def __str__(self) -> str:
        return f"{self.unit}:{self.ref}"


@dataclass(frozen=True)
class Credit:
    """Evidence for `source` counts for `target` (once an assessor confirms it, if `partial`)."""

    source: CriterionKey
    target: CriterionKey
    group: str  # the mapping group's id
    partial: bool


@dataclass(frozen=True)
class BankVersion:
    file: str  # the file's name, e.g. "cg-310.yaml"
    sha256: str  # hex SHA-256 of the file's bytes as read
    source: str  # the unit's seed file (unit.source); "mapping.yaml" for the mapping


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


def group_credits(group: MappingGroup) -> list[Credit]:
    """Every (source, target) credit a mapping group gives, between criteria of different units."""
    if group.direction == "equivalent":
        keys = [_key(text) for text in group.criteria]
        pairs = [(a, b) for a in keys for b in keys if a.unit != b.unit]
    else:
        pairs = [
            (a, b) for a in map(_key, group.sources) for b in map(_key, group.targets) if a.unit != b.unit
        ]
    return [Credit(source, target, group.id, group.partial) for source, target in pairs]


class Banks:
    """Every unit the bot can assess, by unit code, the cross-unit mapping, and the version of each file.

    `versions` maps unit codes (and `MAPPING_FILE` for the mapping) to the version of the file each was
    read from; `load_banks` supplies them. Where one is missing (banks built by hand), it is computed from
    the model's canonical JSON, so it is still stable.
    """

    def __init__(
        self,
        units: dict[str, UnitBank],
        mapping: Mapping | None = None,
        versions: dict[str, BankVersion] | None = None,
    ):
        self.units = units
        self.mapping = mapping or Mapping()
        versions = versions or {}
        self.versions: dict[str, BankVersion] = {
            code: versions.get(code) or _model_version(f"{code}.yaml", bank, bank.unit.source)
            for code, bank in units.items()
        }
        self._mapping_version = versions.get(MAPPING_FILE) or (
            _model_version(MAPPING_FILE, mapping, MAPPING_FILE) if mapping is not None else None
        )
        self._groups = {group.id: group for group in self.mapping.groups}
        self._from: dict[CriterionKey, list[Credit]] = {}
        self._to: dict[CriterionKey, list[Credit]] = {}
        seen: set[tuple[CriterionKey, CriterionKey]] = set()
        for group in self.mapping.groups:
            for credit in group_credits(group):
                if (credit.source, credit.target) in seen:
                    continue  # load_banks refuses this; a hand-built mapping keeps the first group's credit
                seen.add((credit.source, credit.target))
                self._from.setdefault(credit.source, []).append(credit)
                self._to.setdefault(credit.target, []).append(credit)

    def unit(self, code: str) -> UnitBank | None:
        return self.units.get(code)

    def version(self, unit_code: str) -> BankVersion:
        """The version of the unit's bank file (KeyError for an unknown unit)."""
        return self.versions[unit_code]

    @property
    def mapping_version(self) -> BankVersion | None:
        """The version of the mapping file, or None if there is no mapping."""
        return self._mapping_version

    def group(self, group_id: str) -> MappingGroup | None:
        return self._groups.get(group_id)

    def credits_from(self, unit: str, ref: str) -> list[Credit]:
        """The criteria of other units that evidence for this one credits."""
        return list(self._from.get(CriterionKey(unit, ref), ()))

    def credits_to(self, unit: str, ref: str) -> list[Credit]:
        """The criteria of other units whose evidence credits this one."""
        return list(self._to.get(CriterionKey(unit, ref), ()))

    @classmethod
    def load(cls, folder: Path) -> "Banks":
        return load_banks([folder])


def _key(text: str) -> CriterionKey:
    unit, _, ref = text.partition(":")
    return CriterionKey(unit, ref)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _model_version(file: str, model: BaseModel, source: str) -> BankVersion:
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return BankVersion(file=file, sha256=_sha256(canonical.encode("utf-8")), source=source)


def describe_banks(banks: Banks) -> list[dict[str, Any]]:
    """Per unit: its version, declarations, evidence methods, and every criterion with its kind, text, parts,
    how many questions and PD parts evidence it, and the credits it gives and receives through the mapping; and
    every question and PD part by its short name."""

    def credit(key: CriterionKey, c: Credit) -> dict[str, Any]:
        group = banks.group(c.group)
        return {
            "criterion": str(key),
            "group": c.group,
            "direction": group.direction if group else None,
            "partial": c.partial,
        }

    described = []
    for code, bank in sorted(banks.units.items()):
        questions = [q for s in bank.knowledge_sets for q in s.questions]
        parts = [p for case in bank.pd_cases for p in case.parts]
        version = banks.version(code)
        described.append(
            {
                "code": code,
                "title": bank.unit.title,
                "level": bank.unit.level,
                "awarding_body": bank.unit.awarding_body,
                "source": bank.unit.source,
                "version": {"file": version.file, "sha256": version.sha256, "source": version.source},
                "declarations": bank.unit.declarations.model_dump(),
                "evidence_methods": bank.evidence_methods.model_dump(),
                "criteria": [
                    {
                        "ref": c.ref,
                        "kind": c.kind,
                        "group": c.group,
                        "part_of": c.part_of,
                        "parts": [p.ref for p in bank.parts_of(c.ref)],
                        "text": c.text,
                        "questions": sum(c.ref in q.criteria for q in questions),
                        "pd_parts": sum(c.ref in p.criteria for p in parts),
                        # Evidence for this criterion credits these...
                        "credits_out": [credit(k.target, k) for k in banks.credits_from(code, c.ref)],
                        # ...and evidence for these credits this one.
                        "credits_in": [credit(k.source, k) for k in banks.credits_to(code, c.ref)],
                    }
                    for c in bank.criteria
                ],
                "pd_cases": [{"id": case.id, "case_type": case.case_type, "covers": case.covers} for case in bank.pd_cases],
                # Every knowledge question and PD part by its short name, with what it is tagged to and how many
                # look-fors and probes it has.
                "questions": [
                    {
                        "set": set_id,
                        "id": item.id,
                        "short": item.short,
                        "criteria": item.criteria,
                        "look_fors": [look_for.id for look_for in item.look_fors],
                        "probes": len(item.probes),
                    }
                    for set_id, item in _asked_by_set(bank)
                ],
            }
        )
    return described


def _asked_by_set(bank: UnitBank) -> Iterable[tuple[str, "Question | PdPart"]]:
    for question_set in bank.question_sets:
        for question in question_set.questions:
            yield question_set.id, question
    for case in bank.pd_cases:
        for part in case.parts:
            yield case.set_id, part


# Loading and checking


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those in the folders named."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def load_banks(paths: Iterable[Path]) -> Banks:
    """Read and check every bank file; raises BanksInvalid listing every problem with its file and line.

    Besides the schema, every load runs the questioning lints of `bank_lints` (yes/no probes, questions asked
    twice over, hypotheticals on performance, knowledge questions on performance, look-fors copied between units,
    reading age), so `nvqbot banks check` and the bot refuse the same files."""
    from bot.domain.bank_lints import lint_copied_look_fors, lint_unit

    problems: list[BankProblem] = []
    units: dict[str, tuple[UnitBank, Path, _Lines]] = {}
    versions: dict[str, BankVersion] = {}
    mappings: list[tuple[Mapping, Path, _Lines, bytes]] = []
    for file in bank_files(paths):
        parsed = _parse(file, problems)
        if parsed is None:
            continue
        data, lines, raw = parsed
        if file.name == MAPPING_FILE:
            problems.extend(_check_mapping_shape(data, lines))
            if (mapping := _validate(Mapping, data, file, lines, problems)) is not None:
                mappings.append((mapping, file, lines, raw))
            continue
        bank = _validate(UnitBank, data, file, lines, problems)
        if bank is None:
            continue
        problems.extend(_check_unit(bank, file, lines))
        problems.extend(lint_unit(bank, lines.problem))
        if bank.unit.code in units:
            other = units[bank.unit.code][1]
            problems.append(lines.problem(("unit", "code"), f"unit code {bank.unit.code!r} is already used by {other}"))
        else:
            units[bank.unit.code] = (bank, file, lines)
            versions[bank.unit.code] = BankVersion(file=file.name, sha256=_sha256(raw), source=bank.unit.source)
    placed: dict[tuple[CriterionKey, CriterionKey], str] = {}
    group_ids: dict[str, Path] = {}
    for mapping, _, lines, _ in mappings:
        problems.extend(_check_mapping(mapping, {code: u[0] for code, u in units.items()}, lines, placed, group_ids))
    credits = [credit for mapping, _, _, _ in mappings for group in mapping.groups for credit in group_credits(group)]
    located = {code: (bank, lines.problem) for code, (bank, _, lines) in units.items()}
    problems.extend(lint_copied_look_fors(located, credits))
    if problems:
        raise BanksInvalid(problems)
    if mappings:
        merged = Mapping(groups=[group for mapping, _, _, _ in mappings for group in mapping.groups])
        if len(mappings) == 1:
            versions[MAPPING_FILE] = BankVersion(file=mappings[0][1].name, sha256=_sha256(mappings[0][3]), source=MAPPING_FILE)
        else:
            # Several mapping files (several folders): one version over all of them, in the order read.
            joined = b"".join(raw for _, _, _, raw in mappings)
            names = ", ".join(str(file) for _, file, _, _ in mappings)
            versions[MAPPING_FILE] = BankVersion(file=names, sha256=_sha256(joined), source=MAPPING_FILE)
    else:
        merged = None
    return Banks({code: bank for code, (bank, _, _) in units.items()}, merged, versions)


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


# libyaml's loader when PyYAML was built with it (about ten times faster on the banks), else the pure-Python one.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the data built from it."""
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _parse(file: Path, problems: list[BankProblem]) -> tuple[Any, _Lines, bytes] | None:
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
        node, data = _compose_and_load(text)
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
    return data, lines, raw


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


# Fields an older bank file may still use: what replaced them, and what to write instead.
_RENAMED: dict[tuple[int | str, ...], tuple[tuple[int | str, ...], str]] = {
    ("unit", "declaration"): (
        ("unit", "declarations"),
        "unit.declaration is now unit.declarations:"
        " write declarations: {candidate: {text: ..., source: unit or centre}} (see NOTES.md)",
    ),
    ("evidence_methods", "allowed"): (
        ("evidence_methods", "codes"),
        "evidence_methods.allowed is now evidence_methods.codes:"
        " a map from each kind of evidence to the unit's own code, e.g. questioning: Q",
    ),
}


# A look-for or probe still written as a plain string (the schema before issue 10): what to write instead.
_OLD_SHAPES: dict[int | str, str] = {
    "look_fors": " (a look-for is now {id: ..., text: ..., evidence: [terms a candidate would say]})",
    "probes": " (a probe is now {text: ..., aims: [ids of the look-fors it is after]})",
}


def _validate(model: type[BaseModel], data: Any, file: Path, lines: _Lines, problems: list[BankProblem]):
    if not isinstance(data, dict):
        problems.append(BankProblem(file, 1, "expected a mapping at the top of the file"))
        return None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors()
        renamed = {tuple(e["loc"]) for e in errors if e["type"] == "extra_forbidden" and tuple(e["loc"]) in _RENAMED}
        replaced = {_RENAMED[loc][0] for loc in renamed}
        for item in errors:
            loc = tuple(item["loc"])
            if model is Mapping and _is_missing_direction(item):
                continue  # _check_mapping_shape says it in words
            if item["type"] == "missing" and loc in replaced:
                continue  # the old field's message says what to write
            where = ".".join(str(part) for part in loc)
            message = _RENAMED[loc][1] if loc in renamed else f"{where}: {item['msg']}"
            if item["type"] == "model_type" and isinstance(item.get("input"), str) and len(loc) >= 2:
                message += _OLD_SHAPES.get(loc[-2], "")
            problems.append(lines.problem(loc, message))
        return None


def _is_missing_direction(item: ErrorDetails) -> bool:
    loc = tuple(item["loc"])
    return item["type"] == "missing" and len(loc) == 3 and loc[0] == "groups" and loc[2] == "direction"


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
    from bot.domain.probing import term_stems

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
