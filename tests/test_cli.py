"""The command line as an assessor or an operator uses it."""

import re

from tests.botprocess import nvqbot


def test_run_without_a_token_says_so_in_one_line(database_url):
    result = nvqbot(database_url, "run", env={"NVQBOT_TELEGRAM_TOKEN": ""})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nvqbot: error: NVQBOT_TELEGRAM_TOKEN is not set: give the bot token from @BotFather (or try 'make demo')"
    ]


def test_an_unreachable_database_is_one_clear_line():
    result = nvqbot("postgresql+psycopg://nobody@127.0.0.1:1/none", "db", "upgrade")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nvqbot: error: cannot reach the database at postgresql")


def test_a_bad_setting_is_one_clear_line(database_url):
    result = nvqbot(database_url, "db", "upgrade", env={"NVQBOT_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "nvqbot: error: bad setting: NVQBOT_TIMEZONE: Value error, unknown time zone 'Mars/Olympus'"
        " (use an IANA name such as Europe/London)"
    ]


def test_invite_prints_a_one_use_code_and_the_deep_link(database_url):
    assert nvqbot(database_url, "assessor", "add", "--telegram-id", "11", "--name", "Ann").returncode == 0
    result = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "2099-12-12",
                    env={"NVQBOT_BOT_USERNAME": "nvq_test_bot"})
    assert result.returncode == 0, result.stderr
    code = re.search(r"Invite code: (\S+)", result.stdout).group(1)
    assert f"https://t.me/nvq_test_bot?start={code}" in result.stdout
    assert "12 Dec 2099" in result.stdout


def test_refusals_are_one_clear_line(database_url):
    bad_date = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "12/12/2099")
    assert bad_date.returncode == 1 and "not a date in the form YYYY-MM-DD" in bad_date.stderr
    no_assessor = nvqbot(database_url, "invite", "--unit", "cg-310", "--assessor", "11", "--deadline", "2099-12-12")
    assert no_assessor.returncode == 1 and "no assessor with Telegram id 11" in no_assessor.stderr
    no_candidate = nvqbot(database_url, "export", "--candidate", "5")
    assert no_candidate.returncode == 1 and no_candidate.stderr.strip() == "nvqbot: error: no candidate with Telegram id 5"
