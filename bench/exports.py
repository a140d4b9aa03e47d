#!/usr/bin/env python
"""How fast evidence transcripts load from the database and render to HTML and to PDF.

Set-up (not timed): a SQLite file of its own, migrated by `open_database`, holding N candidates on
unit cg-310, each with --answers answers of 60-150 words (its knowledge questions, then the parts of
its professional discussion cases), played through the domain exactly as the bot does it:
`Assessment` (an invite redeemed), `Sittings` (each answer as a message and Done; a thin answer's
probe is answered; the second answer gets a voice note; PD cases started from the menu),
`Submissions.submit` (the declaration), and `Judging.judge` (the first answer met, the second not yet
with feedback). Playing a candidate takes about 0.1 s (some 45 transactions), so with --distinct D
(default 50) only D candidates are played and the other N - D are copies of them made by direct
inserts of the same storage rows (candidate, enrolment, question runs, answers with their frozen
`asked` copy, parts, attachments, criteria tags, submission, judgments, audit events), each copy
with its own ids, names and Telegram ids: the same queries load them, and what they hold has the
shape and size of played ones.

Timed, per transcript:

* HTML: `record_for` (the queries and the record, digest included) in a transaction of its own, then
  `render_html("transcript", record)`, in this process; the figures give load and render apart too.
  The same again over the pool below, for the rate with every core.
* PDF: the same load, then `render_pdf("transcript", record)`, in a pool of --workers processes
  (default: one per core), each with its own engine; the rate is transcripts over the wall-clock time.
  The CPU time each transcript took is given too: on a machine shared with other work the wall-clock
  rate falls, the CPU time does not.

    .venv/bin/python bench/exports.py                   # 1000 transcripts of 20 answers
    .venv/bin/python bench/exports.py --transcripts 50

The last line of output is one JSON object with the figures. Exits non-zero if a document did not
render (1) or the run did not finish within --timeout (2).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # runnable as `python bench/exports.py` from anywhere

from sqlalchemy import insert, select  # noqa: E402

from bot.bootstrap import open_database  # noqa: E402
from bot.documents import render_html, render_pdf  # noqa: E402
from bot.domain.assessment import Assessment  # noqa: E402
from bot.domain.banks import Banks  # noqa: E402
from bot.domain.evidence import record_for  # noqa: E402
from bot.domain.judging import Judging  # noqa: E402
from bot.domain.sittings import IncomingAttachment, IncomingMessage, Person, ProbeAsked, Sittings  # noqa: E402
from bot.domain.submissions import Submissions  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage import audit  # noqa: E402
from bot.storage.db import transaction  # noqa: E402
from bot.storage.models import (  # noqa: E402
    Answer,
    AnswerCriterion,
    AnswerPart,
    Attachment,
    AuditEvent,
    Candidate,
    Enrolment,
    Judgment,
    QuestionRun,
    Submission,
)
from bot.storage.repository import Repository  # noqa: E402

UNIT = "cg-310"
TIMEZONE = "Europe/London"
ASSESSOR = Person(9, 9, "Ann Assessor")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIRST_CANDIDATE = 100_000
SENTENCES = [
    "When a customer brings me a problem I listen to the whole story before I say anything.",
    "I apologise for the trouble and check that I have understood by repeating it back.",
    "Every complaint goes on the CRM system with the date, what went wrong and what we agreed.",
    "If it is within my authority I put it right there and then, for example a refund up to fifty pounds.",
    "Anything bigger goes to my team leader, and I tell the customer who will call them and when.",
    "Our complaints procedure says we must acknowledge a written complaint within two working days.",
    "Every Friday the team leader reviews the log to spot the same problem coming back.",
    "Last month three customers said their delivery slot was missed, so we raised it with the depot.",
    "I keep the customer informed by phone or email until the problem is closed, even if there is no news.",
    "Sorting a problem out well means the customer trusts us more than before it went wrong.",
    "Colleagues in the warehouse are my internal customers, and a quick handover helps them help me.",
    "When a customer is upset I stay calm, use their name and explain what I can do rather than what I cannot.",
    "We agreed an exception with the manager so the customer could swap the item after thirty days.",
    "I check with the customer afterwards that they are happy with what was done.",
    "The change to the booking form has cut repeat calls about missed appointments by half.",
    "I wrote up the steps I took in the case notes so that anyone picking it up knows where it stands.",
]
FEEDBACK = "Good example. Say who reviews the log & how often, and what happens when a repeat is found."


def words_of(rng: random.Random) -> str:
    """A realistic answer of 60-150 words."""
    target, words = rng.randint(60, 150), []
    while len(words) < target:
        words.extend(rng.choice(SENTENCES).split())
    return " ".join(words[:target]).rstrip(",") + "."


# --- set-up ----------------------------------------------------------------------------------------------


class Player:
    """One candidate answering through the domain, a transaction per step as the bot does."""

    def __init__(self, engine, banks: Banks, person: Person, rng: random.Random, clock: datetime):
        self.engine, self.banks, self.person, self.rng, self.clock = engine, banks, person, rng, clock
        self.message_id = 0

    def now(self) -> datetime:
        self.clock += timedelta(seconds=30)
        return self.clock

    def do(self, work, step: str, *args, person: Person | None = None):
        with transaction(self.engine) as session:
            return getattr(work(Repository(session), self.banks, now=self.now), step)(person or self.person, *args)

    def say(self, text: str | None = None, attachment: IncomingAttachment | None = None):
        self.message_id += 1
        message = IncomingMessage(text, self.person.chat_id, self.message_id, self.message_id, self.clock, attachment)
        return self.do(Sittings, "take_message", message)

    def answer(self, number: int) -> None:
        self.say(words_of(self.rng))
        if number == 2:  # a voice note
            self.say(attachment=IncomingAttachment("voice", f"file-{self.person.user_id}", f"uniq-{self.person.user_id}",
                                                   84_213, 47, "audio/ogg"))
        if isinstance(self.do(Sittings, "finish"), ProbeAsked):
            self.say(words_of(self.rng))
            while isinstance(self.do(Sittings, "finish"), ProbeAsked):
                pass


def play(engine, banks: Banks, index: int, answers: int, rng: random.Random) -> None:
    """Candidate `index`: enrolled, `answers` answers, submitted, two judged."""
    person = Person(FIRST_CANDIDATE + index, FIRST_CANDIDATE + index, f"Candidate {index:04d}")
    player = Player(engine, banks, person, rng, START + timedelta(minutes=index))
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        code = assessment.create_invite(UNIT, ASSESSOR.user_id, date(2026, 12, 12)).code
        enrolled = assessment.redeem_invite(person, code)
    enrolment_id = None
    cases = [case.id for case in banks.unit(UNIT).pd_cases]
    for number in range(answers):
        prompt = player.do(Sittings, "current")
        if not hasattr(prompt, "question"):  # the knowledge questions are done: the next PD case
            if not cases:
                break
            enrolment_id = enrolment_id or player.do(Submissions, "review").enrolment_id
            player.do(Sittings, "start_pd_case", enrolment_id, cases.pop(0))
        player.answer(number)
    review = player.do(Submissions, "review")
    player.do(Submissions, "submit", review.enrolment_id)
    first, second = review.items[0].answer_id, review.items[1].answer_id
    player.do(Judging, "judge", first, "met", person=ASSESSOR)
    player.do(Judging, "judge", second, "not_yet", FEEDBACK, person=ASSESSOR)
    del enrolled


def copy_candidates(engine, played: int, total: int) -> None:
    """Candidates played .. total - 1 as copies of the played ones: the same rows, new ids and names."""
    with transaction(engine) as session:
        conn = session.connection()
        rows = {
            model: [dict(row._mapping) for row in conn.execute(select(model.__table__))]
            for model in (Candidate, Enrolment, QuestionRun, Answer, AnswerPart, Attachment, AnswerCriterion,
                          Submission, Judgment)
        }
        rows[AuditEvent] = [dict(row._mapping) for row in conn.execute(select(AuditEvent.__table__))]
        events = []
        top = {model: max((r.get("id") or 0 for r in found), default=0) for model, found in rows.items()}
        by_candidate = {c["id"]: c for c in rows[Candidate]}
        enrolment_of = {e["candidate_id"]: e for e in rows[Enrolment]}
        batches: dict = {model: [] for model in rows}
        for index in range(played, total):
            source = rows[Candidate][index % played]
            offset = index // played
            shift = {model: offset * (top[model] + 1) for model in rows}

            def new(model, row, shift=shift, **changes):
                row = {**row, **changes}
                if "id" in row and row["id"] is not None:
                    row["id"] += shift[model]
                batches[model].append(row)
                return row

            candidate = new(Candidate, by_candidate[source["id"]], telegram_user_id=FIRST_CANDIDATE + index,
                            chat_id=FIRST_CANDIDATE + index, name=f"Candidate {index:04d}", active_run_id=None)
            enrolment = enrolment_of[source["id"]]
            new(Enrolment, enrolment, candidate_id=candidate["id"])
            runs = [r for r in rows[QuestionRun] if r["enrolment_id"] == enrolment["id"]]
            for run in runs:
                new(QuestionRun, run, enrolment_id=enrolment["id"] + shift[Enrolment])
            run_ids = {r["id"] for r in runs}
            answers = [a for a in rows[Answer] if a["run_id"] in run_ids]
            answer_ids = {a["id"] for a in answers}
            submissions = [s for s in rows[Submission] if s["enrolment_id"] == enrolment["id"]]
            for submission in submissions:
                new(Submission, submission, enrolment_id=enrolment["id"] + shift[Enrolment],
                    declared_by=candidate["name"], declared_by_telegram_id=candidate["telegram_user_id"])
            for answer in answers:
                new(Answer, answer, run_id=answer["run_id"] + shift[QuestionRun],
                    submission_id=answer["submission_id"] and answer["submission_id"] + shift[Submission])
            parts = [p for p in rows[AnswerPart] if p["answer_id"] in answer_ids]
            attachment_ids = {p["attachment_id"] for p in parts} | {
                j["feedback_attachment_id"] for j in rows[Judgment] if j["answer_id"] in answer_ids
            }
            for attachment in rows[Attachment]:
                if attachment["id"] in attachment_ids:
                    new(Attachment, attachment)
            for part in parts:
                new(AnswerPart, part, answer_id=part["answer_id"] + shift[Answer],
                    attachment_id=part["attachment_id"] and part["attachment_id"] + shift[Attachment],
                    chat_id=candidate["chat_id"], update_id=None)
            for link in rows[AnswerCriterion]:
                if link["answer_id"] in answer_ids:
                    new(AnswerCriterion, link, answer_id=link["answer_id"] + shift[Answer])
            for judgment in rows[Judgment]:
                if judgment["answer_id"] in answer_ids:
                    new(Judgment, judgment, answer_id=judgment["answer_id"] + shift[Answer],
                        feedback_attachment_id=judgment["feedback_attachment_id"]
                        and judgment["feedback_attachment_id"] + shift[Attachment])
            for event in rows[AuditEvent]:
                if event["enrolment_id"] == enrolment["id"]:
                    actor = event["actor"].replace(f"candidate:{source['id']}", f"candidate:{candidate['id']}")
                    events.append((actor, event["action"], enrolment["id"] + shift[Enrolment], event["details"],
                                   event["at"]))
        for model in (Candidate, Enrolment, QuestionRun, Submission, Answer, Attachment, AnswerPart, AnswerCriterion,
                      Judgment):
            for start in range(0, len(batches[model]), 5000):
                chunk = batches[model][start:start + 5000]
                if chunk:
                    conn.execute(insert(model.__table__), chunk)
        for event in events:  # the trail is one hash chain: each event is recorded as the domain records it
            audit.record(session, *event)


def build(url: str, banks: Banks, transcripts: int, answers: int, distinct: int, seed: int) -> list[int]:
    """The database, built; the candidates' Telegram ids."""
    engine = open_database(Settings(database_url=url, telegram_token=None, _env_file=None), banks)
    with transaction(engine) as session:
        Assessment(Repository(session), banks).add_assessor(ASSESSOR.user_id, ASSESSOR.name)
    rng = random.Random(seed)
    played = min(distinct, transcripts)
    for index in range(played):
        play(engine, banks, index, answers, rng)
    if transcripts > played:
        copy_candidates(engine, played, transcripts)
    engine.dispose()
    return [FIRST_CANDIDATE + index for index in range(transcripts)]


# --- timed -----------------------------------------------------------------------------------------------

_worker: dict = {}


def _start_worker(url: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    banks = Banks.load(ROOT / "question_banks")
    _worker.update(engine=open_database(Settings(database_url=url, telegram_token=None, _env_file=None), banks),
                   banks=banks)


def _html(candidate: int) -> int:
    """One transcript loaded and rendered to HTML, in a pool worker."""
    with transaction(_worker["engine"]) as session:
        record = record_for(session, _worker["banks"], candidate, UNIT, TIMEZONE)
    return len(render_html("transcript", record))


def _pdf(candidate: int) -> tuple[float, float, float]:
    """(load s, render s, CPU s) of one transcript PDF, in a pool worker."""
    cpu = time.process_time()
    started = time.perf_counter()
    with transaction(_worker["engine"]) as session:
        record = record_for(session, _worker["banks"], candidate, UNIT, TIMEZONE)
    loaded = time.perf_counter()
    pdf = render_pdf("transcript", record)
    if not pdf.startswith(b"%PDF"):
        raise RuntimeError(f"the PDF of candidate {candidate} did not render")
    return loaded - started, time.perf_counter() - loaded, time.process_time() - cpu


def time_html(url: str, banks: Banks, candidates: list[int]) -> tuple[float, float]:
    engine = open_database(Settings(database_url=url, telegram_token=None, _env_file=None), banks)
    load_s = render_s = 0.0
    for candidate in candidates:
        started = time.perf_counter()
        with transaction(engine) as session:
            record = record_for(session, banks, candidate, UNIT, TIMEZONE)
        loaded = time.perf_counter()
        html = render_html("transcript", record)
        render_s += time.perf_counter() - loaded
        load_s += loaded - started
        if not html.rstrip().endswith("</html>") or f"Candidate {candidate - FIRST_CANDIDATE:04d}" not in html:
            raise RuntimeError(f"the HTML of candidate {candidate} did not render")
    engine.dispose()
    return load_s, render_s


def time_pool(url: str, candidates: list[int], workers: int) -> tuple[float, tuple[float, float, float, float]]:
    """(HTML wall s, (PDF wall s, load s, render s, CPU s)), both over a pool of `workers` processes."""
    with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(url,)) as pool:
        list(pool.map(_pdf, candidates[:workers]))  # each worker warmed up: fonts, templates, engine
        started = time.perf_counter()
        list(pool.map(_html, candidates, chunksize=16))
        html_wall = time.perf_counter() - started
        started = time.perf_counter()
        results = list(pool.map(_pdf, candidates, chunksize=4))
        wall = time.perf_counter() - started
    return html_wall, (wall, sum(r[0] for r in results), sum(r[1] for r in results), sum(r[2] for r in results))


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transcripts", type=positive, default=1000, help="transcripts to render (default 1000)")
    parser.add_argument("--answers", type=positive, default=20, help="answers in each transcript (default 20)")
    parser.add_argument("--distinct", type=positive, default=50,
                        help="candidates played through the domain; the rest are copies (default 50)")
    parser.add_argument("--workers", type=positive, default=os.cpu_count() or 1,
                        help="processes rendering PDFs (default: one per core)")
    parser.add_argument("--timeout", type=float, default=900.0, help="fail if the run takes longer (s, default 900)")
    parser.add_argument("--seed", type=int, default=310, help="random seed for the answers")
    return parser.parse_args(argv)


def _out_of_time(signum, frame):
    raise TimeoutError


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    banks = Banks.load(ROOT / "question_banks")
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        with tempfile.TemporaryDirectory(prefix="nvqbot-bench-exports-") as folder:
            url = f"sqlite:///{Path(folder) / 'exports.db'}"
            started = time.perf_counter()
            candidates = build(url, banks, args.transcripts, args.answers, args.distinct, args.seed)
            setup_s = time.perf_counter() - started
            print(f"set-up: {len(candidates)} candidates ({min(args.distinct, len(candidates))} played) "
                  f"in {setup_s:.1f} s", flush=True)
            load_s, html_s = time_html(url, banks, candidates)
            html_pool_wall, (pdf_wall, pdf_load_s, pdf_render_s, pdf_cpu_s) = time_pool(url, candidates, args.workers)
    except TimeoutError:
        print(f"bench: FAILED: the run did not finish within {args.timeout:.0f} s (--timeout)", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"bench: FAILED: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    done = len(candidates)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    figures = {
        "transcripts": done,
        "answers": args.answers,
        "workers": args.workers,
        "setup_s": round(setup_s, 1),
        "html_per_s": round(done / (load_s + html_s), 1),
        "html_load_ms_mean": round(1000 * load_s / done, 2),
        "html_render_ms_mean": round(1000 * html_s / done, 2),
        "html_render_only_per_s": round(done / html_s, 1),
        "html_pool_per_s": round(done / html_pool_wall, 1),
        "pdf_per_s": round(done / pdf_wall, 2),
        "pdf_load_ms_mean": round(1000 * pdf_load_s / done, 2),
        "pdf_render_ms_mean": round(1000 * pdf_render_s / done, 1),
        "pdf_cpu_ms_mean": round(1000 * pdf_cpu_s / done, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    print(f"HTML (load + render, 1 process): {figures['html_per_s']} transcripts/s; mean load "
          f"{figures['html_load_ms_mean']} ms, render {figures['html_render_ms_mean']} ms")
    print(f"HTML (load + render, {args.workers} processes): {figures['html_pool_per_s']} transcripts/s")
    print(f"PDF (load + render, {args.workers} processes): {figures['pdf_per_s']} transcripts/s; mean load "
          f"{figures['pdf_load_ms_mean']} ms, render {figures['pdf_render_ms_mean']} ms per process; "
          f"{figures['pdf_cpu_ms_mean']} ms of CPU each (the rate on idle cores is about workers / CPU time)")
    print(f"peak RSS (this process): {figures['peak_rss_mb']} MB")
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
