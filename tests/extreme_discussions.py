"""Extreme data for the professional discussion templates (used by tests/test_every_text_fits.py): every criterion
of a stretched bank in one plan, 4,000-character messages both ways, the longest names Telegram allows."""

from dataclasses import replace

from bot.domain.discussion_plans import DiscussionPlans, PlanProblem
from bot.domain.discussion_work import DiscussionProblem
from bot.domain.discussions import Discussions
from bot.domain.records import Disputed
from bot.domain.sittings import IncomingAttachment
from bot.rendering import telegram_text
from bot.telegram import discussion_keyboards as pd_keys

ZONE = "Europe/London"


def discussion_cases(world, ann, sam, enrolment_id: int, message, long_text) -> dict[str, list[dict]]:
    def plans(step, *args):
        return world.do(DiscussionPlans, step, *args)

    def talk(step, *args):
        return world.do(Discussions, step, *args)

    draft = plans("begin", ann, enrolment_id)
    for choice in draft.choices:
        chosen = plans("toggle", ann, draft.discussion_id, choice.ref)
    asked = plans("ask_time", ann, draft.discussion_id)
    plan = plans("take_time", ann, "tomorrow 10:00")
    second = plans("begin", ann, enrolment_id)
    plans("toggle", ann, second.discussion_id, second.choices[0].ref)
    plans("ask_time", ann, second.discussion_id)
    plans("take_time", ann, "tomorrow 16:00")
    candidates, upcoming = plans("choices", ann)

    started = talk("start", ann, plan.discussion_id)
    answer = long_text(4000)
    relay_in = talk("take", sam, message(sam, answer))
    relay_out = talk("take", ann, message(ann, answer))
    voice = IncomingAttachment("voice", "pd-voice", "pd-voice-unique", 120_000, 95, "audio/ogg")
    voice_in = talk("take", sam, message(sam, None, voice))
    for choice in chosen.choices[:5]:
        talk("reference", ann, relay_in.part_id, choice.ref)
    referenced = talk("reference", ann, relay_in.part_id, chosen.choices[5].ref)
    other = talk("other_criteria", ann, relay_in.part_id)
    note = talk("note", ann, long_text(4000))
    paused = talk("hold", ann, plan.discussion_id, True)
    resumed = talk("hold", ann, plan.discussion_id, False)
    for _ in range(3):
        talk("take", sam, message(sam, answer))
    record = talk("end", ann, plan.discussion_id)
    confirmed = talk("confirm", sam, plan.discussion_id, telegram_text("pd_statement.html"))
    disputed = Disputed(record.ref, record.candidate, record.assessor_chat_id)
    problems = [p.value for p in PlanProblem] + [p.value for p in DiscussionProblem] + ["empty_note"]
    return {
        "pd_cancelled.html": [dict(ref=plan.ref)],
        "pd_choices.html": [
            dict(candidates=candidates, upcoming=upcoming, zone=ZONE, keyboard=pd_keys.choices(candidates, upcoming)),
            dict(candidates=[], upcoming=[], zone=ZONE),
        ],
        "pd_confirmed.html": [
            dict(confirmed=confirmed, audience="candidate"),
            dict(confirmed=confirmed, audience="assessor", keyboard=pd_keys.to_judge(confirmed.submission_id)),
        ],
        "pd_controls.html": [dict(ref=plan.ref, paused=p, keyboard=pd_keys.controls(plan.discussion_id, p)) for p in (True, False)],
        "pd_disputed.html": [dict(disputed=disputed, audience=a) for a in ("candidate", "assessor")],
        "pd_ended.html": [dict(record=record), dict(record=replace(record, referenced=[]))],
        "pd_held.html": [dict(held=h, audience=a, keyboard=pd_keys.controls(h.discussion_id, h.paused))
                         for h in (paused, resumed) for a in ("candidate", "assessor")],
        "pd_note_kept.html": [dict(note=note)],
        "pd_plan.html": [
            dict(plan=plan, audience="candidate"),
            dict(plan=plan, audience="assessor", keyboard=pd_keys.start(plan.discussion_id, plan.ref, plan.candidate)),
        ],
        "pd_planning.html": [dict(plan=chosen, keyboard=pd_keys.planning(chosen)), dict(plan=replace(chosen, choices=[]))],
        "pd_problem.html": [dict(problem=p, limit=1_000_000) for p in problems],
        "pd_record.html": [dict(record=record, lines=record.shown_to_candidate(), zone=ZONE,
                                keyboard=pd_keys.record(record.discussion_id))],
        "pd_relay.html": [
            dict(relay=relay_in, keyboard=pd_keys.references(relay_in.part_id, referenced.buttons)),
            dict(relay=relay_in, keyboard=pd_keys.other_criteria(relay_in.part_id, other.refs)),  # "Other…"
            dict(relay=relay_out),
            dict(relay=voice_in),
        ],
        "pd_reminder.html": [
            dict(plan=plan, audience="candidate"),
            dict(plan=plan, audience="assessor", keyboard=pd_keys.start(plan.discussion_id, plan.ref, plan.candidate)),
        ],
        "pd_started.html": [
            dict(started=started, audience="candidate"),
            dict(started=started, audience="assessor", keyboard=pd_keys.controls(started.discussion_id, False)),
        ],
        "pd_statement.html": [{}],
        "pd_time_asked.html": [dict(asked=asked)],
    }
