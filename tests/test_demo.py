"""`make demo` as a newcomer meets it: the first question shows, and typed answers are taken."""

import subprocess
import sys

import pytest

from bot.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_demo_shows_the_first_question_and_takes_typed_answers(tmp_path):
    typed = (
        "We log every complaint on the CRM system and follow the complaints procedure, then tell the customer"
        " what happens next and when.\n:1\n:quit\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--database", str(tmp_path / "demo.db")],
        input=typed,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "Question 1 of 9 · 310.4.1" in result.stdout
    assert "Question 2 of 9 · 310.4.2" in result.stdout
    assert "Traceback" not in result.stderr
