"""bench/answers.py runs end to end on a handful of candidates and ends with its JSON figures."""

import json
import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT

FIGURES = [
    "full_stack_answers_per_s",
    "full_stack_updates_per_s",
    "p50_ms",
    "p99_ms",
    "bare_ptb_updates_per_s",
    "bare_p50_ms",
    "bare_p99_ms",
    "ratio",
]


@pytest.mark.slow
def test_the_answers_benchmark_runs_on_five_candidates():
    run = subprocess.run(
        [sys.executable, "bench/answers.py", "--candidates", "5", "--database", "sqlite", "--timeout", "60"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["candidates"] == 5
    assert figures["questions"] > 0
    assert set(figures) == {"candidates", "questions", "sqlite"}
    for name in FIGURES:
        value = figures["sqlite"][name]
        assert isinstance(value, (int, float)) and value > 0, (name, value)
