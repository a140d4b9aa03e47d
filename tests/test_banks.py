"""The question banks: the shipped units are faithful to their sources, and broken files are reported by file and line."""

import json
import re
import shutil
from pathlib import Path

import pytest

from bot.domain.banks import BanksInvalid, load_banks
from bot.settings import PROJECT_ROOT
from tests.botprocess import nvqbot

BANKS = PROJECT_ROOT / "question_banks"
SEEDS = PROJECT_ROOT.parent / "shared" / "seeds"
# Words the scans glued together, as the banks' notes record.
OCR_FIXES = {"areidentified": "are identified", "canidentify": "can identify"}


def refs(prefix: str, numbers) -> list[str]:
    return [f"{prefix}{n}" for n in numbers]


EXPECTED = {
    "cg-310": {
        "performance": refs("310.1.", range(1, 8)) + refs("310.2.", range(1, 4)) + refs("310.3.", range(1, 5)),
        "knowledge": refs("310.4.", range(1, 5)),
        "range": ["1a", "1b", "2a", "2b", "2c", "3a", "3b", "3c", "4a", "4b"],
    },
    "edexcel-f6": {
        "performance": refs("1.", range(1, 8)) + refs("2.", range(1, 5)) + refs("3.", range(1, 6)),
        "knowledge": ["a", "b", "c", "d"] + [str(n) for n in range(1, 13)],
        "range": refs("ER", range(1, 8)),
    },
    "ocr-c3": {
        "performance": refs("1.", range(1, 6)) + refs("2.", range(1, 6)) + refs("3.", range(1, 7)),
        "knowledge": refs("4.", range(1, 6)),
        "range": ["4a", "4b", "4c", "4d", "4e", "5a", "5b", "5c", "5d"],
    },
    "ics-nos": {
        "performance": refs("1.", range(1, 8)) + refs("2.", range(1, 4)) + refs("3.", range(1, 5)),
        "knowledge": refs("K", range(1, 5)),
        "range": [],
    },
    "nhs-cs": {"performance": [str(n) for n in range(1, 15)], "knowledge": refs("K", range(1, 5)), "range": []},
}


@pytest.fixture(scope="module")
def listed() -> dict:
    result = nvqbot("sqlite://", "banks", "list", "--json")
    assert result.returncode == 0, result.stderr
    return {unit["code"]: unit for unit in json.loads(result.stdout)}


def test_the_shipped_banks_pass_the_check():
    result = nvqbot("sqlite://", "banks", "check")
    assert result.returncode == 0, result.stderr
    assert "5 unit(s) (cg-310, edexcel-f6, ics-nos, nhs-cs, ocr-c3)" in result.stdout


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_unit_lists_exactly_the_criteria_of_its_source(listed, code):
    unit = listed[code]
    for kind, expected in EXPECTED[code].items():
        assert sorted(c["ref"] for c in unit["criteria"] if c["kind"] == kind) == sorted(expected), kind
    assert len(unit["criteria"]) == sum(map(len, EXPECTED[code].values()))


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds are in ../shared/seeds beside the project")
@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_criterion_wording_comes_from_the_source(listed, code):
    text = (SEEDS / listed[code]["source"]).read_text(encoding="utf-8").lower()
    for glued, fixed in OCR_FIXES.items():
        text = text.replace(glued, fixed)
    source_words = set(re.findall(r"[a-z0-9]+", text))
    for criterion in listed[code]["criteria"]:
        invented = [w for w in re.findall(r"[a-z0-9]+", criterion["text"].lower()) if w not in source_words]
        assert not invented, f"{code} {criterion['ref']}: {invented}"


def test_every_knowledge_criterion_has_two_questions_and_f6_item_2_every_aspect(listed):
    for unit in listed.values():
        for criterion in unit["criteria"]:
            if criterion["kind"] == "knowledge":
                assert criterion["questions"] >= 2, (unit["code"], criterion["ref"])
    f6 = load_banks([BANKS]).unit("edexcel-f6")
    item_2 = [q for s in f6.knowledge_sets for q in s.questions if "2" in q.criteria]
    aspects = ["health and safety", "data protection", "equal", "disab", "law"]
    # One question for each of the five aspects the source names.
    for aspect in aspects:
        assert sum(aspect in q.text.lower() for q in item_2) >= 1, aspect
    assert len(item_2) >= len(aspects)


def test_every_performance_and_range_criterion_is_asked_about_in_a_pd_case(listed):
    for unit in listed.values():
        for criterion in unit["criteria"]:
            if criterion["kind"] != "knowledge":
                assert criterion["pd_parts"] + criterion["questions"] >= 1, (unit["code"], criterion["ref"])


def test_the_same_knowledge_is_mapped_across_all_five_units(listed):
    mapped = {c["ref"]: c["mapped"] for c in listed["cg-310"]["criteria"]}
    assert sorted(mapped["310.4.1"]) == ["edexcel-f6:10", "ics-nos:K1", "nhs-cs:K1", "ocr-c3:4.1"]
    assert "cg-310:310.4.1" in {m for c in listed["nhs-cs"]["criteria"] for m in c["mapped"]}


# Broken banks: each problem is reported with its file and line.

MINIMAL = """\
unit:
  code: mini
  title: A small unit
  level: 2
  awarding_body: Test
  source: test.txt
  declaration: "It is my own work."
evidence_methods:
  allowed: [Q, PD]
criteria:
  - {ref: "K1", kind: knowledge, text: "know one thing"}
  - {ref: "P1", kind: performance, text: "do one thing"}
question_sets:
  - id: knowledge
    title: Knowledge
    questions:
      - {id: q1, criteria: ["K1"], text: "Question one?"}
      - {id: q2, criteria: ["K1"], text: "Question two?"}
pd_cases:
  - id: case
    case_type: A case
    parts:
      - {id: p1, prompt: "What happened?", criteria: ["P1"]}
"""


def problems(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(BanksInvalid) as raised:
        load_banks([tmp_path])
    return [str(problem) for problem in raised.value.problems]


def test_a_minimal_bank_loads(tmp_path):
    (tmp_path / "mini.yaml").write_text(MINIMAL)
    assert load_banks([tmp_path]).unit("mini").pd_case("case").parts[0].criteria == ["P1"]


@pytest.mark.parametrize(
    "change, line, message",
    [
        (('criteria: ["K1"], text: "Question two?"', 'criteria: ["K9"], text: "Question two?"'), 18,
         "question 'q2' names unknown criterion 'K9'"),
        (("{id: q2,", "{id: q1,"), 18, "duplicate question id 'q1'"),
        (('      - {id: q2, criteria: ["K1"], text: "Question two?"}\n', ""), 11,
         "knowledge criterion 'K1' has 1 question(s); it needs at least 2"),
        (("kind: performance", "kind: skill"), 12, "criteria.1.kind: Input should be 'performance', 'knowledge' or 'range'"),
        (("  title: A small unit\n", ""), 1, "unit.title: Field required"),
        (('criteria: ["P1"]}', 'criteria: ["P1"]\n'), 25, "bad YAML: expected ',' or '}'"),
        (("  level: 2\n", "  level: 2\n  level: 3\n"), 5, "duplicate key 'level'"),
        (('prompt: "What happened?", criteria: ["P1"]', 'prompt: "What happened?", criteria: ["X"]'), 23,
         "PD part case/p1 names unknown criterion 'X'"),
    ],
)
def test_broken_bank_files_are_reported_with_file_and_line(tmp_path, change, line, message):
    old, new = change
    assert old in MINIMAL
    found = problems(tmp_path, {"mini.yaml": MINIMAL.replace(old, new)})
    assert any(p.startswith(f"{tmp_path / 'mini.yaml'}:{line}: ") and message in p for p in found), found


def test_a_mapping_to_a_missing_criterion_is_reported_with_its_line(tmp_path):
    mapping = 'groups:\n  - id: g\n    summary: same\n    criteria:\n      - "mini:K1"\n      - "mini:K7"\n      - "nope:K1"\n'
    found = problems(tmp_path, {"mini.yaml": MINIMAL, "mapping.yaml": mapping})
    assert found == [
        f"{tmp_path / 'mapping.yaml'}:6: 'mini:K7': unit 'mini' has no criterion 'K7'",
        f"{tmp_path / 'mapping.yaml'}:7: 'nope:K1': no unit 'nope' (write unit:ref)",
    ]


def test_banks_check_prints_each_problem_and_exits_non_zero(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(MINIMAL.replace('criteria: ["K1"], text: "Question two?"', 'criteria: ["K9"], text: "Question two?"'))
    result = nvqbot("sqlite://", "banks", "check", str(broken))
    assert result.returncode == 1
    assert f"{broken}:18: question 'q2' names unknown criterion 'K9'" in result.stderr.splitlines()


def test_a_centre_adds_a_unit_by_dropping_a_file_in_the_banks_folder(tmp_path):
    shutil.copytree(BANKS, tmp_path / "banks")
    (tmp_path / "banks" / "mini.yaml").write_text(MINIMAL)
    result = nvqbot("sqlite://", "banks", "list", "--json", env={"NVQBOT_BANKS_DIR": str(tmp_path / "banks")})
    assert result.returncode == 0, result.stderr
    assert "mini" in [unit["code"] for unit in json.loads(result.stdout)]
