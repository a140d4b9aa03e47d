"""Who is at risk (bot/domain/caseload.py `pace_of`), the one rule the console's cohort and the assessor's digest
show: inactive for the idle days, behind plan, or due within a week (or late) with criteria missing; never once
signed off."""

from datetime import UTC, date, datetime, timedelta

from bot.domain.caseload import CohortRow, pace_of
from bot.domain.reminders import ReminderRules
from bot.storage.models import Enrolment

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def row(met: int, deadline: date) -> CohortRow:
    return CohortRow(1, "Sam", "cg-310", deadline, met, 0, 28 - met, 28, 0, 1, "Ann", coverage=None)  # type: ignore[arg-type]


def enrolment(started_days_ago: int, active_days_ago: int, status: str = "active") -> Enrolment:
    return Enrolment(id=1, candidate_id=1, unit_code="cg-310", assessor_id=1, deadline=date(2027, 1, 1), status=status,
                     created_at=NOW - timedelta(days=started_days_ago), last_activity_at=NOW - timedelta(days=active_days_ago))


def test_inactive_behind_on_time_and_signed_off():
    halfway = NOW.date() + timedelta(days=30)  # 30 days in, 30 to go: half the time gone
    inactive = pace_of(row(20, halfway), enrolment(30, 6), NOW, NOW.date(), idle_days=5)
    assert inactive.inactive and inactive.inactive_days == 6 and not inactive.behind and inactive.at_risk
    behind = pace_of(row(10, halfway), enrolment(30, 1), NOW, NOW.date(), idle_days=5)
    assert behind.behind and not behind.inactive and behind.percent == 36
    assert not pace_of(row(14, halfway), enrolment(30, 1), NOW, NOW.date(), idle_days=5).at_risk
    assert not pace_of(row(0, halfway), enrolment(30, 60, "signed_off"), NOW, NOW.date(), idle_days=5).at_risk


def test_due_within_a_week_or_late_with_criteria_missing():
    started_long_ago = enrolment(300, 1)  # active yesterday; the time gone is nearly all of it
    soon = pace_of(row(27, NOW.date() + timedelta(days=7)), started_long_ago, NOW, NOW.date(), idle_days=5)
    assert soon.due_soon and soon.days_left == 7 and soon.at_risk
    late = pace_of(row(27, NOW.date() - timedelta(days=2)), started_long_ago, NOW, NOW.date(), idle_days=5)
    assert late.due_soon and late.days_left == -2
    assert not pace_of(row(27, NOW.date() + timedelta(days=8)), started_long_ago, NOW, NOW.date(), idle_days=5).due_soon
    assert not pace_of(row(28, NOW.date() + timedelta(days=1)), started_long_ago, NOW, NOW.date(), idle_days=5).at_risk  # all met


def test_days_left_count_from_the_centres_date_not_utcs():
    just_after_midnight_in_auckland = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)  # 00:30 on 4 Dec there
    local = ReminderRules(timezone="Pacific/Auckland").centre_date(just_after_midnight_in_auckland)
    pace = pace_of(row(27, date(2026, 12, 11)), enrolment(30, 1), just_after_midnight_in_auckland, local, idle_days=5)
    assert local == date(2026, 12, 4) and pace.days_left == 7 and pace.due_soon
