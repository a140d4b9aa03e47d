"""Question banks: the units, their criteria and questions, read from YAML files."""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitInfo(_Strict):
    code: str
    title: str
    level: int
    awarding_body: str
    credits: int | None = None
    source: str


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
    id: str
    criteria: list[str]
    text: str
    probes: list[str] = []
    look_fors: list[str] = []


class QuestionSet(_Strict):
    id: str
    title: str
    questions: list[Question] = Field(min_length=1)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def position(self, question_id: str) -> int:
        """1-based position of a question in the set."""
        return next(i for i, q in enumerate(self.questions, 1) if q.id == question_id)


class UnitBank(_Strict):
    unit: UnitInfo
    evidence_methods: EvidenceMethods
    criteria: list[CriterionSpec] = Field(min_length=1)
    question_sets: list[QuestionSet] = Field(min_length=1)

    @property
    def knowledge_set(self) -> QuestionSet:
        return self.question_set("knowledge")

    def question_set(self, set_id: str) -> QuestionSet:
        return next(s for s in self.question_sets if s.id == set_id)


class Banks:
    """Every unit the bot can assess, by unit code."""

    def __init__(self, units: dict[str, UnitBank]):
        self.units = units

    def unit(self, code: str) -> UnitBank | None:
        return self.units.get(code)

    @classmethod
    def load(cls, folder: Path) -> "Banks":
        units: dict[str, UnitBank] = {}
        for path in sorted(folder.glob("*.yaml")):
            if path.name == "mapping.yaml":
                continue
            bank = UnitBank.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
            units[bank.unit.code] = bank
        return cls(units)
