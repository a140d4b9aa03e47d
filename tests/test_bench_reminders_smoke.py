"""bench/reminders.py runs end to end on a few hundred enrolments and ends with its JSON figures."""

import json
import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT


@pytest.mark.slow
def test_the_reminders_benchmark_runs_on_300_enrolments():
    run = subprocess.run(
        [sys.executable, "bench/reminders.py", "--enrolments", "300", "--dispatch", "40", "--database", "sqlite",
         "--timeout", "120"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["enrolments"] == 300
    sqlite = figures["sqlite"]
    assert sqlite["find_due_s"] > 0
    assert sqlite["dispatch_rate_per_s"] > 0
    assert sqlite["dispatched"] == 40
    assert sqlite["http_429"] == 0
    assert sqlite["max_per_second_window"] <= 30
