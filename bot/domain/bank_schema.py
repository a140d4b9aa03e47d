"""The schema of a question-bank file (pydantic models of a unit and of the mapping) and the credits a group gives."""

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


def _key(text: str) -> CriterionKey:
    unit, _, ref = text.partition(":")
    return CriterionKey(unit, ref)
