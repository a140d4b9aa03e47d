"""Forwarded and cleaned messages in the domain: kept and marked, never taken for the candidate's own words,
carried into new versions, shown to the assessor and sealed in the record."""

from datetime import UTC, datetime

from bot.domain.digest import sha256_hex
from bot.domain.judging import AnswerToJudge, Judging
from bot.domain.sittings import AnswerSaved, Edited, ForwardOrigin, IncomingMessage, PartKept, Person, ProbeAsked
from bot.storage.db import transaction
from bot.storage.repository import Repository
from tests.test_sittings import FULL_ANSWER, SAM, enrol  # noqa: F401 (a fixture)

ANN = Person(11, 11, "Ann Assessor")
FIRST_SENT = datetime(2026, 6, 30, 8, 0, tzinfo=UTC)
OWN_WORDS = "I log each complaint on the CRM \u2400 and my team leader reviews the log every week with me."
PART_KEYS = {"seq", "text", "probe_number", "sent_at", "edited_at", "telegram_message_id", "attachment"}


def _message(message_id: int, text: str, **marks) -> IncomingMessage:
    return IncomingMessage(text, SAM.chat_id, message_id, 10_000 + message_id, datetime.now(UTC), **marks)


def test_a_forwarded_message_is_kept_and_marked_but_is_not_the_candidates_words(engine, banks, enrol):  # noqa: F811
    sam = enrol()
    origin = ForwardOrigin("channel", "Money Tips", FIRST_SENT)
    kept = sam.do("take_message", _message(1, FULL_ANSWER, forwarded_from=origin))
    assert isinstance(kept, PartKept) and kept.forwarded_from == origin
    assert isinstance(sam.do("finish"), ProbeAsked)  # a full answer, but forwarded: it does not cover the look-fors
    sam.do("take_message", _message(2, OWN_WORDS, text_cleaned=True))
    while not isinstance(outcome := sam.do("finish"), AnswerSaved):
        assert isinstance(outcome, ProbeAsked)

    [answer] = sam.transcript()["answers"]
    forwarded, own = answer["parts"]
    assert forwarded["forwarded_from"] == {"kind": "channel", "name": "Money Tips", "date": "2026-06-30T08:00:00+00:00"}
    assert "text_cleaned" not in forwarded and own["text_cleaned"] is True and "forwarded_from" not in own
    assert answer["answer"] == "" and answer["probes"][0]["reply"] == OWN_WORDS  # the forwarded text is not theirs

    assert isinstance(sam.do("edit", _message(2, OWN_WORDS.replace(" \u2400", ""))), Edited)
    first, second = sam.transcript()["answers"]
    assert second["parts"][0]["forwarded_from"] == forwarded["forwarded_from"]  # carried into the new version
    assert "text_cleaned" not in second["parts"][1] and first["parts"] == answer["parts"]

    evidence = sam.transcript()
    sealed = sha256_hex(evidence)
    evidence["answers"][0]["parts"][0]["forwarded_from"]["name"] = "Sam Candidate"
    assert sha256_hex(evidence) != sealed  # the origin is evidence, under the digest


def test_the_assessor_sees_a_forwarded_message_marked_apart_from_the_answer(engine, banks, enrol):  # noqa: F811
    sam = enrol()
    sam.do("take_message", _message(1, "Call 07700 900123 to complain.", forwarded_from=ForwardOrigin(
        "user", "Jo Bloggs", FIRST_SENT)))
    sam.do("take_message", _message(2, FULL_ANSWER))
    while not isinstance(sam.do("finish"), AnswerSaved):
        pass
    sam.do("submit", sam.do("review").enrolment_id)
    with transaction(engine) as session:
        judging = Judging(Repository(session), banks)
        [waiting] = judging.queue(ANN)
        shown = judging.next_to_judge(ANN, waiting.submission_id)
    assert isinstance(shown, AnswerToJudge)
    assert shown.text == FULL_ANSWER and shown.forwarded == [("Jo Bloggs", "Call 07700 900123 to complain.")]
    assert "phone" in {flag.kind for flag in shown.privacy_flags}  # forwarded text is checked for personal details too


def test_a_record_without_forwarded_or_cleaned_messages_has_the_keys_it_always_had(engine, banks, enrol):  # noqa: F811
    sam = enrol()
    sam.answer()
    [part] = sam.transcript()["answers"][0]["parts"]
    assert set(part) == PART_KEYS  # so records made before these marks keep their digest

