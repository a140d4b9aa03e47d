"""Random sequences of what people do, crashes and Bot API failures, over the real update pipeline.

A hypothesis state machine plays candidates (enrol, answer in several messages, Done, Skip, Ask again, review,
answer again, submit, go back) and assessors (the queue, Met, Not yet with feedback, a follow-up question,
sign-off) by pressing the buttons the bot really sent, while the Bot API (the emulator) fails calls with a 5xx
or a 429 and the bot crashes mid-work: its event loop, application, sender and engine are thrown away (every
task cancelled at whatever await it had reached, the connections closed, as a SIGKILL would leave them) and a
new bot is built over the same database. After every step it checks:

- nothing crashed: every update stored, processed once, none failed or apologised for;
- no lost answer: a message the bot said it kept ("Got it…") is in the evidence, then and after every later step;
- no duplicate: no update makes two answer parts, no reply is sent twice except the one a crash interrupted;
- no message to the wrong person: what someone typed reaches only them and the assessor they are linked to;
- every update had its reply, every button press its answer, every queued call was made.

The bot runs in this process (on a thread of its own) so an example takes a second or two, not a process start
per crash; the SIGKILL of the real process is in tests/test_standby.py and tests/test_failover_flood.py.
"""

import asyncio
import itertools
import re
import threading
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import select

from bot.domain.assessment import Assessment
from bot.domain.limits import Limits
from bot.scheduling.reminders import person_unreachable
from bot.settings import Settings
from bot.storage.db import make_engine, transaction
from bot.storage.models import (
    Answer,
    AnswerPart,
    AssessorQuestion,
    Candidate,
    Enrolment,
    InboundUpdate,
    Judgment,
    OutboundMessage,
    QuestionRun,
)
from bot.storage.repository import Repository
from bot.telegram import delivery, pipeline
from bot.telegram.app import build_application
from bot.telegram.pacing import RateLimiter
from bot.telegram.pipeline import UpdatePipeline
from bot.telegram.sender import OutboxSender
from tests.phone import wait_until

pytestmark = pytest.mark.slow

ASSESSORS = (21, 22)
TOKEN = re.compile(r"tok(\d+)x(\d+)")
KEPT = ("Got it", "Thanks, that's added to your answer")
SAYINGS = [
    "We log every complaint on the CRM system and follow the complaints procedure.",
    "I tell the customer what happens next and when.",
    "The team leader reviews the log each week.",
    "fine",
]
_user_ids = itertools.count(40_000)


class BotInThread:
    """The real update pipeline and sender, on an event loop of their own; `crash()` throws it all away."""

    def __init__(self, emulator, database_url: str, banks):
        self.emulator, self.database_url, self.banks = emulator, database_url, banks
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bot-under-test", daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._boot(), self.loop).result(30)

    async def _boot(self) -> None:
        bot_settings = Settings(
            database_url=self.database_url, telegram_token="123456:TEST", telegram_api_url=self.emulator.base_url,
            telegram_file_url=self.emulator.base_file_url, poll_timeout=1, _env_file=None,
            messages_per_minute=100_000,  # the machine writes faster than any person; flood holds have their own tests
        )
        self.engine = make_engine(self.database_url)
        self.application = build_application(bot_settings)
        await self.application.initialize()
        sender = OutboxSender(self.application.bot, self.engine, RateLimiter(1000, 0.0), idle_wait_s=0.05,
                              on_unreachable=person_unreachable)
        self.task = asyncio.get_running_loop().create_task(
            UpdatePipeline(self.application, self.engine, self.banks, sender, poll_timeout=1,
                           limits=Limits.from_settings(bot_settings)).run()
        )

    def crash(self) -> None:
        """Every task cancelled where it stands, sockets and database connections closed; nothing else runs."""

        async def die() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.application.bot.request.shutdown()  # the OS closes a killed process's sockets
            self.engine.dispose()

        if self.loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(die(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()
            self.loop = None

    def failed(self) -> BaseException | None:
        """The pipeline's exception if it stopped on its own (it never should)."""
        if self.task.done() and not self.task.cancelled():
            return self.task.exception()
        return None


def outbox(engine) -> list[OutboundMessage]:
    with transaction(engine) as session:
        rows = list(session.exec(select(OutboundMessage).order_by(OutboundMessage.id)))
        for row in rows:
            session.expunge(row)
        return rows


def buttons(message: dict) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["callback_data"] for row in keyboard for b in row if b.get("callback_data")]


class Conversations(RuleBasedStateMachine):
    """Set by the test: the emulator, the database, the running bot."""

    emulator = engine = database_url = banks = bot = world = None

    def __init__(self):
        super().__init__()
        # What every example of the test did so far, since they share the database, the emulator and the bot.
        world = type(self).world
        self.said: dict[str, int] = world.said  # token -> the update that carried it
        self.kept: set[str] = world.kept  # tokens the bot said it kept in an answer
        self.posted: dict[int, int] = world.posted  # person -> updates they sent
        self.queries: list[str] = world.queries  # callback query ids pressed
        self.linked: dict[int, int] = world.linked  # every candidate so far -> their assessor
        self.candidates: dict[int, int] = {}  # this example's candidates -> their assessor
        self.tokens = world.tokens

    @property
    def crashes(self) -> int:
        return type(self).world.crashes

    # people -----------------------------------------------------------------------------------------------

    @initialize()
    def first_candidate(self):
        self.enrol(0)

    @rule(assessor=st.sampled_from([0, 1]))
    def enrol(self, assessor):
        user_id = next(_user_ids)
        with transaction(self.engine) as session:
            code = Assessment(Repository(session), self.banks).create_invite(
                "cg-310", ASSESSORS[assessor], date.today() + timedelta(days=60)).code
        self.candidates[user_id] = self.linked[user_id] = ASSESSORS[assessor]
        self._step(user_id, lambda: self.emulator.post_message(user_id, f"/start {code}", first_name=f"C{user_id}"))

    def _candidate(self, n: int) -> int:
        return list(self.candidates)[n % len(self.candidates)]

    @rule(n=st.integers(0, 50), saying=st.sampled_from(SAYINGS))
    def write(self, n, saying):
        self._write(self._candidate(n), saying)

    @rule(n=st.integers(0, 50), which=st.integers(0, 20))
    def press(self, n, which):
        self._press(self._candidate(n), which)

    @rule(n=st.integers(0, 50), command=st.sampled_from(["/review", "/continue", "/cancel", "/units"]))
    def command(self, n, command):
        user_id = self._candidate(n)
        self._step(user_id, lambda: self.emulator.post_message(user_id, command))

    @rule(a=st.sampled_from([0, 1]), command=st.sampled_from(["/queue", "/cohort"]))
    def assessor_command(self, a, command):
        self._step(ASSESSORS[a], lambda: self.emulator.post_message(ASSESSORS[a], command, first_name="Ann"))

    @rule(a=st.sampled_from([0, 1]), which=st.integers(0, 20))
    def assessor_press(self, a, which):
        self._press(ASSESSORS[a], which)

    @rule(a=st.sampled_from([0, 1]))
    def assessor_write(self, a):  # feedback or a follow-up question, when one is awaited
        self._write(ASSESSORS[a], "Please say who you tell.")

    # a few steps at once, so that examples reach submission and judging --------------------------------------

    @rule(n=st.integers(0, 50), saying=st.sampled_from(SAYINGS[:3]))
    def answer_and_done(self, n, saying):
        user_id = self._candidate(n)
        self._write(user_id, saying)
        for _ in range(4):  # Done, and Done after each probe (three at most), until the answer is saved
            before = len(self.emulator.sent_messages(user_id))
            if not self._press_labelled(user_id, "done"):
                break
            if not any("Reply in as many messages" in m.get("text", "")
                       for m in self.emulator.sent_messages(user_id)[before:]):
                break

    @rule(n=st.integers(0, 50), confirm=st.booleans())
    def review_and_submit(self, n, confirm):
        user_id = self._candidate(n)
        self._step(user_id, lambda: self.emulator.post_message(user_id, "/review"))
        if self._press_labelled(user_id, "submit:"):
            self._press_labelled(user_id, "confirm:" if confirm else "goback")

    @rule(a=st.sampled_from([0, 1]), verdict=st.sampled_from(["met:", "notyet:", "ask:"]))
    def judge(self, a, verdict):
        assessor = ASSESSORS[a]
        self._step(assessor, lambda: self.emulator.post_message(assessor, "/queue", first_name="Ann"))
        if self._press_labelled(assessor, "open:") and self._press_labelled(assessor, verdict) and verdict != "met:":
            self._write(assessor, "Please say who you tell.")

    def _press_labelled(self, user_id: int, prefix: str) -> bool:
        """Press the first button whose data starts with `prefix` on the newest message with buttons."""
        with_buttons = [m for m in self.emulator.sent_messages(user_id) if buttons(m)]
        found = [i for i, data in enumerate(buttons(with_buttons[-1])) if data.startswith(prefix)] if with_buttons else []
        if found:
            self._press(user_id, found[0])
        return bool(found)

    # what goes wrong ----------------------------------------------------------------------------------------

    @rule(code=st.sampled_from([500, 502, 429]), times=st.integers(1, 2),
          method=st.sampled_from(["sendMessage", "answerCallbackQuery", "getUpdates"]))
    def api_fails(self, code, times, method):
        description = "Too Many Requests: retry after 1" if code == 429 else "Bad Gateway"
        self.emulator.fail_next(method, times=times, error_code=code, description=description)

    @rule(ns=st.lists(st.integers(0, 50), min_size=1, max_size=3, unique=True), pause=st.sampled_from([0, 0.005, 0.02, 0.06]))
    def crash(self, ns, pause):
        """Messages from up to three candidates, then the bot dies wherever it is and a new one starts."""
        writers = {self._candidate(n) for n in ns}
        before = {user_id: len(self.emulator.sent_messages(user_id)) for user_id in writers}
        carried = {}
        for user_id in writers:
            carried[user_id] = self._post_token(user_id, SAYINGS[0])
        time.sleep(pause)
        self.bot.crash()
        type(self).world.crashes += 1
        self.bot.start()
        self._quiet()
        for user_id, token in carried.items():
            self._note_kept(user_id, token, before[user_id])

    # steps --------------------------------------------------------------------------------------------------

    def _post_token(self, user_id: int, saying: str) -> str:
        token = f"tok{user_id}x{next(self.tokens)}"
        update = self.emulator.post_message(user_id, f"{saying} {token}", first_name=f"C{user_id}")
        self.said[token] = update["update_id"]
        self.posted[user_id] = self.posted.get(user_id, 0) + 1
        return token

    def _write(self, user_id: int, saying: str) -> None:
        before = len(self.emulator.sent_messages(user_id))
        token = self._post_token(user_id, saying)
        self._quiet()
        self._note_kept(user_id, token, before)

    def _note_kept(self, user_id: int, token: str, before: int) -> None:
        replies = [m.get("text", "") for m in self.emulator.sent_messages(user_id)[before:]]
        if any(text.startswith(KEPT) for text in replies):
            self.kept.add(token)

    def _press(self, user_id: int, which: int) -> None:
        with_buttons = [m for m in self.emulator.sent_messages(user_id) if buttons(m)]
        if not with_buttons:
            return
        newest = with_buttons[-1]
        data = buttons(newest)[which % len(buttons(newest))]

        def press():
            update = self.emulator.press_button(user_id, newest["message_id"], data)
            self.queries.append(update["callback_query"]["id"])
            return update

        self._step(user_id, press)

    def _step(self, user_id: int, post) -> None:
        post()
        if user_id not in self.posted:
            self.posted[user_id] = 0
        self.posted[user_id] += 1
        self._quiet()

    def _quiet(self) -> None:
        """Until every update is taken, processed and answered, and every queued call made."""

        def settled():
            if self.bot.failed() is not None:
                raise AssertionError(f"the pipeline stopped: {self.bot.failed()!r}")
            if self.emulator.pending_updates():
                return False
            with transaction(self.engine) as session:
                unprocessed = session.exec(select(InboundUpdate).where(InboundUpdate.processed_at.is_(None))).first()
                waiting = session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).first()
            return unprocessed is None and waiting is None

        try:
            wait_until(settled, timeout=30, what="the bot to settle")
        except TimeoutError:
            with transaction(self.engine) as session:
                unprocessed = session.exec(select(InboundUpdate).where(InboundUpdate.processed_at.is_(None))).all()
                waiting = session.exec(select(OutboundMessage).where(OutboundMessage.status == "pending")).all()
                raise AssertionError(
                    f"not settled: {self.emulator.pending_updates()} updates with Telegram, unprocessed "
                    f"{[(u.update_id, u.attempts, u.last_error, u.payload) for u in unprocessed]}, pending "
                    f"{[(w.id, w.chat_id, w.method, w.attempts, w.next_attempt_at, w.claimed_by, w.claimed_until, w.last_error) for w in waiting]}"
                ) from None

    def teardown(self):
        self.emulator.clear_faults()  # none left over for the next example
        self._quiet()

    # what must always hold ----------------------------------------------------------------------------------

    @invariant()
    def nothing_crashed(self):
        with transaction(self.engine) as session:
            failed = session.exec(select(InboundUpdate.update_id, InboundUpdate.last_error)
                                  .where(InboundUpdate.last_error.is_not(None))).all()
        assert failed == [], f"updates failed: {failed}"

    @invariant()
    def no_lost_or_duplicated_answer(self):
        with transaction(self.engine) as session:
            parts = session.exec(
                select(AnswerPart.text, AnswerPart.update_id, AnswerPart.chat_id, Candidate.telegram_user_id)
                .join(Answer, AnswerPart.answer_id == Answer.id)
                .join(QuestionRun, Answer.run_id == QuestionRun.id)
                .join(Enrolment, QuestionRun.enrolment_id == Enrolment.id)
                .join(Candidate, Enrolment.candidate_id == Candidate.id)
            ).all()
            replies = [t for t in session.exec(select(AssessorQuestion.reply_text)) if t]
            feedback = [t for t in session.exec(select(Judgment.feedback)) if t]
        update_ids = [update_id for _, update_id, _, _ in parts]
        assert len(update_ids) == len(set(update_ids)), "one update made two answer parts"
        stored: dict[str, int] = {}
        for text, update_id, chat_id, owner in parts:
            for match in TOKEN.finditer(text or ""):
                token = match.group(0)
                stored[token] = stored.get(token, 0) + 1
                assert int(match.group(1)) == chat_id == owner, f"{token} filed in the answer of {owner}"
                assert self.said.get(token) == update_id
        assert all(n == 1 for n in stored.values()), f"kept twice: {[t for t, n in stored.items() if n > 1]}"
        lost = self.kept - set(stored)
        assert not lost, f"the bot said it kept {sorted(lost)}, but the evidence does not have them"
        elsewhere = {m.group(0) for text in replies + feedback for m in TOKEN.finditer(text)}
        assert not (set(stored) & elsewhere), "a message kept both as an answer and as a reply or feedback"

    @invariant()
    def no_message_to_the_wrong_person_and_none_twice(self):
        sent = self.emulator.sent_messages()
        by_chat: dict[int, list[str]] = {}
        for message in sent:
            to, text = message["chat"]["id"], message.get("text", "")
            by_chat.setdefault(to, []).append(text)
            assert not text.startswith("Sorry, something went wrong"), f"an apology to {to}"
            for match in TOKEN.finditer(text):
                author = int(match.group(1))
                linked = author == to or self.linked.get(author) == to or self.linked.get(to) == author
                assert linked, f"{match.group(0)} (from {author}) was shown to {to}"
        rows = outbox(self.engine)
        for row in rows:
            # answered just before a crash, its outcome not recorded: made again, and Telegram refuses it
            again = row.method == "answerCallbackQuery" and "query is too old" in (row.last_error or "")
            assert row.status == "sent" or (again and self.crashes), f"{row.method} to {row.chat_id}: {row.status} {row.last_error}"
        for chat_id, texts in by_chat.items():
            expected = [r.params["text"] for r in rows if r.chat_id == chat_id and r.method == "sendMessage"]
            extra = _extra_copies(expected, texts)
            assert extra is not None, f"chat {chat_id} got {texts}, the outbox has {expected}"
            # a reply whose sending a crash interrupted may come twice (at least once, never none); no other
            assert extra <= self.crashes, f"chat {chat_id}: {extra} replies sent twice after {self.crashes} crashes"

    @invariant()
    def every_update_answered(self):
        answered = self.emulator.callback_answers
        assert all(query in answered for query in self.queries), "a button's spinner was never stopped"
        for person, updates in self.posted.items():
            assert len(self.emulator.sent_messages(person)) >= updates, f"{person} sent {updates} and got fewer replies"


def _extra_copies(expected: list[str], got: list[str]) -> int | None:
    """How many of `got` are copies of the message just before them; None if `got` is not `expected` so."""
    extra, i = 0, 0
    for j, text in enumerate(expected):
        if i >= len(got) or got[i] != text:
            return None
        i += 1
        following = expected[j + 1] if j + 1 < len(expected) else None
        while i < len(got) and got[i] == text and following != text:
            extra, i = extra + 1, i + 1
    return extra if i == len(got) else None


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(delivery, "BACKOFF_FIRST_S", 0.05)
    monkeypatch.setattr(pipeline, "RETRY_PAUSE_S", 0.05)


def test_random_conversations_with_crashes_and_api_failures(emulator, database_url, engine, banks):
    with transaction(engine) as session:
        assessment = Assessment(Repository(session), banks)
        for n, telegram_id in enumerate(ASSESSORS):
            assessment.add_assessor(telegram_id, f"Assessor {n}")
    bot = BotInThread(emulator, database_url, banks)
    bot.start()
    Conversations.emulator, Conversations.engine, Conversations.database_url = emulator, engine, database_url
    Conversations.banks, Conversations.bot = banks, bot
    Conversations.world = SimpleNamespace(said={}, kept=set(), posted={}, queries=[], linked={}, crashes=0,
                                          tokens=itertools.count(1))
    try:
        # generate only, no shrinking: a replay over the shared bot and emulator is not exact
        run_state_machine_as_test(Conversations, settings=settings(
            max_examples=6, stateful_step_count=18, deadline=None, database=None, phases=[Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ))
    finally:
        bot.crash()
    with transaction(engine) as session:  # how far the examples went, all told (shown with -s)
        reached = {model.__name__: len(session.exec(select(model)).all()) for model in (AnswerPart, Answer, Judgment, AssessorQuestion)}
        reached["submissions"] = len(session.exec(select(Answer).where(Answer.submission_id.is_not(None))).all())
    print(f"\n{reached}, {Conversations.world.crashes} crashes, {len(Conversations.world.kept)} messages kept")
