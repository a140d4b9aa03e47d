"""The loaded question banks (units, mapping, file versions): `Banks`, `load_banks` and `describe_banks`.

One YAML file per unit in the banks folder, plus `mapping.yaml`, which says which criteria of
different units credit each other, and in which direction. The schema is `bank_schema`;
`load_banks` validates every file and reports each problem as `file:line: message`, and records
each file's version (its SHA-256) so that evidence can say which wording it was given against.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.domain.bank_checks import _check_mapping, _check_mapping_shape, _check_unit
from bot.domain.bank_lints import lint_copied_look_fors, lint_unit
from bot.domain.bank_loading import BankProblem, BanksInvalid, _Lines, _parse, _validate, bank_files
from bot.domain.bank_schema import (
    Credit,
    CriterionKey,
    Mapping,
    MappingGroup,
    PdPart,
    Question,
    UnitBank,
    group_credits,
)

MAPPING_FILE = "mapping.yaml"


@dataclass(frozen=True)
class BankVersion:
    file: str  # the file's name, e.g. "cg-310.yaml"
    sha256: str  # hex SHA-256 of the file's bytes as read
    source: str  # the unit's seed file (unit.source); "mapping.yaml" for the mapping


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


def load_banks(paths: Iterable[Path]) -> Banks:
    """Read and check every bank file; raises BanksInvalid listing every problem with its file and line.

    Besides the schema, every load runs the questioning lints of `bank_lints` (yes/no probes, questions asked
    twice over, hypotheticals on performance, knowledge questions on performance, look-fors copied between units,
    reading age), so `nvqbot banks check` and the bot refuse the same files."""
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
