"""The probe decision (bot/domain/probing.py) on small hand-built questions, not the shipped banks."""

from dataclasses import dataclass, field

import pytest

from bot.domain import probing
from bot.domain.probing import MAX_PROBES, covered, next_probe, stems, sufficient


@dataclass(frozen=True)
class LookFor:
    id: str
    text: str
    evidence: list[str]


@dataclass(frozen=True)
class Probe:
    text: str
    aims: list[str]


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    look_fors: list[LookFor]
    probes: list[Probe] = field(default_factory=list)


REPEATS = Question(
    id="k-repeats",
    text="How does your organisation spot a customer problem that keeps coming back?",
    look_fors=[
        LookFor("records", "names where problems are recorded",
                ["log", "record", "put on the system", "CRM", "database", "spreadsheet", "case notes", "ticket"]),
        LookFor("reviewer", "says who reviews the records, how often, and why",
                ["team leader", "manager", "supervisor", "weekly", "monthly", "look through", "review"]),
        LookFor("patterns", "how patterns are spotted", ["trend", "pattern", "report", "same thing", "huddle"]),
        LookFor("next", "what happens next", ["root cause", "raise", "change", "fix"]),
    ],
    probes=[
        Probe("Where does a problem get written down when it comes in?", ["records"]),
        Probe("Who looks through those records, and how often?", ["reviewer"]),
        Probe("How does anyone see that it's the same problem again?", ["patterns"]),
        Probe("What happens once a repeat is found?", ["next"]),
    ],
)


# stems -------------------------------------------------------------------------------------------

def test_stems_lower_case_and_stem_every_word():
    assert stems("Logged it, RECORDED it; logging") == ["log", "it", "record", "it", "log"]


def test_stems_drop_apostrophes_and_read_ize_as_ise():
    assert stems("the customer's") == stems("the customers")
    assert stems("I apologized") == stems("I apologised")
    assert stems("don’t") == stems("dont")


def test_stems_read_past_forms_of_irregular_verbs_as_the_verb():
    assert stems("she came back") == stems("she comes back")
    assert stems("I rang him and told him") == stems("I ring him and tell him")
    assert stems("we sold it") == stems("we sell it")
    # a past form that is also another common word keeps its own reading
    assert stems("the left side") == ["the", "left", "side"]


def test_an_irregular_past_form_matches_a_term_written_in_the_present():
    question = Question("q", "?", [LookFor("return", "comes back", ["come back", "ring back"])])
    assert covered(question, "He came back the next week") == {"return"}
    assert covered(question, "I rang them back") == {"return"}


def test_stems_of_empty_text():
    assert stems("") == []
    assert stems("  ...  !") == []


# covered -----------------------------------------------------------------------------------------

def test_a_word_matches_on_its_stem_not_its_spelling():
    assert covered(REPEATS, "I logged it") == {"records"}
    assert covered(REPEATS, "it gets recorded") == {"records"}
    assert covered(REPEATS, "the logs") == {"records"}


def test_a_shared_prefix_is_not_a_match():
    # "recommend" shares five letters with "record"; the old check took that as evidence
    assert covered(REPEATS, "I would recommend we look into it") == set()


def test_a_term_of_several_words_matches_in_order_within_its_window():
    # "put on the system": four words, so put ... system within 7 words
    assert covered(REPEATS, "I put the whole thing on our system") == {"records"}
    assert covered(REPEATS, "the system put me on hold") == set()  # wrong order
    assert covered(REPEATS, "I put the kettle on and then after a long while I looked at the system") == set()


def test_a_term_of_several_words_needs_every_word():
    assert "reviewer" not in covered(REPEATS, "the team sorted it")
    assert "reviewer" in covered(REPEATS, "my team leader sorted it")


def test_generic_words_never_count():
    q = Question("q", "?", [
        LookFor("generic", "generic terms only", ["customer", "policy", "make sure", "always"]),
        LookFor("mixed", "a phrase with a generic word", ["customer services desk", "policy"]),
    ])
    text = "I always make sure the customer is happy and follow the policy at the customer services desk"
    assert covered(q, text) == {"mixed"}
    assert covered(q, "customers policies always making sure") == set()


def test_generic_words_cover_nothing_in_a_realistic_empty_answer():
    empty = "Yes we have a policy and I would always make sure the customer is happy with the service we give them"
    assert covered(REPEATS, empty) == set()


def test_every_look_for_can_be_covered():
    text = ("Everything goes on the CRM. My supervisor goes through it weekly and pulls a report of trends, "
            "then raises it with the ops manager to fix the root cause.")
    assert covered(REPEATS, text) == {"records", "reviewer", "patterns", "next"}


def test_case_and_punctuation_do_not_matter():
    assert covered(REPEATS, "CASE-NOTES!") == {"records"}


# sufficient --------------------------------------------------------------------------------------

FULL = ("Every complaint goes on the CRM with a reason code, and my team leader looks through the "
        "report every Monday for trends.")


def test_sufficient_with_half_the_look_fors_in_enough_words():
    assert covered(REPEATS, FULL) >= {"records", "reviewer", "patterns"}
    assert sufficient(REPEATS, FULL)


def test_not_sufficient_with_fewer_than_half_the_look_fors():
    text = "Every complaint goes on the CRM straight away, with the date and the account number on it."
    assert covered(REPEATS, text) == {"records"}
    assert not sufficient(REPEATS, text)


def test_not_sufficient_when_too_short_whatever_it_names():
    text = "CRM, supervisor"
    assert len(covered(REPEATS, text)) == 2
    assert not sufficient(REPEATS, text)


def test_long_generic_waffle_is_not_sufficient():
    text = ("Basically we have a policy for that and I would always make sure the customer is happy at the end "
            "of it. You try to help them as best you can, because customer service is really important to the "
            "company and we want people to come back to us.")
    assert not sufficient(REPEATS, text)


def test_an_answer_that_names_nothing_is_probed_whatever_words_it_shares():
    # covers records and reviewer by their words, but says nothing specific
    vague = "We record everything properly and the manager makes sure it is always dealt with in the right way"
    assert covered(REPEATS, vague) >= {"records", "reviewer"}
    assert probing.vague_share(vague) >= probing.MAX_VAGUE_SHARE
    assert not sufficient(REPEATS, vague)
    specific = "Every complaint goes on the CRM and my team leader reads through the log each Monday morning"
    assert probing.vague_share(specific) < probing.MAX_VAGUE_SHARE and sufficient(REPEATS, specific)


def test_vague_share_of_no_words_is_one():
    assert probing.vague_share("") == 1.0 and probing.vague_share("the and it") == 1.0


def test_half_rounds_up():
    two = Question("q2", "?", [LookFor("a", "", ["apple", "pear"]), LookFor("b", "", ["banana", "plum"])])
    three = Question("q3", "?", two.look_fors + [LookFor("c", "", ["cherry", "grape"])])
    words = " one two three four five six seven eight nine ten"
    assert sufficient(two, "apple" + words)
    assert not sufficient(three, "apple" + words)
    assert sufficient(three, "apple plum" + words)


# next_probe --------------------------------------------------------------------------------------

def test_next_probe_aims_at_the_first_uncovered_look_for():
    # "log" covers records, so the probe after records is skipped to the reviewer's
    assert next_probe(REPEATS, "We log it.", []) == REPEATS.probes[1]
    assert next_probe(REPEATS, "No idea.", []) == REPEATS.probes[0]


def test_next_probe_climbs_the_ladder():
    said = "Not sure really."
    first = next_probe(REPEATS, said, [])
    assert first == REPEATS.probes[0]
    said += " It goes in the complaints log."
    second = next_probe(REPEATS, said, [first.text])
    assert second == REPEATS.probes[1]
    said += " I don't know who reads it."
    third = next_probe(REPEATS, said, [first.text, second.text])
    assert third == REPEATS.probes[2]


def test_next_probe_stops_after_max_probes():
    asked = [p.text for p in REPEATS.probes[:MAX_PROBES]]
    assert MAX_PROBES == 3
    assert next_probe(REPEATS, "no idea", asked) is None
    assert next_probe(REPEATS, "no idea", asked[:2]) == REPEATS.probes[2]


def test_next_probe_is_none_when_the_answer_is_sufficient():
    assert next_probe(REPEATS, FULL, []) is None


def test_next_probe_never_repeats_an_asked_probe():
    asked = [REPEATS.probes[0].text]
    assert next_probe(REPEATS, "no idea", asked) == REPEATS.probes[1]


def test_next_probe_skips_probes_aimed_at_covered_look_fors():
    text = "Everything is logged and the supervisor checks it."  # records and reviewer, but only 8 words
    assert not sufficient(REPEATS, text)
    assert next_probe(REPEATS, text, []) == REPEATS.probes[2]


def test_next_probe_with_two_aims_is_asked_while_either_is_uncovered():
    q = Question("q", "?", REPEATS.look_fors[:2], [Probe("Where is it written down, and who reads it?",
                                                        ["records", "reviewer"])])
    assert next_probe(q, "It is logged.", []) == q.probes[0]


def test_next_probe_none_when_no_probe_is_left():
    q = Question("q", "?", REPEATS.look_fors, [REPEATS.probes[0]])
    assert next_probe(q, "We log everything.", []) is None  # the only probe aims at a covered look-for
    assert next_probe(q, "no idea", [REPEATS.probes[0].text]) is None


def test_next_probe_on_a_question_without_probes():
    assert next_probe(Question("q", "?", REPEATS.look_fors), "no idea", []) is None


# details -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("term", ["customer", "Make sure", "the customer service", "Policies"])
def test_terms_of_generic_words_only_never_count(term):
    assert probing.term_stems(term) == ((), 0)


def test_term_window_is_its_words_plus_slack():
    needed, window = probing.term_stems("put it on the system")
    assert needed == ("put", "system")
    assert window == 5 + probing.TERM_SLACK


def test_generic_words_come_from_the_banks_list():
    assert {"customer", "policy", "happy", "always", "make", "sure"} <= set(probing.GENERIC_WORDS)


@pytest.mark.parametrize("term", ["up", "the", "it's", "can do", "not happy"])
def test_terms_of_stopwords_and_generic_words_never_count(term):
    assert probing.term_stems(term) == ((), 0)


def test_a_term_that_keeps_one_word_matches_it_anywhere():
    assert probing.term_stems("follow up") == (("follow",), 2 + probing.TERM_SLACK)
    q = Question("q", "?", [LookFor("f", "", ["follow up", "ring back"])])
    assert covered(q, "I followed it through the next day") == {"f"}


@pytest.mark.parametrize("term", [
    "customer", "make sure", "the customer service", "it's", "up", "can do", "not happy", "helped",
    "log", "put it on the system", "team leader", "follow up", "customer services desk", "they'll", "Ofcom's",
])
def test_the_loader_refuses_exactly_the_terms_that_never_count(term):
    from bot.domain.bank_checks import generic_only

    assert generic_only(term) == (probing.term_stems(term) == ((), 0))
