"""The command line as an assessor or an operator uses it."""

import re
from datetime import date

from bot.domain.assessment import Assessment
from bot.domain.sittings import Person
from bot.storage.db import transaction
from bot.storage.repository import Repository
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


def test_a_candidates_time_zone_is_set_and_checked(database_url, engine, banks):
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        assessment.add_assessor(11, "Ann")
        assessment.redeem_invite(Person(501, 501, "Sam"), assessment.create_invite("cg-310", 11, date(2099, 1, 1)).code)
    assert "America/New_York" in nvqbot(database_url, "timezone", "--candidate", "501", "--zone", "America/New_York").stdout
    wrong = nvqbot(database_url, "timezone", "--candidate", "501", "--zone", "Mars/Base")
    assert wrong.returncode == 1 and "unknown time zone 'Mars/Base'" in wrong.stderr
    with transaction(engine) as session:
        assert Repository(session).candidate_by_telegram_id(501).timezone == "America/New_York"
