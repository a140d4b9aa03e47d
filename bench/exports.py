#!/usr/bin/env python
"""How fast the evidence transcript renders to HTML and to PDF.

Builds N synthetic evidence records in memory, in the shape `bot.domain.evidence.evidence_for` returns,
from the cg-310 question bank: each with --answers answers of 60-150 words (knowledge questions, then
professional discussion parts), a probe and follow-up, a voice note, two judgments, a declaration and a
few audit events. Each is rendered with `render_html("transcript", ...)` and `render_pdf("transcript", ...)`
(which renders the HTML again and lays it out with xhtml2pdf); only those calls are timed.

    .venv/bin/python bench/exports.py                   # 1000 transcripts of 20 answers
    .venv/bin/python bench/exports.py --transcripts 50

The last line of output is one JSON object with the figures. Exits non-zero if the run does not finish
within --timeout.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import signal
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # runnable as `python bench/exports.py` from anywhere

from bot.documents import render_html, render_pdf  # noqa: E402
from bot.domain.banks import Banks, Question, QuestionSet  # noqa: E402
from bot.domain.evidence import digest  # noqa: E402

UNIT = "cg-310"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
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


def slots(banks: Banks) -> list[tuple[str, str, QuestionSet, Question]]:
    """(evidence ref stem, method, set, question) for every question of the unit in the order it asks them."""
    bank = banks.unit(UNIT)
    knowledge = [(s, q) for s in bank.knowledge_sets for q in s.questions]
    found = [(f"Q{n}", "Q&A", s, q) for n, (s, q) in enumerate(knowledge, 1)]
    for case in bank.pd_cases:
        question_set = case.as_question_set()
        found.extend((f"PD-{case.id}-{n}", "PD", question_set, q) for n, q in enumerate(question_set.questions, 1))
    return found


def _part(seq: int, text: str | None, sent_at: str, chat_id: int, message_id: int, **changes) -> dict:
    part = {
        "seq": seq, "text": text, "in_follow_up": False, "sent_at": sent_at, "edited_at": None,
        "chat_id": chat_id, "message_id": message_id, "attachment": None,
    }
    return {**part, **changes}


def _judgment(outcome: str, feedback: str | None, at: str) -> dict:
    return {
        "outcome": outcome, "feedback": feedback, "feedback_attachment": None,
        "assessor": "Ann Assessor", "judged_at": at,
    }


def synthetic_evidence(banks: Banks, index: int, answers: int, rng: random.Random) -> dict:
    """One candidate's evidence, shaped as `evidence_for` returns it: every answer submitted, two judged."""
    bank = banks.unit(UNIT)
    texts = {c.ref: c.text for c in bank.criteria}
    when = START + timedelta(minutes=index)
    at, chat, name = when.isoformat(), 1000 + index, f"Candidate {index:04d}"
    all_slots = slots(banks)
    items = []
    for number in range(answers):
        stem, method, question_set, question = all_slots[number % len(all_slots)]
        version = number // len(all_slots) + 1
        parts = [_part(1, words_of(rng), at, chat, 3 * number + 1)]
        if number == 1:  # a thin answer: probed, with a follow-up
            parts.append(_part(2, words_of(rng), at, chat, 3 * number + 2, in_follow_up=True))
        if number == 2:  # a voice note
            voice = {
                "kind": "voice", "file_unique_id": f"AgAD{index:06d}", "file_size": 84_213, "duration": 47,
                "mime_type": "audio/ogg", "file_name": None, "sha256": f"{index:064x}",
            }
            parts.append(_part(2, None, at, chat, 3 * number + 2, attachment=voice))
        criteria = [{"unit": UNIT, "ref": ref, "text": texts[ref]} for ref in question.criteria]
        items.append(
            {
                "ref": f"{stem}.v{version}", "method": method,
                "question_set": question_set.id, "question_set_title": question_set.title,
                "question_id": question.id, "question": question.text, "look_fors": list(question.look_fors),
                "version": version, "current": True, "status": "complete",
                "answer": parts[0]["text"],
                "probe": question.probes[0] if number == 1 and question.probes else None,
                "probed_at": at if number == 1 else None,
                "follow_up": parts[1]["text"] if number == 1 else None,
                "parts": parts, "assessor_questions": [],
                "judgments": {0: [_judgment("met", None, at)], 1: [_judgment("not_yet", FEEDBACK, at)]}.get(number, []),
                "criteria": criteria,
                "mapped_criteria": [
                    {"unit": key.unit, "ref": key.ref, "text": banks.unit(key.unit).criterion(key.ref).text,
                     "via": f"{UNIT}:{c['ref']}"}
                    for c in criteria
                    for key in banks.equivalents(UNIT, c["ref"])
                ],
                "started_at": at, "completed_at": at, "submission_id": 1,
            }
        )
    judged = {a["ref"]: a["judgments"][-1]["outcome"] if a["judgments"] else None for a in items}
    tagging = {c.ref: [a for a in items if any(x["ref"] == c.ref for x in a["criteria"])] for c in bank.criteria}

    def status(ref: str) -> str:
        outcomes = [judged[a["ref"]] for a in tagging[ref]]
        return "met" if "met" in outcomes else "answered" if outcomes else "missing"

    evidence = {
        "candidate": {"name": name, "telegram_user_id": 100_000 + index},
        "unit": {
            "code": UNIT, "title": bank.unit.title, "level": bank.unit.level,
            "awarding_body": bank.unit.awarding_body, "source": bank.unit.source,
        },
        "assessor": {"name": "Ann Assessor"},
        "enrolment": {"deadline": date(2026, 12, 12).isoformat(), "status": "submitted"},
        "timezone": "Europe/London",
        "answers": items,
        "submissions": [
            {
                "id": 1, "declaration": bank.unit.declaration, "declared_by": name, "declared_at": at,
                "signed_off_at": None, "signed_off_by": None, "outcome": None,
            }
        ],
        "knowledge_record": [
            {
                "ref": c.ref, "text": c.text,
                "evidence": [
                    {"ref": a["ref"], "method": a["method"], "date": f"{when:%Y-%m-%d}", "judgment": judged[a["ref"]]}
                    for a in tagging[c.ref]
                ],
            }
            for c in bank.criteria
            if c.kind == "knowledge"
        ],
        "coverage": [
            {
                "ref": c.ref, "kind": c.kind, "text": c.text, "evidence": [a["ref"] for a in tagging[c.ref]],
                "mapped_evidence": [], "status": status(c.ref),
            }
            for c in bank.criteria
        ],
        "audit": [
            {
                "at": at, "actor": actor, "action": action, "details": details,
                "previous_hash": f"{index:032x}{n:032x}", "hash": f"{index:032x}{n + 1:032x}",
            }
            for n, (actor, action, details) in enumerate(
                [
                    (f"candidate:{index}", "submitted", {"submission_id": 1, "answers": list(range(1, answers + 1))}),
                    ("assessor:1", "judged", {"answer_id": 1, "outcome": "met"}),
                    ("assessor:1", "judged", {"answer_id": 2, "outcome": "not_yet"}),
                ]
            )
        ],
    }
    evidence["digest"] = digest(evidence)
    evidence["generated_at"] = at
    return evidence


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transcripts", type=positive, default=1000, help="transcripts to render (default 1000)")
    parser.add_argument("--answers", type=positive, default=20, help="answers in each transcript (default 20)")
    parser.add_argument("--timeout", type=float, default=900.0, help="fail if the run takes longer (s, default 900)")
    parser.add_argument("--seed", type=int, default=310, help="random seed for the synthetic answers")
    return parser.parse_args(argv)


def _out_of_time(signum, frame):
    raise TimeoutError


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)
    banks = Banks.load(ROOT / "question_banks")
    rng = random.Random(args.seed)
    html_s, pdf_s, done = 0.0, 0.0, 0
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.setitimer(signal.ITIMER_REAL, args.timeout)
    try:
        for index in range(args.transcripts):
            evidence = synthetic_evidence(banks, index, args.answers, rng)
            started = time.perf_counter()
            html = render_html("transcript", evidence)
            rendered = time.perf_counter()
            pdf = render_pdf("transcript", evidence)
            html_s += rendered - started
            pdf_s += time.perf_counter() - rendered
            if not html.rstrip().endswith("</html>") or not pdf.startswith(b"%PDF"):
                print(f"bench: FAILED: transcript {index} did not render", file=sys.stderr)
                return 1
            done += 1
    except TimeoutError:
        print(f"bench: FAILED: the run did not finish within {args.timeout:.0f} s (--timeout): "
              f"{done} of {args.transcripts} transcripts rendered", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    figures = {
        "transcripts": done,
        "answers": args.answers,
        "html_per_s": round(done / html_s, 1),
        "pdf_per_s": round(done / pdf_s, 2),
        "html_ms_mean": round(1000 * html_s / done, 2),
        "pdf_ms_mean": round(1000 * pdf_s / done, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    print(f"HTML: {figures['html_per_s']} transcripts/s, mean {figures['html_ms_mean']} ms")
    print(f"PDF:  {figures['pdf_per_s']} transcripts/s, mean {figures['pdf_ms_mean']} ms")
    print(f"peak RSS: {figures['peak_rss_mb']} MB")
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
