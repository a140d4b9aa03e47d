"""bench/probing.py runs over the shipped banks and the labelled answers and ends with its JSON figures."""

import json
import subprocess
import sys

from bot.settings import PROJECT_ROOT

KEYS = {"answers", "thin", "full", "thin_probed", "probe_precision", "full_left_alone", "full_probed", "by_kind",
        "misclassified"}


def test_the_probing_benchmark_runs_and_prints_its_figures():
    run = subprocess.run(
        [sys.executable, "bench/probing.py", "--quiet"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"rule", "units", "overall", "decision_us", "decision_us_cold", "missing_questions", "goals",
            "goals_met"} <= figures.keys()
    assert set(figures["units"]) == {"cg-310", "edexcel-f6"}
    for f in [figures["overall"], *figures["units"].values()]:
        assert KEYS <= f.keys()
        assert f["answers"] == f["thin"] + f["full"] > 0
        for share in ("thin_probed", "probe_precision", "full_left_alone", "full_probed"):
            assert f[share] is None or 0 <= f[share] <= 1
    assert figures["overall"]["answers"] + len(figures["missing_questions"]) >= 160
    assert figures["decision_us"] > 0
