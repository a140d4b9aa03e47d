"""bench/exports.py builds a small database through the domain, loads and renders from it, and ends with its figures."""

import json
import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT

FIGURES = {
    "transcripts", "answers", "workers", "setup_s", "html_per_s", "html_load_ms_mean", "html_render_ms_mean",
    "html_render_only_per_s", "html_pool_per_s", "pdf_per_s", "pdf_load_ms_mean", "pdf_render_ms_mean", "pdf_cpu_ms_mean", "peak_rss_mb",
}


@pytest.mark.slow
def test_the_exports_benchmark_runs_on_four_transcripts():
    run = subprocess.run(
        [sys.executable, "bench/exports.py", "--transcripts", "4", "--distinct", "2", "--workers", "2",
         "--timeout", "120"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=150, check=False,
    )
    assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
    assert run.stderr == ""
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(figures) == FIGURES
    assert (figures["transcripts"], figures["answers"], figures["workers"]) == (4, 20, 2)
    for name in FIGURES - {"transcripts", "answers", "workers"}:
        assert isinstance(figures[name], int | float) and figures[name] > 0, (name, figures[name])
