#!/usr/bin/env python
"""How fast reminders are found among many enrolments, and how fast they go out within Telegram's limits.

For each database (SQLite file and/or a PostgreSQL schema of its own, dropped at the end):

1. set-up: migrate (`open_database`, which also loads the units), then bulk-insert one assessor, N
   candidates and N enrolments with SQLAlchemy core executemany: deadlines spread over the next 60
   days, time zones None / America/New_York / Asia/Kolkata, 5 % of candidates with reminders paused,
   10 % of enrolments submitted, created / last active over the past 10 days;
2. find_due: `bot.domain.reminders.find_due` in one transaction at a fixed moment, NOW (12:00 UTC on a
   summer Monday, so London, New York and Kolkata are all outside quiet hours: the most work), three
   times; the best and the median, and how many reminders were due;
3. dispatch: the real `ReminderSweep` (find, claim, render, queue in the outbox) and the real `OutboxSender`
   with `RateLimiter(30, 1.0)` through a real `telegram.Bot` to the loopback Bot API emulator, until the
   outbox is empty. The sweep is limited to M reminders by running
   it on a second, small database built by the same code, in which exactly M reminders are due (see
   `dispatch_rows`): the sweep itself is untouched, and sends everything it finds. A tenth of the
   enrolments there are candidates' second units, so some chats get two reminders and the per-chat
   limit comes into play.
   Figures come from the emulator's record of sendMessage calls: the rate over the sends, the shortest
   interval between two sends to one chat, HTTP 429 answers (the emulator gives none unless told, so
   the rate is also checked: no 1-second window may hold more than 30 sendMessage calls).

    .venv/bin/python bench/reminders.py                     # 100,000 enrolments, SQLite
    .venv/bin/python bench/reminders.py --database both --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line of output is one JSON object with the figures. Exit status: 0; 1 if a check failed (a
429, more than 30 sends in a second, a reminder not sent exactly once; the JSON is still printed) or
the run could not be made; 2 if it did not finish within --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # runnable as `python bench/reminders.py` from anywhere

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from bot.bootstrap import open_database  # noqa: E402
from bot.domain.banks import Banks, load_banks  # noqa: E402
from bot.domain.reminders import (  # noqa: E402
    ReminderRules,
    _candidate_reminders,
    _digests,
    _existing_keys,
    find_due,
)
from bot.settings import PROJECT_ROOT, Settings  # noqa: E402
from bot.storage.db import transaction  # noqa: E402
from bot.storage.models import Assessor, Candidate, Enrolment, OutboundMessage, Reminder  # noqa: E402

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOKEN = "123456:BENCH"
# Fixed, so every run does the same work: 12:00 UTC is 13:00 in London, 08:00 in New York (summer
# time; quiet hours end at 08:00) and 17:30 in Kolkata, so no candidate is inside quiet hours.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
RULES = ReminderRules()  # the defaults: 14/7/3/1 days before, idle after 5 days, quiet 21:00-08:00, London
LIMIT_PER_S = 30  # Telegram: about 30 messages a second overall ...
PER_CHAT_S = 1.0  # ... and one a second to any one chat
ZONES = (None, "America/New_York", "Asia/Kolkata")
ASSESSOR_USER_ID = 11
FIRST_USER_ID = 1_000_000
CHUNK = 10_000  # rows per executemany
FIND_DUE_RUNS = 3
FIND_DUE_TARGET_S = 1.0
RATE_TARGET = 0.9

_where = {"phase": "starting"}  # for the timeout message


class BenchFailure(Exception):
    """The benchmark could not produce honest figures; the message says why."""


class BenchTimeout(Exception):
    """--timeout passed."""


def quiet_logging() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "httpcore", "aiohttp.access", "telegram", "bot.devtools.emulator", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def say(line: str) -> None:
    print(line, flush=True)


# ---- the deadline ------------------------------------------------------------------------------------


def _on_alarm(_signum, _frame) -> None:
    raise BenchTimeout()


@contextlib.contextmanager
def no_alarm():
    """Clean-up (dropping a schema, stopping the emulator) is not cut short by the deadline: an alarm
    that falls meanwhile is delivered after it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})


# ---- databases ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_database(kind: str, postgres_url: str, workdir: Path, name: str):
    """A URL for an empty database: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / f'{name}.db'}"
        return
    schema = f"bench_{name}_{secrets.token_hex(5)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        except Exception as error:
            raise BenchFailure(f"cannot create a schema at {admin.url.render_as_string(hide_password=True)}: "
                               f"{str(getattr(error, 'orig', error)).strip().splitlines()[0]}") from error
        separator = "&" if "?" in postgres_url else "?"
        try:
            yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with no_alarm():
                try:
                    with admin.connect() as connection:
                        connection.execute(text("SET lock_timeout = '10s'"))
                        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                except Exception as error:  # say so, and let the run's own outcome stand
                    print(f"bench: could not drop schema {schema}: {error}", file=sys.stderr)
    finally:
        admin.dispose()


@contextlib.contextmanager
def opened(database_url: str, banks: Banks):
    engine = open_database(Settings(database_url=database_url, telegram_token=None, _env_file=None), banks)
    try:
        yield engine
    finally:
        with no_alarm():
            engine.dispose()


def realistic_rows(n: int, units: list[str], seed: int = 1) -> tuple[list[dict], list[dict]]:
    """N candidates with one enrolment each, a mix of deadlines, zones, pauses, statuses and activity."""
    rng = random.Random(seed)
    today = NOW.date()
    candidates, enrolments = [], []
    for i in range(n):
        created = NOW - timedelta(seconds=rng.uniform(0, 10 * 86400))
        candidates.append(_candidate(i, created, paused=rng.random() < 0.05, zone=ZONES[i % len(ZONES)]))
        last = None if rng.random() < 0.4 else created + (NOW - created) * rng.random()
        enrolments.append({
            "id": i + 1, "candidate_id": i + 1, "unit_code": units[i % len(units)], "assessor_id": 1,
            "deadline": today + timedelta(days=rng.randint(1, 60)),
            "status": "submitted" if rng.random() < 0.1 else "active",
            "created_at": created, "last_activity_at": last,
        })
    return candidates, enrolments


def dispatch_rows(m: int, units: list[str]) -> tuple[list[dict], list[dict]]:
    """M enrolments with exactly one reminder due each at NOW (half deadline nudges, half idle ones,
    never both, which would fold the idle one into the other unsent). A tenth of the enrolments are a
    second unit of candidates spread evenly over the rest, inserted after all the first ones (as a
    later enrolment would be): their chats get two reminders."""
    today = NOW.date()
    doubles = m // 10
    singles = m - doubles
    candidates = [_candidate(i, NOW - timedelta(days=9), paused=False, zone=ZONES[i % len(ZONES)])
                  for i in range(singles)]
    enrolments = []
    for j in range(m):
        first = j < singles
        candidate = j if first else (j - singles) * (singles // doubles)
        if j % 2 == 0:  # a deadline nudge: 1, 3, 7 or 14 days to go, answered yesterday
            deadline, last = today + timedelta(days=(1, 3, 7, 14)[(j // 2) % 4]), NOW - timedelta(days=1)
        else:  # an idle nudge: the deadline is far, nothing answered for 5 to 9 days
            deadline, last = today + timedelta(days=30 + j % 30), NOW - timedelta(days=5 + j % 5, hours=1)
        enrolments.append({
            "id": j + 1, "candidate_id": candidate + 1, "unit_code": units[0] if first else units[1], "assessor_id": 1,
            "deadline": deadline, "status": "active", "created_at": NOW - timedelta(days=9), "last_activity_at": last,
        })
    return candidates, enrolments


def _candidate(i: int, created: datetime, paused: bool, zone: str | None) -> dict:
    return {
        "id": i + 1, "telegram_user_id": FIRST_USER_ID + i, "chat_id": FIRST_USER_ID + i, "name": f"Candidate {i}",
        "created_at": created, "active_run_id": None, "reminders_paused": paused, "awaited_question_id": None,
        "timezone": zone, "unreachable_at": None,
    }


def bulk_load(engine, candidates: list[dict], enrolments: list[dict], assessor_chat_id: int | None) -> None:
    """One transaction of core executemany inserts; on PostgreSQL the id sequences are moved past the
    ids given, and the tables analysed (as autovacuum would soon do, so the planner knows their size)."""
    assessor = {"id": 1, "telegram_user_id": ASSESSOR_USER_ID, "name": "Bench Assessor",
                "created_at": NOW - timedelta(days=30), "role": "assessor", "chat_id": assessor_chat_id,
                "awaiting": None}
    with engine.begin() as connection:
        connection.execute(insert(Assessor), [assessor])
        for table, rows in ((Candidate, candidates), (Enrolment, enrolments)):
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(table), rows[start : start + CHUNK])
        if engine.dialect.name == "postgresql":
            for table in ("assessor", "candidate", "enrolment"):
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE assessor, candidate, enrolment, reminder"))


# ---- find_due -----------------------------------------------------------------------------------------


def time_find_due(engine) -> tuple[list[float], list]:
    runs, due = [], []
    for _ in range(FIND_DUE_RUNS):
        started = time.perf_counter()
        with transaction(engine) as session:
            due = find_due(session, RULES, NOW)
        runs.append(time.perf_counter() - started)
    return runs, due


def find_due_parts(engine) -> dict[str, float]:
    """One more run, split into find_due's steps (its private helpers, called in the same order)."""
    with transaction(engine) as session:
        t0 = time.perf_counter()
        wanted = _candidate_reminders(session, RULES, NOW)
        t1 = time.perf_counter()
        wanted += _digests(session, RULES, NOW)
        t2 = time.perf_counter()
        _existing_keys(session, [r.key for r in wanted])
        t3 = time.perf_counter()
    return {"candidate_reminders": t1 - t0, "digests": t2 - t1, "existing_keys": t3 - t2}


# ---- dispatch -----------------------------------------------------------------------------------------


async def run_sweep(engine, banks: Banks, deadline: float) -> tuple[object, list[dict], int, float]:
    """One real sweep against a fresh emulator; the SweepResult, the emulator's calls, the messages it
    holds, and the sweep's wall time."""
    from telegram import Bot

    from bot.devtools.emulator import EmulatorThread
    from bot.scheduling.reminders import ReminderSweep, person_unreachable
    from bot.storage.outbox import pending_count
    from bot.telegram.pacing import RateLimiter
    from bot.telegram.sender import OutboxSender

    emulator = EmulatorThread()  # its own thread and event loop, so its clock is not held up by the sweep
    emulator.start()
    try:
        async with asyncio.timeout(max(0.1, deadline - time.monotonic() - 1.0)):  # just before the alarm
            async with Bot(TOKEN, base_url=emulator.emulator.base_url) as bot:
                sender = OutboxSender(bot, engine, RateLimiter(LIMIT_PER_S, PER_CHAT_S), on_unreachable=person_unreachable)
                sweep = ReminderSweep(engine, banks, RULES, wake_sender=sender.wake, now=lambda: NOW)
                started = time.perf_counter()
                sending = asyncio.create_task(sender.run())
                result = await sweep.run()
                while True:
                    with transaction(engine) as session:
                        if pending_count(session) == 0:
                            break
                    await asyncio.sleep(0.05)
                wall = time.perf_counter() - started
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
        return result, emulator.calls, len(emulator.sent_messages()), wall
    except TimeoutError:
        raise BenchTimeout() from None
    finally:
        with no_alarm():
            emulator.stop()


def dispatch_figures(calls: list[dict]) -> dict:
    sends = [c for c in calls if c["method"].lower() == "sendmessage"]
    times = sorted(c["time"] for c in sends)
    ok_times = sorted(c["time"] for c in sends if c["error"] is None)
    http_429 = sum(1 for c in sends if (c["error"] or "").startswith("Too Many Requests"))
    # The rate over the sends: n messages go out in n - 1 intervals (n / span would flatter it).
    span = ok_times[-1] - ok_times[0] if len(ok_times) > 1 else 0.0
    rate = (len(ok_times) - 1) / span if span > 0 else None
    # The most sendMessage calls (answered or not: Telegram counts attempts) in any 1-second window.
    most, low = 0, 0
    for high, moment in enumerate(times):
        while times[low] <= moment - 1.0:
            low += 1
        most = max(most, high - low + 1)
    by_chat: dict[str, list[float]] = defaultdict(list)
    for call in sends:
        by_chat[str(call["params"].get("chat_id"))].append(call["time"])
    gaps = [b - a for moments in by_chat.values() for a, b in zip(sorted(moments), sorted(moments)[1:])]
    # Time lost between sends beyond the 1/30 s pacing (a send held back, e.g. waiting on its chat's
    # 1-second limit, holds back every send queued behind it), and how short 30 intervals got.
    slow = [b - a - 1 / LIMIT_PER_S for a, b in zip(ok_times, ok_times[1:]) if b - a > 1.5 / LIMIT_PER_S]
    tightest = min((b - a for a, b in zip(times, times[LIMIT_PER_S:])), default=None)
    return {
        "attempts": len(sends), "sent": len(ok_times), "span_s": span, "rate": rate, "http_429": http_429,
        "max_per_second_window": most, "per_chat_min_interval_s": min(gaps) if gaps else None,
        "chats_with_several": sum(1 for moments in by_chat.values() if len(moments) > 1), "slow_gaps": len(slow),
        "stalled_s": sum(slow), "tightest_30_intervals_s": tightest,
    }


# ---- one database -------------------------------------------------------------------------------------


def bench_database(
    kind: str, args: argparse.Namespace, banks: Banks, workdir: Path, deadline: float
) -> tuple[dict, list[str]]:
    units = sorted(banks.units)
    failures: list[str] = []
    figures: dict = {}

    _where["phase"] = f"{kind}: set-up"
    with fresh_database(kind, args.postgres_url, workdir, "main") as url:
        started = time.perf_counter()
        with opened(url, banks) as engine:
            migrated = time.perf_counter()
            candidates, enrolments = realistic_rows(args.enrolments, units)
            made = time.perf_counter()
            bulk_load(engine, candidates, enrolments, assessor_chat_id=ASSESSOR_USER_ID)
            setup = time.perf_counter() - started
            del candidates, enrolments
            say(f"[{kind}] set-up: {args.enrolments:,} candidates and enrolments in {setup:.2f} s "
                f"(migrate {migrated - started:.2f} s, make rows {made - migrated:.2f} s, "
                f"insert {time.perf_counter() - made:.2f} s)")

            _where["phase"] = f"{kind}: find_due"
            runs, due = time_find_due(engine)
            parts = find_due_parts(engine)
            best, median = min(runs), statistics.median(runs)
            kinds = Counter(r.kind for r in due)
            say(f"[{kind}] find_due at {NOW.isoformat()}: best {best:.3f} s, median {median:.3f} s "
                f"(runs {', '.join(f'{r:.3f}' for r in runs)}); {len(due):,} due "
                f"({', '.join(f'{k} {v:,}' for k, v in sorted(kinds.items()))})")
            say(f"[{kind}]   its steps: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in parts.items())
                + f"; target < {FIND_DUE_TARGET_S:.0f} s: {'met' if best < FIND_DUE_TARGET_S else 'MISSED'}")
            figures.update(setup_s=round(setup, 3), find_due_s=round(best, 4), find_due_median_s=round(median, 4),
                           due=len(due))

    # The dispatch: a second database, built the same way, where exactly M reminders are due.
    _where["phase"] = f"{kind}: dispatch"
    with fresh_database(kind, args.postgres_url, workdir, "dispatch") as url:
        with opened(url, banks) as engine:
            # No chat for the assessor here, so no digest: the M due reminders are all candidates'.
            bulk_load(engine, *dispatch_rows(args.dispatch, units), assessor_chat_id=None)
            say(f"[{kind}] dispatch: {args.dispatch} reminders due, sent by ReminderSweep with "
                f"RateLimiter({LIMIT_PER_S}, {PER_CHAT_S}) to the emulator on loopback ...")
            result, calls, delivered, wall = asyncio.run(run_sweep(engine, banks, deadline))
            with transaction(engine) as session:
                statuses = dict(session.execute(
                    select(OutboundMessage.status, func.count())
                    .join(Reminder, Reminder.outbound_id == OutboundMessage.id).group_by(OutboundMessage.status)
                ).all())
    sent = dispatch_figures(calls)
    rate = sent["rate"] or 0.0
    say(f"[{kind}]   found {result.found}, claimed {result.claimed}, queued {len(result.queued)}, all sent in {wall:.2f} s "
        f"(the sends spanned {sent['span_s']:.2f} s): {rate:.2f} msg/s = {rate / LIMIT_PER_S:.1%} of {LIMIT_PER_S}/s "
        f"(target >= {RATE_TARGET:.0%}: {'met' if rate >= RATE_TARGET * LIMIT_PER_S else 'MISSED'})")
    per_chat = sent["per_chat_min_interval_s"]
    say(f"[{kind}]   HTTP 429: {sent['http_429']}; most sendMessage calls in "
        f"one second: {sent['max_per_second_window']}; shortest interval to one chat: "
        + (f"{per_chat:.3f} s over {sent['chats_with_several']} chats with several"
           if per_chat is not None else "none (no chat had two)")
        + f"; {sent['slow_gaps']} gap(s) over 1.5/{LIMIT_PER_S} s between sends, {sent['stalled_s']:.2f} s lost in them"
        + (f"; {LIMIT_PER_S} intervals took as little as {sent['tightest_30_intervals_s']:.4f} s"
           if sent["tightest_30_intervals_s"] is not None else ""))

    if sent["http_429"]:
        failures.append(f"{kind}: {sent['http_429']} HTTP 429 answer(s)")
    if sent["max_per_second_window"] > LIMIT_PER_S:
        failures.append(f"{kind}: {sent['max_per_second_window']} sendMessage calls within one second "
                        f"(limit {LIMIT_PER_S})")
    expected = args.dispatch
    if not (result.found == result.claimed == len(result.queued) == len(set(result.queued)) == sent["sent"] == delivered
            == statuses.get("sent", 0) == expected) or set(statuses) != {"sent"}:
        failures.append(f"{kind}: expected {expected} reminders sent once each; found {result.found}, "
                        f"claimed {result.claimed}, "
                        f"sweep queued {len(result.queued)}, emulator got {delivered}, database statuses {statuses}")
    figures.update(
        dispatched=len(result.queued),
        dispatch_rate_per_s=round(rate, 3),
        limit_per_s=LIMIT_PER_S,
        rate_vs_limit=round(rate / LIMIT_PER_S, 4),
        http_429=sent["http_429"],
        max_per_second_window=sent["max_per_second_window"],
        per_chat_min_interval_s=round(per_chat, 4) if per_chat is not None else None,
    )
    return figures, failures


def bench(args: argparse.Namespace, databases: list[str], deadline: float) -> tuple[dict, list[str]]:
    banks = load_banks([PROJECT_ROOT / "question_banks"])
    if len(banks.units) < 2:
        raise BenchFailure("the question banks define fewer than two units")
    result: dict = {"enrolments": args.enrolments}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="nvqbot-bench-reminders-") as tmp:
        for kind in databases:
            result[kind], failed = bench_database(kind, args, banks, Path(tmp), deadline)
            failures += failed
    return result, failures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enrolments", type=int, default=100_000, help="candidates and enrolments (default 100,000)")
    parser.add_argument("--dispatch", type=int, default=600, help="reminders to send (default 600, about 20 s at 30/s)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--postgres-url", default=None,
                        help=f"default: $NVQBOT_TEST_POSTGRES_URL or {DEFAULT_POSTGRES_URL}")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="fail if the whole run takes longer (s, default 900)")
    args = parser.parse_args(argv)
    if args.enrolments < 1:
        parser.error("--enrolments must be at least 1")
    if args.dispatch < 2:
        parser.error("--dispatch must be at least 2 (a rate needs two sends)")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    args.postgres_url = args.postgres_url or os.environ.get("NVQBOT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logging()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    deadline = time.monotonic() + args.timeout
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        result, failures = bench(args, databases, deadline)
    except BenchTimeout:
        print(f"bench: FAILED: the run did not finish within {args.timeout:.0f} s (--timeout), "
              f"during {_where['phase']}", file=sys.stderr)
        return 2
    except BenchFailure as failure:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    for failure in failures:
        print(f"bench: CHECK FAILED: {failure}", file=sys.stderr)
    print(json.dumps(result), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
