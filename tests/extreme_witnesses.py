"""Extreme data for the witness testimony templates (used by tests/test_every_text_fits.py): a stretched bank's every
performance criterion chosen, details as long as allowed, a statement of as many 4,000-character messages as an
answer holds, the longest names Telegram allows."""

from dataclasses import replace

from bot.domain.judging import Judging
from bot.domain.limits import DEFAULT_LIMITS
from bot.domain.sittings import IncomingAttachment, Person
from bot.domain.witness_requests import MAX_DETAIL_CHARS, WitnessRequests
from bot.domain.witness_statements import WitnessStatements
from bot.domain.witnesses import WitnessProblem
from bot.telegram import keyboards
from bot.telegram import witness_keyboards as wt_keys


def witness_cases(world, ann, sam, enrolment_id: int, message, long_text, long_name) -> dict[str, list[dict]]:
    def request(step, *args):  # naming the witness
        return world.do(WitnessRequests, step, *args)

    def statement(step, *args):  # the witness's side
        return world.do(WitnessStatements, step, *args)

    witness = Person(7001, 7001, long_name("Witness", 7))
    units = request("name", sam)
    by_ann = request("name", ann)
    asked = request("begin", sam, enrolment_id)
    details = "\n".join(long_text(MAX_DETAIL_CHARS) for _ in range(4))
    choosing = request("take_details", sam, message(sam, details))
    for choice in choosing.choices:
        choosing = request("toggle", sam, asked.witness_id, choice.ref)
    link = request("make_link", sam, asked.witness_id)
    opened = statement("open", witness, link.code)
    kept = [statement("take", witness, message(witness, long_text(4000)))
            for _ in range(DEFAULT_LIMITS.parts_per_answer - 1)]
    voice = IncomingAttachment("voice", "wt-voice", "wt-voice-unique", 120_000, 95, "audio/ogg")
    kept.append(statement("take", witness, message(witness, None, voice)))
    shown = statement("finish", witness, link.witness_id)
    confirmed = statement("confirm", witness, link.witness_id, "I confirm.")
    item = world.do(Judging, "next_to_judge", ann, confirmed.submission_id)
    assert item.witness and item.text
    ann_asked = request("begin", ann, by_ann.choices[-1].enrolment_id)
    cancelled = request("cancel", ann, ann_asked.witness_id)
    return {
        "wt_units.html": [
            dict(choose=units, keyboard=wt_keys.units(units)),
            dict(choose=by_ann, keyboard=wt_keys.units(by_ann)),
            dict(choose=replace(by_ann, choices=by_ann.choices * 2), keyboard=wt_keys.units(replace(by_ann, choices=by_ann.choices * 2))),
        ],
        "wt_details.html": [dict(asked=asked, keyboard=wt_keys.cancel(asked.witness_id)), dict(asked=ann_asked)],
        "wt_criteria.html": [dict(choosing=choosing, keyboard=wt_keys.criteria(choosing))],
        "wt_link.html": [dict(link=link), dict(link=replace(link, by_assessor=True, asked_by=ann.name))],
        "wt_invitation.html": [
            dict(link=link, username="a_bot_username_of_32_characters_"),
            dict(link=replace(link, by_assessor=True, asked_by=ann.name), username="a_bot_username_of_32_characters_"),
        ],
        "wt_asked.html": [
            dict(asked=opened, keyboard=wt_keys.writing(opened.witness_id)),
            dict(asked=replace(opened, resumed=True, parts=30, by_assessor=True, asked_by=ann.name)),
        ],
        "wt_part_kept.html": [dict(kept=kept[0], keyboard=wt_keys.writing(kept[0].witness_id)),
                              dict(kept=replace(kept[-1], forwarded=True))],
        "wt_declaration.html": [dict(shown=shown, keyboard=wt_keys.declaration(shown.witness_id))],
        "wt_statement.html": [{}],
        "wt_confirmed.html": [
            dict(confirmed=confirmed, audience=audience, keyboard=wt_keys.to_judge(confirmed.submission_id))
            for audience in ("witness", "candidate", "assessor")
        ],
        "wt_cancelled.html": [dict(cancelled=cancelled), dict(cancelled=replace(cancelled, witness=""))],
        "judge_answer.html": [dict(item=item, keyboard=keyboards.judging(item.answer_id, item.submission_id))],
        "wt_problem.html": [dict(problem=p.value, limit=1_000_000, parts=1_000_000) for p in WitnessProblem]
        + [dict(problem="something_new", limit=1, parts=1, keyboard=wt_keys.cancel(asked.witness_id))],
    }
