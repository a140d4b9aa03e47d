"""Every Telegram template, rendered with extreme data through the real rendering and fitting path
(`Work.reply`), stays within Telegram's limits: a 4,000-character answer with <, & and emoji in it,
replies and feedback as long, 61 candidates with 129-character names, and a bank whose titles,
questions, criteria, look-fors, probes and declarations are all long.

The templates are found by listing the folder: a new one fails here until it has extreme data below.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from importlib.resources import files
from itertools import count

import pytest
from sqlalchemy import Engine
from telegram.constants import InlineKeyboardButtonLimit, InlineKeyboardMarkupLimit, MessageLimit

from bot.bootstrap import open_database
from bot.domain.assessment import Assessment, InviteProblem
from bot.domain.bank_schema import UnitBank
from bot.domain.banks import Banks
from bot.domain.caseload import Caseload, CreditConfirmed
from bot.domain.judging import AnswerToJudge, Denied, Judging
from bot.domain.sittings import (
    EditProblem,
    ForwardOrigin,
    IncomingAttachment,
    IncomingMessage,
    NotKept,
    Person,
    ProbeAsked,
    Refusal,
    Sittings,
)
from bot.rendering import telegram_text
from bot.storage.db import transaction
from bot.storage.repository import Repository
from bot.telegram import keyboards
from bot.telegram.fitting import utf16_length
from bot.telegram.work import Work
from tests.extreme_discussions import discussion_cases
from tests.extreme_products_observations import product_observation_cases
from tests.extreme_witnesses import witness_cases
from tests.telegram_html import shown_text
from tests.test_sittings import FULL_ANSWER, Candidate

TEMPLATES = files("bot").joinpath("templates/telegram")
LIMIT = MessageLimit.MAX_TEXT_LENGTH
_FILLER = "Tell me <how> & why 🙂 it mattered to the customer — «in your own words» "
# Nonsense words, so no look-for is covered and every probe is asked; a name, a phone and an e-mail to flag.
_ANSWER_WORDS = (
    "Zorbly <b>frob</b> & quux 👩‍👩‍👧 blorp; Mrs Hathersage-Wilmington rang 07700 900123 or zed@example.org. "
)
_message_ids = count(1)


def long_text(length: int, words: str = _FILLER) -> str:
    return (words * (length // len(words) + 1))[:length].rstrip()


ANSWER = long_text(4000, _ANSWER_WORDS)


def long_name(first: str, number: int) -> str:
    """A full name as long as Telegram allows (64 characters first, 64 last)."""
    given = long_text(61, f"{first} <&> 🙂 Maximiliana-Aurelia ")
    return f"{given}{number:03d} {long_text(64, 'Fitzwilliam & Smythe-Montgomery 🙂 ')}"


ANN = Person(11, 11, long_name("Ann", 0))
SAM = Person(501, 501, long_name("Sam", 0))
COHORT = [Person(1000 + n, 1000 + n, long_name("Cand", n)) for n in range(60)]

# How long each kind of text in the stretched bank is.
_STRETCH = {"title": 250, "case_type": 200, "awarding_body": 200, "text": 1500, "prompt": 1500}
_SHORT_MAX = 40


def _stretched(value, key: str | None = None):
    if isinstance(value, dict):
        stretched = {k: _stretched(v, k) for k, v in value.items()}
        if {"id", "evidence"} <= value.keys() or {"text", "aims"} <= value.keys():  # a look-for or a probe
            stretched["text"] = long_text(400, value["text"] + " " + _FILLER)
        return stretched
    if isinstance(value, list):
        return [_stretched(v, key) for v in value]
    if key == "short":
        return long_text(_SHORT_MAX, value + " 🙂 & ")
    if key in _STRETCH and isinstance(value, str):
        return long_text(_STRETCH[key], value + " " + _FILLER)
    return value


@pytest.fixture
def stretched_banks(banks) -> Banks:
    units = {code: UnitBank.model_validate(_stretched(bank.model_dump())) for code, bank in banks.units.items()}
    return Banks(units, banks.mapping)


@dataclass
class World:
    """The domain over a database, one transaction per step, as the bot does."""

    engine: Engine
    banks: Banks

    def do(self, side, step: str, *args):
        with transaction(self.engine) as session:
            return getattr(side(Repository(session), self.banks), step)(*args)

    def judging(self, step: str, *args):
        return self.do(Judging, step, *args)

    def caseload(self, step: str, *args):
        return self.do(Caseload, step, *args)

    def assessment(self, step: str, *args):
        return self.do(Assessment, step, *args)

    def enrol(self, person: Person, unit: str = "cg-310", days: int = 3):
        code = self.assessment("create_invite", unit, ANN.user_id, date.today() + timedelta(days=days)).code
        return self.assessment("redeem_invite", person, code), Candidate(self.engine, self.banks, person)


def message(person: Person, text: str | None, attachment=None, message_id=None, forwarded_from=None):
    message_id = message_id or next(_message_ids)
    return IncomingMessage(text, person.chat_id, message_id, 50_000 + message_id, datetime.now(UTC), attachment,
                           forwarded_from)


def extreme_cases(world: World) -> dict[str, list[dict]]:
    """Each template's contexts (with the keyboard it is sent with), built with the real domain."""
    banks = world.banks
    world.assessment("add_assessor", ANN.user_id, ANN.name, True)
    for person in COHORT:
        _, candidate = world.enrol(person)
        candidate.answer(FULL_ANSWER)
        candidate.do("submit", candidate.do("review").enrolment_id)

    enrolled, sam = world.enrol(SAM)
    first_part = sam.do("take_message", message(SAM, ANSWER))
    origin = ForwardOrigin("user", long_name("Forwarder", 2), datetime.now(UTC))
    forwarded = sam.do("take_message", message(SAM, ANSWER, forwarded_from=origin))
    probes, probe_replies = [], []
    while isinstance(outcome := sam.do("finish"), ProbeAsked):
        probes.append(outcome)
        probe_replies.append(sam.do("take_message", message(SAM, ANSWER)))
    saved = outcome
    assert len(probes) == 3 and saved.next_prompt, "the extreme answer should be probed three times"
    nothing_to_finish = sam.do("finish")
    voice = IncomingAttachment("voice", "voice-file", "voice-unique", 120_000, 95, "audio/ogg")
    sam.do("take_message", message(SAM, None, voice))
    sam.do("take_message", message(SAM, ANSWER))
    sam.do("finish")
    edited_id = next(_message_ids)
    sam.do("take_message", message(SAM, ANSWER, message_id=edited_id))
    edited = sam.do("edit", message(SAM, ANSWER[::-1], message_id=edited_id))
    skipped = sam.do("skip")
    sam.do("pause")
    resumed = sam.do("resume")
    world.enrol(SAM, "nhs-cs", days=60)
    choices = sam.do("pd_choices")
    pd_prompt = sam.do("start_pd_case", choices[0].enrolment_id, choices[0].case_id)
    progress = sam.do("progress")
    cg_enrolment = next(u.enrolment_id for u in progress if u.unit_code == "cg-310")
    declaration = sam.do("ask_declaration", cg_enrolment)
    submitted = sam.do("submit", cg_enrolment)

    queue = world.judging("queue", ANN)
    sam_submission = next(i.submission_id for i in queue if i.candidate == SAM.name)
    first = world.judging("next_to_judge", ANN, sam_submission)
    follow_ups = []
    for _ in range(2):
        world.judging("await_text", ANN, first.answer_id, "question")
        follow_ups.append(world.judging("take_text", ANN, long_text(4000, _ANSWER_WORDS))[1])
        replied = sam.do("take_message", message(SAM, ANSWER))
    to_judge = world.judging("next_to_judge", ANN, sam_submission)
    assert to_judge.questions and to_judge.probes and to_judge.privacy_flags and to_judge.forwarded
    waiting = world.judging("await_text", ANN, to_judge.answer_id, "feedback")
    not_yet = None
    while isinstance(item := world.judging("next_to_judge", ANN, sam_submission), AnswerToJudge):
        world.judging("await_text", ANN, item.answer_id, "feedback")
        not_yet = world.judging("take_text", ANN, long_text(4000, _FILLER))[1]
    all_judged = item
    referred = world.caseload("sign_off", ANN, sam_submission)
    review = sam.do("review", cg_enrolment)
    assert any(i.feedback for i in review.items)

    met_submission = next(i.submission_id for i in queue if i.candidate == COHORT[0].name)
    met = world.judging("judge", ANN, world.judging("next_to_judge", ANN, met_submission).answer_id, "met")
    not_complete = world.caseload("sign_off", ANN, met_submission)
    interim = world.caseload("sign_off", ANN, met_submission, True)
    staff_invite = world.caseload("invite_assessor", ANN)
    registered = world.assessment("redeem_invite", Person(12, 12, long_name("Bob", 1)), staff_invite.code)
    already = world.assessment("redeem_invite", SAM, world.assessment(
        "create_invite", "cg-310", ANN.user_id, date.today() + timedelta(days=3)).code)

    rows = world.caseload("cohort", ANN)
    with transaction(world.engine) as session:
        repo = Repository(session)
        assessor = repo.assessor_by_telegram_id(ANN.user_id)
        digest_waiting = Judging(repo, banks).waiting_for(assessor)
        sittings = Sittings(repo, banks)
        reminder_progress = sittings.unit_progress(repo.enrolment_by_id(cg_enrolment))
        at_risk = Caseload(repo, banks).at_risk(assessor, idle_days=0, today=date.today())  # every reason at once: inactive too
    assert len(rows) == len(queue) + 1 == len(COHORT) + 2 and len(at_risk) > len(COHORT)
    competent = replace(referred, outcome="competent", referred=[], statement=long_text(1500))
    longest_ref = max((c.ref for bank in banks.units.values() for c in bank.criteria), key=len)
    done_choices = [replace(c, state="done") for c in choices]
    discussions = discussion_cases(world, ANN, SAM, cg_enrolment, message, lambda n: long_text(n, _ANSWER_WORDS))
    products_observations = product_observation_cases(world, ANN, SAM, cg_enrolment, message,
                                                      lambda n: long_text(n, _ANSWER_WORDS))
    witnesses = witness_cases(world, ANN, SAM, cg_enrolment, message, lambda n: long_text(n, _ANSWER_WORDS), long_name)
    return {
        **discussions,
        **products_observations,
        **witnesses,
        "all_judged.html": [dict(outcome=all_judged, keyboard=keyboards.sign_off(all_judged.submission_id))],
        "answer_saved.html": [
            dict(outcome=saved, keyboard=keyboards.answering()),
            dict(outcome=skipped),
            dict(outcome=replace(saved, finished_set=saved.next_prompt.set_title)),
            dict(outcome=replace(saved, next_prompt=None, pd_cases_left=9)),
            dict(outcome=replace(saved, next_prompt=None, pd_cases_left=0)),
        ],
        "assessor.html": [{}],
        "assessor_registered.html": [dict(outcome=registered), dict(outcome=replace(registered, role="admin"))],
        "awaiting_text.html": [dict(kind="feedback", item=waiting), dict(kind="question", item=waiting)],
        "candidate_unreachable.html": [dict(candidate=SAM.name, unit_code="edexcel-f6")],
        "case_menu.html": [
            dict(choices=choices, many_units=True, keyboard=keyboards.cases(choices)),
            dict(choices=done_choices, many_units=True),
            dict(choices=[], many_units=False),
        ],
        "cohort.html": [dict(rows=rows), dict(rows=[])],
        "credit_confirmed.html": [
            dict(confirmed=CreditConfirmed(cg_enrolment, longest_ref, "Q10.v12", f"ocr-c3:{longest_ref}"))
        ],
        "deadline.html": [
            dict(rows=rows, changed=None, asked=False),
            dict(rows=rows, changed=None, asked=True),
            dict(rows=[], changed=None, asked=True),
            dict(rows=rows, changed=rows[0], new_date=date(2099, 12, 24), asked=True),
        ],
        "declaration.html": [
            dict(asked=declaration, keyboard=keyboards.declaration(cg_enrolment)),
            dict(asked=replace(declaration, declaration_source="centre", complete_declaration=long_text(1500))),
        ],
        "declaring.html": [{}],
        "denied.html": [dict(denied=d.value) for d in Denied],
        "digest.html": [dict(waiting=digest_waiting, at_risk=at_risk), dict(waiting=[], at_risk=[])],
        "edited.html": [dict(edited=edited, problem=None)] + [dict(edited=None, problem=p.value) for p in EditProblem],
        "enrolled.html": [dict(outcome=enrolled, name=SAM.name, keyboard=keyboards.answering())],
        "export_coming.html": [dict(unit_code="edexcel-f6")],
        "export_menu.html": [dict(rows=rows, keyboard=keyboards.exports(rows)), dict(rows=[])],
        "follow_up_question.html": [dict(asked=follow_ups[0])],
        "follow_up_replied.html": [dict(outcome=replied)],
        "follow_up_reply.html": [dict(outcome=replied)],
        "follow_up_sent.html": [dict(asked=follow_ups[0])],
        "foreign_button.html": [{}],
        "forwarded_kept.html": [
            dict(outcome=forwarded),
            dict(outcome=replace(forwarded, forwarded_from=replace(origin, name=None))),
        ],
        "help.html": [{}],
        "invite_refused.html": [dict(outcome=already, keyboard=keyboards.answering())]
        + [dict(outcome=replace(already, problem=p, prompt=None)) for p in InviteProblem],
        "judge_answer.html": [
            dict(item=to_judge, keyboard=keyboards.judging(to_judge.answer_id, to_judge.submission_id)),
            dict(item=replace(to_judge, judgment=not_yet)),
            *witnesses["judge_answer.html"],  # a witness's statement
        ],
        "judged.html": [dict(judgment=not_yet), dict(judgment=met)],
        "not_enrolled.html": [{}],
        "not_kept.html": [
            dict(outcome=NotKept(reason, 1_000_000, 9_999_999, nothing_to_finish.prompt), keyboard=keyboards.answering())
            for reason in ("too_long", "edit_too_long", "answer_full")
        ] + [dict(outcome=NotKept("too_long", 1_000_000, 9_999_999))],
        "not_text.html": [{}],
        "nothing_open.html": [{}],
        "nothing_to_finish.html": [dict(prompt=nothing_to_finish.prompt, keyboard=keyboards.answering())],
        "outcome.html": [dict(signed=referred), dict(signed=interim), dict(signed=competent)],
        "outside_sitting.html": [{}],
        "part_kept.html": [dict(outcome=first_part), dict(outcome=probe_replies[-1])],
        "paused.html": [dict(was_sitting=True, keyboard=keyboards.carry_on()), dict(was_sitting=False)],
        "probe.html": [dict(outcome=probes[0]), dict(outcome=probes[-1])],
        "prompt.html": [
            dict(prompt=pd_prompt, case_start=True, keyboard=keyboards.answering()),
            dict(prompt=resumed, resumed=True),
            dict(prompt=resumed, reanswer=True),
            dict(prompt=replace(resumed, pending_probe=probes[-1].probe)),
        ],
        "queue.html": [dict(items=queue, keyboard=keyboards.queue(queue)), dict(items=[])],
        "refused.html": [dict(refusal=r.value) for r in Refusal],
        "reminder.html": [
            dict(kind=kind, progress=reminder_progress, days_left=days, keyboard=keyboards.carry_on())
            for kind in ("deadline", "idle") for days in (0, 1, 6)
        ],
        "reminders.html": [
            dict(paused=paused, changed=changed, keyboard=keyboards.reminders(paused))
            for paused in (True, False) for changed in (True, False)
        ],
        "review.html": [dict(review=review, keyboard=keyboards.review(review)), dict(review=replace(review, items=[]))],
        "signed_off.html": [dict(signed=referred), dict(signed=interim), dict(signed=competent)],
        "slow_down.html": [dict(per_minute=1_000_000)],
        "something_went_wrong.html": [{}],
        "staff_invite.html": [dict(invite=staff_invite, username="a_bot_username_of_32_characters_", zone="Europe/London")],
        "console_link.html": [dict(link="https://console.example.org/login?t=" + "x" * 43, minutes=10, keyboard=None)],
        "start_without_code.html": [dict(enrolled=True), dict(enrolled=False)],
        "submitted.html": [dict(submitted=submitted), dict(submitted=replace(submitted, complete=True))],
        "unit_not_complete.html": [dict(outcome=not_complete, keyboard=keyboards.unit_not_complete(not_complete))],
        "units.html": [dict(units=progress), dict(units=[])],
        "unknown_command.html": [{}],
    }


ROW = re.compile(r"^(• |\d+\. |✅ )")


def check_calls(calls, template: str, whole: str) -> None:
    """What Telegram requires of each sendMessage, and that each row of a list stays whole in one message."""
    assert calls and all(call.method == "sendMessage" for call in calls), template
    assert [call.id for call in calls] == sorted(call.id for call in calls), f"{template}: parts out of order"
    for number, call in enumerate(calls, 1):
        text = call.params["text"]
        shown = shown_text(text)  # parses as Telegram HTML
        assert shown.strip() and utf16_length(shown) <= LIMIT, (template, number, utf16_length(shown))
        assert text.count("<") - text.count("</") <= MessageLimit.MESSAGE_ENTITIES, (template, number)
        markup = call.params.get("reply_markup")
        assert markup is None or number == len(calls), f"{template}: the keyboard must be under the last part only"
        keyboard = (markup or {}).get("inline_keyboard", [])
        buttons = [button for row in keyboard for button in row]
        assert len(buttons) <= InlineKeyboardMarkupLimit.TOTAL_BUTTON_NUMBER, template
        assert all(len(row) <= InlineKeyboardMarkupLimit.BUTTONS_PER_ROW for row in keyboard), template
        assert all(len(b["callback_data"].encode()) <= InlineKeyboardButtonLimit.MAX_CALLBACK_DATA for b in buttons)
    whole_lines = shown_text(whole).split("\n")
    assert not [line for line in whole_lines if "• " in line[1:]], f"{template}: each row must be a line of its own"
    lines = {line for call in calls for line in shown_text(call.params["text"]).split("\n")}
    rows = [line for line in whole_lines if ROW.match(line) and utf16_length(line) <= LIMIT // 3]
    assert all(row in lines for row in rows), f"{template}: a row was split"


@pytest.fixture
def world(settings, stretched_banks):
    engine = open_database(settings, stretched_banks)
    yield World(engine, stretched_banks)
    engine.dispose()


def test_every_template_rendered_with_extreme_data_stays_within_telegrams_limits(world):
    templates = sorted(p.name for p in TEMPLATES.iterdir() if p.name.endswith(".html") and not p.name.startswith("_"))
    cases = extreme_cases(world)
    missing = set(templates) - set(cases)
    assert not missing, f"give these templates extreme data in extreme_cases(): {sorted(missing)}"
    split = set()
    for template in templates:
        for case in cases[template]:
            with transaction(world.engine) as session:
                work = Work(session, world.banks, lambda: datetime.now(UTC))
                work.reply(SAM.chat_id, template, **case)
            context = {name: value for name, value in case.items() if name != "keyboard"}
            check_calls(work.queued, template, telegram_text(template, **context))
            if len(work.queued) > 1:
                split.add(template)
    assert {"judge_answer.html", "cohort.html", "queue.html", "digest.html", "outcome.html", "review.html"} <= split
