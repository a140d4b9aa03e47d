"""Extreme data for the product and observation templates (used by tests/test_every_text_fits.py): every criterion
of a stretched bank chosen, 4,000-character lines, places and captions, the longest names Telegram allows."""

from dataclasses import replace

from bot.domain.observation_countersignatures import Countersigned
from bot.domain.observation_work import ObservationProblem
from bot.domain.observations import ObservationCancelled, Observations, Unfinished
from bot.domain.products import ProductCancelled, ProductProblem, Products
from bot.domain.records import Disputed
from bot.domain.sittings import IncomingAttachment
from bot.telegram import observation_keyboards as obs_keys
from bot.telegram import product_keyboards as product_keys

ZONE = "Europe/London"


def _problems(kind) -> list[str]:
    return [value for name, value in vars(kind).items() if name.isupper()]


def product_observation_cases(world, ann, sam, enrolment_id: int, message, long_text) -> dict[str, list[dict]]:
    def products(step, *args):
        return world.do(Products, step, *args)

    def observations(step, *args):
        return world.do(Observations, step, *args)

    document = IncomingAttachment("document", "pe-doc", "pe-doc-unique", 1_200_000, None, "application/pdf", "log.pdf")
    units = products("begin", sam)
    choosing = products("begin", sam, enrolment_id)
    for choice in choosing.choices:
        choosing = products("toggle", sam, choosing.product_id, choice.ref)
    file_asked = products("ask_file", sam, choosing.product_id)
    line_asked = products("take", sam, message(sam, None, document))
    kept = products("take", sam, message(sam, long_text(4000)))

    choices = observations("choices", ann)
    began = observations("begin", ann, enrolment_id)
    for choice in began.choices:
        began = observations("toggle", ann, began.observation_id, choice.ref)
    place_asked = observations("ask_place", ann, began.observation_id)
    recording = observations("take", ann, message(ann, long_text(4000)))
    voice = IncomingAttachment("voice", "do-voice", "do-voice-unique", 120_000, 95, "audio/ogg")
    seen = observations("take", ann, message(ann, None, voice))
    for _ in range(3):
        seen_text = observations("take", ann, message(ann, long_text(4000)))
    under_way = observations("choices", ann)
    record = observations("finish", ann, began.observation_id)
    signed = Countersigned(record.ref, record.candidate, record.assessor_chat_id, 123_456_789)
    disputed = Disputed(record.ref, record.candidate, record.assessor_chat_id)
    unfinished = Unfinished(began.observation_id, record.ref, record.candidate, "recording")
    return {
        "product.html": [
            dict(step="units", outcome=units, keyboard=product_keys.units(units.units)),
            dict(step="choosing", outcome=choosing, keyboard=product_keys.choosing(choosing)),
            dict(step="file", outcome=file_asked, keyboard=product_keys.cancel(file_asked.product_id)),
            dict(step="line", outcome=line_asked, keyboard=product_keys.cancel(line_asked.product_id)),
            dict(step="kept", outcome=kept),
            dict(step="cancelled", outcome=ProductCancelled(kept.ref)),
        ],
        "product_problem.html": [dict(problem=p, limit=1_000_000, keyboard=product_keys.cancel(1))
                                 for p in _problems(ProductProblem)],
        "observe.html": [
            dict(step="choices", outcome=choices, keyboard=obs_keys.candidates(choices.candidates)),
            dict(step="choices", outcome=under_way),
            dict(step="choices", outcome=replace(choices, candidates=[])),
            dict(step="choosing", outcome=began, keyboard=obs_keys.choosing(began)),
            dict(step="place", outcome=place_asked, keyboard=obs_keys.cancel(place_asked.observation_id)),
            dict(step="recording", outcome=recording, zone=ZONE, keyboard=obs_keys.recording(recording.observation_id)),
            dict(step="kept", outcome=seen, keyboard=obs_keys.recording(seen.observation_id)),
            dict(step="kept", outcome=seen_text),
            dict(step="resume", outcome=unfinished, keyboard=obs_keys.recording(unfinished.observation_id)),
            dict(step="finished", outcome=record, zone=ZONE),
            dict(step="cancelled", outcome=ObservationCancelled(record.ref)),
        ],
        "observe_problem.html": [dict(problem=p, limit=1_000_000, keyboard=obs_keys.cancel(1))
                                 for p in _problems(ObservationProblem)],
        "observation_record.html": [dict(record=record, zone=ZONE, keyboard=obs_keys.countersign(record.observation_id))],
        "observation_signed.html": [
            dict(outcome=o, agreed=agreed, audience=a,
                 keyboard=obs_keys.to_judge(signed.submission_id) if agreed and a == "assessor" else None)
            for o, agreed in ((signed, True), (disputed, False)) for a in ("candidate", "assessor")
        ],
        "observation_statement.html": [{}],
    }
