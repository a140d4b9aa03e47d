#!/usr/bin/env python
"""Throughput and latency of answering questions through the whole stack, against bare python-telegram-bot.

N simulated candidates each answer the full knowledge set of unit cg-310: for every question they send
their answer as a text message, wait for the bot's "Got it", press its "done" button and wait for the
next question (pressing "done" again if the bot asks a follow-up). They act concurrently, each one
sequentially, through the loopback Bot API emulator.

Layout (chosen for honest numbers): the emulator and the simulated candidates share one asyncio loop
in this process, and the bot under test runs in a separate child process (this script, re-run with
--serve), so it gets its own interpreter and GIL as it would in production instead of competing with
the emulator for one core. Both bots are measured this way:

* full stack: the real nvqbot (`bot.telegram.app.serve`: PTB's HTTP client, the durable pipeline,
  the handlers, the database) on SQLite and/or PostgreSQL;
* bare PTB: a plain `telegram.ext.Application` polling with its own Updater, echoing every text
  message, driven by the same candidates with the same number of messages (all text).

Latency is taken on the emulator side: from the moment a getUpdates answer handed out a chat's update
to the moment the bot's sendMessage for that chat arrived. With every candidate waiting on the bot at
once, it is dominated by queueing (Little's law: about concurrency / throughput); use --concurrency to
see the per-update service time.

    .venv/bin/python bench/answers.py                     # 1000 candidates, SQLite
    .venv/bin/python bench/answers.py --database both --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The last line of output is one JSON object with the figures. Exits non-zero if the bot lost or
duplicated an answer (checked in the database), or if the run does not finish within --timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # runnable as `python bench/answers.py` from anywhere

from sqlalchemy import create_engine, text  # noqa: E402

from bot.devtools.emulator import BotApiEmulator  # noqa: E402

UNIT = "cg-310"
TOKEN = "123456:BENCH"
ASSESSOR_ID = 11
FIRST_USER_ID = 100_000
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PROBE_MARK = "Reply in as many messages as you like, then tap <b>Done</b>"  # in every probe (probe.html)
# Long enough, and naming enough of the questions' look-fors, that the bot does not ask a follow-up.
ANSWER = (
    "I follow the complaints procedure: I listen to the customer, record the complaint on the system "
    "with the date and what was agreed, tell my manager if it needs authority, and the team leader "
    "reviews the record each week so we can review the procedure, keep the customer informed and "
    "stop the same problem happening again."
)
CHILD_POLL_TIMEOUT = 10  # seconds a child's getUpdates long poll waits

_where: dict = {"phase": "starting", "tally": None}  # for the timeout message


class BenchFailure(Exception):
    """The benchmark could not produce honest figures; the message says why."""


def quiet_logging(log_file: Path | None = None) -> None:
    logging.basicConfig(
        level=logging.WARNING, filename=log_file, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for name in ("httpx", "httpcore", "aiohttp.access", "telegram", "apscheduler", "bot.devtools.emulator"):
        logging.getLogger(name).setLevel(logging.WARNING)


# ---- the emulator, instrumented --------------------------------------------------------------------


def _update_chat(update: dict) -> int | None:
    for key in ("message", "edited_message"):
        if key in update:
            return update[key]["chat"]["id"]
    if "callback_query" in update:
        return update["callback_query"]["from"]["id"]
    return None


class BenchEmulator(BotApiEmulator):
    """The emulator plus: per-chat reply queues for the candidates, and update→reply latencies.

    The candidates do not use wait_for_messages(): it rescans every sent message for every waiter on
    every send, which would make the driver, not the bot, the bottleneck at 1000 candidates.
    """

    def __init__(self) -> None:
        super().__init__()
        self.polled = asyncio.Event()
        self.replies: dict[int, asyncio.Queue] = {}
        self.handed_out_at: dict[int, float] = {}  # chat -> when its awaited update left in a getUpdates answer
        self.latencies_ms: list[float] = []

    def reply_queue(self, chat_id: int) -> asyncio.Queue:
        queue = self.replies.get(chat_id)
        if queue is None:
            queue = self.replies[chat_id] = asyncio.Queue()
        return queue

    async def _get_updates(self, params: dict) -> list[dict]:
        self.polled.set()
        updates = await super()._get_updates(params)
        now = time.perf_counter()
        for update in updates:
            chat = _update_chat(update)
            if chat is not None:
                self.handed_out_at.setdefault(chat, now)  # the first hand-out counts if one is repeated
        return updates

    async def _send_message(self, params: dict) -> dict:
        arrived = time.perf_counter()
        message = await super()._send_message(params)
        chat = message["chat"]["id"]
        handed_out = self.handed_out_at.pop(chat, None)
        if handed_out is not None:
            self.latencies_ms.append((arrived - handed_out) * 1000)
        self.reply_queue(chat).put_nowait(message)
        return message


# ---- the bot under test, in a child process --------------------------------------------------------


def _die_with_parent() -> None:
    """In the child (Linux): get SIGTERM if the benchmark dies, so no bot outlives it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Child:
    """One bot (kind "nvqbot" or "bare") in a child process, against the given emulator."""

    started: list[Child] = []  # every child ever started, so main() can make sure none is left behind

    def __init__(self, kind: str, emulator: BenchEmulator, database_url: str | None, workdir: Path, profile: Path | None):
        self.kind, self.emulator, self.database_url = kind, emulator, database_url
        self.label = "nvqbot" if kind == "nvqbot" else "bare PTB"
        self.log_path = workdir / f"{kind}.log"
        self.profile = profile
        self.process: subprocess.Popen | None = None
        self.stats_file: Path | None = None  # the nvqbot child writes its statement and commit counts here

    async def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve", self.kind,
                   "--api-url", self.emulator.base_url, "--file-url", self.emulator.base_file_url]
        if self.database_url:
            command += ["--database-url", self.database_url]
        if self.profile:
            command += ["--profile", str(self.profile)]
        if self.stats_file:
            command += ["--stats-file", str(self.stats_file)]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        Child.started.append(self)
        deadline = time.monotonic() + timeout
        while not self.emulator.polled.is_set():  # ready once it long-polls for updates
            if self.process.poll() is not None:
                raise BenchFailure(f"the {self.label} bot exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise BenchFailure(f"the {self.label} bot did not start polling within {timeout:.0f} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def stop(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                for _ in range(200):  # the emulator must keep serving meanwhile: no blocking wait()
                    if self.process.poll() is not None:
                        break
                    await asyncio.sleep(0.05)
        finally:  # also when cancelled (timeout) while waiting
            self.kill()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:]) or "(empty log)"
        except OSError:
            return "(no log)"


def serve_child(args: argparse.Namespace) -> None:
    """Entry point of the child process: run one bot until SIGTERM."""
    quiet_logging()
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    async def main() -> None:
        task = asyncio.ensure_future(_nvqbot(args) if args.serve == "nvqbot" else _bare_ptb(args))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)


async def _nvqbot(args: argparse.Namespace) -> None:
    from bot.bootstrap import open_database
    from bot.domain.banks import load_banks
    from bot.settings import Settings
    from bot.telegram.app import serve

    settings = Settings(
        telegram_token=TOKEN,
        telegram_api_url=args.api_url,
        telegram_file_url=args.file_url,
        database_url=args.database_url,
        poll_timeout=CHILD_POLL_TIMEOUT,
        messages_per_minute=1_000_000,  # scripted candidates answer far faster than the flood limit lets a person
        _env_file=None,
    )
    banks = load_banks([settings.banks_dir])
    engine = open_database(settings, banks)
    counts = _count_database_work(engine)
    try:
        await serve(settings, engine, banks)
    finally:
        engine.dispose()
        if args.stats_file:
            Path(args.stats_file).write_text(json.dumps(counts))


def _count_database_work(engine) -> dict:
    """Count the SQL statements (an executemany counts once) and the commits the bot makes, from now on."""
    from sqlalchemy import event

    counts = {"statements": 0, "commits": 0}

    def statement(*_args) -> None:
        counts["statements"] += 1

    def commit(*_args) -> None:
        counts["commits"] += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    return counts


async def _bare_ptb(args: argparse.Namespace) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    application = ApplicationBuilder().token(TOKEN).base_url(args.api_url).base_file_url(args.file_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with application:
        await application.updater.start_polling(poll_interval=0.0, timeout=timedelta(seconds=CHILD_POLL_TIMEOUT))
        await application.start()
        try:
            await asyncio.Event().wait()
        finally:
            await application.updater.stop()
            await application.stop()


# ---- the candidates --------------------------------------------------------------------------------


@dataclass
class Tally:
    updates: int = 0  # updates the candidates caused (messages + button presses)
    answers: int = 0  # questions answered completely (message + done)
    probes: int = 0  # follow-ups asked (answered by pressing done again)
    unexpected: list[str] = field(default_factory=list)


def _has_done(message: dict) -> bool:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return any(button.get("callback_data") == "done" for row in keyboard for button in row)


async def _act(emulator: BenchEmulator, user_id: int, action, tally: Tally) -> dict:
    """Send one update and wait for the bot's reply to it."""
    queue = emulator.reply_queue(user_id)
    if not queue.empty():
        tally.unexpected.append(f"chat {user_id}: an extra message {queue.get_nowait().get('text', '')[:80]!r}")
    await action
    tally.updates += 1
    return await queue.get()


async def nvqbot_candidate(emulator: BenchEmulator, user_id: int, questions: int, tally: Tally) -> None:
    for number in range(1, questions + 1):
        reply = await _act(emulator, user_id, emulator.post_message(user_id, f"Answer {number}. {ANSWER}"), tally)
        if not _has_done(reply):
            raise BenchFailure(f"chat {user_id}, question {number}: no done button on {reply.get('text', '')[:200]!r}")
        while True:
            after_done = await _act(emulator, user_id, emulator.press_button(user_id, reply["message_id"], "done"), tally)
            if PROBE_MARK not in after_done.get("text", ""):
                break
            tally.probes += 1
            if _has_done(after_done):
                reply = after_done
        tally.answers += 1


async def echo_candidate(emulator: BenchEmulator, user_id: int, messages: int, tally: Tally) -> None:
    for number in range(1, messages + 1):
        sent = f"Message {number}. {ANSWER}"
        reply = await _act(emulator, user_id, emulator.post_message(user_id, sent), tally)
        if reply.get("text") != sent:
            raise BenchFailure(f"chat {user_id}: the echo was {reply.get('text', '')[:80]!r}")


@dataclass
class Figures:
    wall_s: float
    updates: int
    answers: int
    probes: int
    latencies_ms: list[float]
    driver_cpu: float  # share of one core this process (emulator + candidates) used
    database_work: dict | None = None  # the bot's SQL statements and commits over the run (full stack only)

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.wall_s

    @property
    def answers_per_s(self) -> float:
        return self.answers / self.wall_s

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


async def drive(child: Child, emulator: BenchEmulator, candidates: int, concurrency: int, script, per_candidate: int) -> Figures:
    """Run every candidate's script against a started bot; the figures of the run."""
    tally = Tally()
    slots = asyncio.Semaphore(concurrency)

    async def one(user_id: int) -> None:
        async with slots:
            await script(emulator, user_id, per_candidate, tally)

    emulator.latencies_ms.clear()
    _where["tally"] = tally
    cpu0, wall0 = time.process_time(), time.perf_counter()
    tasks = [asyncio.create_task(one(FIRST_USER_ID + n)) for n in range(candidates)]
    all_done = asyncio.gather(*tasks)
    progress = asyncio.create_task(_watch(child, tally, tasks))
    try:
        await asyncio.wait({all_done, progress}, return_when=asyncio.FIRST_COMPLETED)
        if progress.done():
            progress.result()  # the bot died: BenchFailure
        all_done.result()  # a candidate's failure, if any
    finally:
        progress.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(all_done, progress, return_exceptions=True)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if tally.unexpected:
        raise BenchFailure(f"{len(tally.unexpected)} unexpected bot message(s), e.g. " + "; ".join(tally.unexpected[:3]))
    return Figures(wall, tally.updates, tally.answers, tally.probes, list(emulator.latencies_ms), cpu / wall)


async def _watch(child: Child, tally: Tally, tasks: list[asyncio.Task]) -> None:
    """Fail fast if the bot dies; say how far the run got every 10 s."""
    started, last_report = time.monotonic(), time.monotonic()
    while True:
        await asyncio.sleep(0.2)
        if not child.alive():
            raise BenchFailure(f"the {child.label} bot exited during the run:\n{child.log_tail()}")
        if time.monotonic() - last_report >= 10:
            last_report = time.monotonic()
            done = sum(task.done() for task in tasks)
            print(f"  ... {time.monotonic() - started:.0f} s: {tally.updates} updates, {tally.answers} answers, "
                  f"{done}/{len(tasks)} candidates finished", flush=True)


# ---- databases -------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fresh_database(kind: str, postgres_url: str, workdir: Path):
    """A URL for an empty database: a SQLite file, or a PostgreSQL schema of its own (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'nvqbot-bench.db'}"
        return
    schema = f"bench_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in postgres_url else "?"
        try:
            yield f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def enrol(database_url: str, candidates: int) -> int:
    """Migrate, add an assessor and enrol every candidate on the unit; the number of knowledge questions."""
    from bot.bootstrap import open_database
    from bot.domain.assessment import Assessment, Enrolled
    from bot.domain.banks import load_banks
    from bot.domain.sittings import Person
    from bot.settings import Settings
    from bot.storage.db import transaction
    from bot.storage.repository import Repository

    settings = Settings(database_url=database_url, telegram_token=None, _env_file=None)
    banks = load_banks([settings.banks_dir])
    questions = sum(len(question_set.questions) for question_set in banks.unit(UNIT).knowledge_sets)
    engine = open_database(settings, banks)
    try:
        with transaction(engine) as session:
            assessment = Assessment(Repository(session), banks)
            assessment.add_assessor(ASSESSOR_ID, "Bench Assessor")
            deadline = date.today() + timedelta(days=90)
            for n in range(candidates):
                user_id = FIRST_USER_ID + n
                code = assessment.create_invite(UNIT, ASSESSOR_ID, deadline).code
                enrolled = assessment.redeem_invite(Person(user_id=user_id, chat_id=user_id, name=f"Candidate {n}"), code)
                if not isinstance(enrolled, Enrolled):
                    raise BenchFailure(f"could not enrol candidate {user_id}: {enrolled}")
    finally:
        engine.dispose()
    return questions


def check_answers(database_url: str, candidates: int, questions: int) -> None:
    """Every candidate has exactly `questions` complete answers in the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT c.telegram_user_id, count(*) FROM answer a"
                    " JOIN questionrun r ON a.run_id = r.id"
                    " JOIN enrolment e ON r.enrolment_id = e.id"
                    " JOIN candidate c ON e.candidate_id = c.id"
                    " WHERE a.status = 'complete' GROUP BY c.telegram_user_id"
                )
            ).all()
    finally:
        engine.dispose()
    counts = {int(user_id): n for user_id, n in rows}
    wrong = {
        user_id: counts.get(user_id, 0)
        for user_id in range(FIRST_USER_ID, FIRST_USER_ID + candidates)
        if counts.get(user_id, 0) != questions
    }
    strangers = set(counts) - set(range(FIRST_USER_ID, FIRST_USER_ID + candidates))
    if wrong or strangers:
        sample = ", ".join(f"{user_id}: {n}" for user_id, n in list(wrong.items())[:5])
        raise BenchFailure(
            f"{len(wrong)} candidate(s) do not have exactly {questions} complete answers ({sample})"
            + (f"; answers from unknown candidates {sorted(strangers)[:5]}" if strangers else "")
        )


# ---- the runs --------------------------------------------------------------------------------------


async def run_full_stack(kind: str, args: argparse.Namespace, workdir: Path) -> tuple[Figures, int]:
    async with fresh_database(kind, args.postgres_url, workdir) as database_url:
        enrol_started = time.perf_counter()
        questions = enrol(database_url, args.candidates)
        print(f"[{kind}] enrolled {args.candidates} candidates in {time.perf_counter() - enrol_started:.1f} s "
              f"({questions} questions each)", flush=True)
        emulator = BenchEmulator()
        await emulator.start()
        child = Child("nvqbot", emulator, database_url, workdir, _profile_path(args, f"nvqbot-{kind}"))
        child.stats_file = workdir / f"nvqbot-{kind}-counts.json"
        try:
            await child.start()
            figures = await drive(child, emulator, args.candidates, args.concurrency, nvqbot_candidate, questions)
        finally:
            await shut_down(child, emulator)
        figures.database_work = _read_counts(child.stats_file)
        if figures.answers != args.candidates * questions:
            raise BenchFailure(f"[{kind}] {figures.answers} questions answered, expected {args.candidates * questions}")
        check_answers(database_url, args.candidates, questions)
    return figures, questions


async def run_bare_ptb(args: argparse.Namespace, questions: int, workdir: Path) -> Figures:
    emulator = BenchEmulator()
    await emulator.start()
    child = Child("bare", emulator, None, workdir, _profile_path(args, "bare-ptb"))
    try:
        await child.start()
        return await drive(child, emulator, args.candidates, args.concurrency, echo_candidate, 2 * questions)
    finally:
        await shut_down(child, emulator)


async def shut_down(child: Child, emulator: BenchEmulator) -> None:
    """Stop the bot, then its emulator. A bot stopped mid-request (a timeout or failure) makes aiohttp
    log a lost connection: not news, so it is muted meanwhile."""
    server_log = logging.getLogger("aiohttp.server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    try:
        await child.stop()
        await emulator.stop()
    finally:
        server_log.setLevel(level)


def _read_counts(path: Path) -> dict | None:
    """What the bot child counted (written as it stops; includes start-up and any reminder sweep)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _profile_path(args: argparse.Namespace, name: str) -> Path | None:
    if not args.profile_dir:
        return None
    args.profile_dir.mkdir(parents=True, exist_ok=True)
    return args.profile_dir.resolve() / f"{name}.prof"


def _describe(label: str, figures: Figures) -> str:
    return (
        f"  {label}: {figures.updates} updates in {figures.wall_s:.2f} s = {figures.updates_per_s:.1f} updates/s"
        + (f", {figures.answers_per_s:.1f} answers/s" if figures.answers else "")
        + f"; update->reply p50 {figures.percentile(0.5):.1f} ms"
        f", p99 {figures.percentile(0.99):.1f} ms ({len(figures.latencies_ms)} samples)"
        f"; driver process used {figures.driver_cpu:.0%} of a core"
    )


async def bench(args: argparse.Namespace, databases: list[str]) -> dict:
    questions = knowledge_questions()
    result: dict = {"candidates": args.candidates, "questions": questions}
    with tempfile.TemporaryDirectory(prefix="nvqbot-bench-") as tmp:
        workdir = Path(tmp)
        print(f"bare PTB: {args.candidates} candidates x {2 * questions} text messages, echoed", flush=True)
        _where.update(phase="bare PTB", tally=None)
        bare = await run_bare_ptb(args, questions, workdir)
        print(_describe("bare PTB", bare), flush=True)
        for kind in databases:
            print(f"full stack on {kind}: {args.candidates} candidates x {questions} questions "
                  f"(concurrency {args.concurrency})", flush=True)
            _where.update(phase=f"full stack on {kind}", tally=None)
            full, _ = await run_full_stack(kind, args, workdir)
            print(_describe(f"full stack ({kind})", full), flush=True)
            if full.probes:
                print(f"  note: the bot asked {full.probes} follow-up(s); each was answered by pressing done again")
            ratio = full.updates_per_s / bare.updates_per_s
            work = full.database_work or {}
            per_update = {name: round(n / full.updates, 2) for name, n in work.items()} if full.updates else {}
            if per_update:
                print(f"  database work per update: {per_update.get('statements')} SQL statements, "
                      f"{per_update.get('commits')} commits (start-up and reminder sweeps included)", flush=True)
            print(f"  ratio full stack / bare PTB (updates/s): {ratio:.3f}; all {args.candidates * questions} "
                  f"answers stored complete exactly once per question", flush=True)
            result[kind] = {
                "full_stack_answers_per_s": round(full.answers_per_s, 2),
                "full_stack_updates_per_s": round(full.updates_per_s, 2),
                "p50_ms": round(full.percentile(0.5), 2),
                "p99_ms": round(full.percentile(0.99), 2),
                "bare_ptb_updates_per_s": round(bare.updates_per_s, 2),
                "bare_p50_ms": round(bare.percentile(0.5), 2),
                "bare_p99_ms": round(bare.percentile(0.99), 2),
                "ratio": round(ratio, 4),
                "statements_per_update": per_update.get("statements"),
                "commits_per_update": per_update.get("commits"),
            }
    return result


def knowledge_questions() -> int:
    from bot.domain.banks import load_banks
    from bot.settings import Settings

    banks = load_banks([Settings(_env_file=None).banks_dir])
    return sum(len(question_set.questions) for question_set in banks.unit(UNIT).knowledge_sets)


async def bench_with_timeout(args: argparse.Namespace, databases: list[str]) -> dict:
    async with asyncio.timeout(args.timeout):
        return await bench(args, databases)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=1000, help="simulated candidates (default 1000)")
    parser.add_argument("--concurrency", type=int, default=0, help="candidates acting at once (default: all)")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default=None,
                        help="default: both if a PostgreSQL URL is given (--postgres-url or NVQBOT_TEST_POSTGRES_URL), else sqlite")
    parser.add_argument("--postgres-url", default=None, help=f"default: $NVQBOT_TEST_POSTGRES_URL or {DEFAULT_POSTGRES_URL}")
    parser.add_argument("--timeout", type=float, default=600.0, help="fail if the whole run takes longer (s, default 600)")
    parser.add_argument("--profile-dir", type=Path, default=None, help="cProfile each bot child into this folder")
    # The child process (internal).
    parser.add_argument("--serve", choices=["nvqbot", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--file-url", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    parser.add_argument("--stats-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return args
    if args.candidates < 1:
        parser.error("--candidates must be at least 1")
    if args.concurrency <= 0:
        args.concurrency = args.candidates
    given_url = args.postgres_url or os.environ.get("NVQBOT_TEST_POSTGRES_URL")
    if args.database is None:
        args.database = "both" if given_url else "sqlite"
    args.postgres_url = given_url or DEFAULT_POSTGRES_URL
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve:
        serve_child(args)
        return 0
    quiet_logging()
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    try:
        try:
            result = asyncio.run(bench_with_timeout(args, databases))
        finally:
            for child in Child.started:  # normally stopped already; never leave a bot running
                child.kill()
    except TimeoutError:
        tally = _where["tally"]
        progress = f": {tally.updates} updates, {tally.answers} answers so far" if tally else ""
        print(f"bench: FAILED: the run did not finish within {args.timeout:.0f} s (--timeout), "
              f"during {_where['phase']}{progress}", file=sys.stderr)
        return 2
    except BenchFailure as failure:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
