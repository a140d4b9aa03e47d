"""Reading bank files: which files, their YAML and the line of each part, schema validation, the problems found."""

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from bot.domain.bank_schema import Mapping


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


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, and those in the folders named."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


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
