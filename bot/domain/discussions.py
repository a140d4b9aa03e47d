"""Holding a professional discussion live (it was planned in bot/domain/discussion_plans.py).

From the assessor's start to its end, whatever either person sends is kept, in order, as a part of the discussion's
record (one answer version, method PD, in the enrolment's "discussion" run) with its time and author, and relayed
to the other. The assessor references criteria at the candidate's messages where they occur, notes things
privately (kept, never relayed), pauses, resumes and ends it. The record then freezes the criteria referenced, with
their words, and waits for the candidate to confirm it is a true record: that confirmation submits it (a submission
of kind "discussion"), so it counts in coverage with method PD and goes to the assessor's queue to be judged.
Everything is in the database: a restart in the middle loses nothing and the discussion carries on.

Here: holding it (start, relay, referencing, notes, pause). Ending it and its record are in
bot/domain/discussion_records.py; the outcomes of every step, in bot/domain/discussion_work.py.
"""

from sqlmodel import col, select

from bot.domain import records
from bot.domain.assessor_work import Denied
from bot.domain.bank_schema import UnitBank
from bot.domain.candidate_work import IncomingMessage, Person
from bot.domain.discussion_records import DiscussionRecords
from bot.domain.discussion_work import (
    HELD,
    DiscussionProblem,
    Held,
    NoteKept,
    OtherCriteria,
    Referenced,
    Relay,
    Started,
    referenced_on,
)
from bot.domain.sittings import Sittings
from bot.storage.ids import stored, stored_id
from bot.storage.models import AnswerPart, Assessor, Discussion, Enrolment

MAX_PARTS = 2000  # messages one discussion keeps (both people, notes included): far past any real one


class Discussions(DiscussionRecords):
    """Holding a discussion live; ending it and its record come from `DiscussionRecords`."""

    # who is in one
    def held_for(self, person: Person) -> Discussion | None:
        """The discussion the person (its assessor or its candidate) is in now, live or paused."""
        assessor = self.repo.assessor_by_telegram_id(person.user_id)
        if assessor is not None:
            found = self.repo.session.exec(
                select(Discussion).where(Discussion.assessor_id == assessor.id, col(Discussion.status).in_(HELD))
            ).first()
            if found is not None:
                return found
        candidate = self.repo.candidate_by_telegram_id(person.user_id)
        if candidate is None:
            return None
        return self.repo.session.exec(
            select(Discussion)
            .join(Enrolment, col(Discussion.enrolment_id) == col(Enrolment.id))
            .where(Enrolment.candidate_id == candidate.id, col(Discussion.status).in_(HELD))
        ).first()

    # starting, pausing
    def start(self, person: Person, discussion_id: int) -> Started | DiscussionProblem | Denied:
        found = self._own(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        assessor, discussion, enrolment = found
        if discussion.status != "planned":
            return DiscussionProblem.NOT_PLANNED
        candidate = self._candidate(enrolment)
        if self.held_for(person) is not None or self.held_for(Person(candidate.telegram_user_id, candidate.chat_id, "")):
            return DiscussionProblem.BUSY
        bank = self._bank(enrolment)
        answer = records.new_record(self.repo, self.banks, enrolment, self._asked(discussion, enrolment, []), self.now())
        discussion.answer_id, discussion.status = answer.id, "live"
        self._event(discussion, "started")
        self._audit(assessor, "pd_started", enrolment, {"discussion": f"PD{discussion.number}"})
        return Started(stored_id(discussion), f"PD{discussion.number}", candidate.name, candidate.chat_id, assessor.name,
                       [(ref, spec.text) for ref in discussion.criteria if (spec := bank.criterion(ref))])

    def hold(self, person: Person, discussion_id: int, paused: bool) -> Held | DiscussionProblem | Denied:
        """Pause (nothing is relayed or kept meanwhile) or resume."""
        found = self._own(person, discussion_id)
        if not isinstance(found, tuple):
            return found
        _, discussion, enrolment = found
        if discussion.status not in HELD:
            return DiscussionProblem.NOT_PLANNED
        if (discussion.status == "paused") != paused:
            discussion.status = "paused" if paused else "live"
            self._event(discussion, "paused" if paused else "resumed")
        return Held(stored_id(discussion), f"PD{discussion.number}", paused, self._candidate(enrolment).chat_id)

    # messages
    def take(self, person: Person, message: IncomingMessage) -> Relay | DiscussionProblem | None:
        """A message from someone in a live discussion: kept and relayed. None: they are in no discussion."""
        discussion = self.held_for(person)
        if discussion is None:
            return None
        if discussion.status == "paused":
            return DiscussionProblem.PAUSED
        if self.limits.too_long(message.text):
            return DiscussionProblem.TOO_LONG
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        candidate, assessor = self._candidate(enrolment), stored(self.repo.session, Assessor, discussion.assessor_id)
        from_assessor = person.user_id == assessor.telegram_user_id
        part = self._keep(discussion, message, "assessor" if from_assessor else "candidate")
        if part is None:
            return DiscussionProblem.FULL
        to_chat = candidate.chat_id if from_assessor else assessor.chat_id or assessor.telegram_user_id
        return Relay(
            discussion_id=stored_id(discussion), part_id=stored_id(part), to_chat_id=to_chat,
            from_chat_id=message.chat_id, message_id=message.message_id,
            author=assessor.name if from_assessor else candidate.name, text=message.text,
            attachment_kind=message.attachment.kind if message.attachment else None, to_assessor=not from_assessor,
            buttons=[] if from_assessor else self._buttons(discussion, part),
        )

    def note(self, person: Person, text: str) -> NoteKept | DiscussionProblem | Denied:
        """The assessor's private note, kept in the record at this point and never relayed."""
        discussion = self.held_for(person)
        assessor = self.assessor(person)
        if discussion is None or assessor is None or discussion.assessor_id != assessor.id:
            return Denied.NOTHING_AWAITED
        if self.limits.too_long(text):
            return DiscussionProblem.TOO_LONG
        kept = self._keep(discussion, None, "assessor", note=text)
        return NoteKept(f"PD{discussion.number}") if kept else DiscussionProblem.FULL

    def reference(self, person: Person, part_id: int, ref: str) -> Referenced | DiscussionProblem | Denied:
        """The assessor taps a criterion on one of the candidate's messages: that point evidences it."""
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        discussion, part, bank = found
        if bank.criterion(ref) is None:
            return Denied.NOT_YOURS
        already = ref in referenced_on(part)
        if not already:
            part.referenced = [*part.referenced, {"ref": ref, "at": self.now().isoformat()}]
            self.repo.add(part)
        return Referenced(part_id, ref, already, self._buttons(discussion, part))

    def other_criteria(self, person: Person, part_id: int) -> OtherCriteria | DiscussionProblem | Denied:
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        _, part, bank = found
        return OtherCriteria(part_id, [(c.ref, c.ref in referenced_on(part)) for c in bank.criteria if c.part_of is None])

    def buttons_of(self, person: Person, part_id: int) -> Referenced | DiscussionProblem | Denied:
        """The plan's buttons on a message again (back from "other…")."""
        found = self._own_part(person, part_id)
        if not isinstance(found, tuple):
            return found
        discussion, part, _ = found
        return Referenced(part_id, "", False, self._buttons(discussion, part))

    # helpers
    def _keep(self, discussion: Discussion, message: IncomingMessage | None, author: str, note: str | None = None):
        answer_id = stored_id(self._answer(discussion))
        parts = self.repo.parts(answer_id)
        if len(parts) >= MAX_PARTS:
            return None
        attachment = None
        if message is not None and message.attachment is not None:
            attachment = Sittings(self.repo, self.banks, self.now, self.limits).keep_attachment(message.attachment)
        return self.repo.add(AnswerPart(
            answer_id=answer_id, seq=len(parts) + 1, author=author, private=note is not None,
            text=note if note is not None else message.text if message else None,
            attachment_id=attachment.id if attachment else None,
            forwarded_from=message.forwarded_from.as_record() if message and message.forwarded_from else None,
            text_cleaned=bool(message and message.text_cleaned),
            chat_id=message.chat_id if message else 0, message_id=message.message_id if message else 0,
            update_id=message.update_id if message else None,
            sent_at=message.sent_at if message else self.now(), recorded_at=self.now(),
        ))

    def _buttons(self, discussion: Discussion, part: AnswerPart) -> list[tuple[str, bool]]:
        """The plan's criteria not yet referenced anywhere in the discussion, and those referenced on this message."""
        on_part = referenced_on(part)
        elsewhere = {ref for p in self.repo.parts(stored_id(self._answer(discussion))) if p.id != part.id for ref in referenced_on(p)}
        shown = [ref for ref in discussion.criteria if ref in on_part or ref not in elsewhere]
        shown += [ref for ref in on_part if ref not in shown]
        return [(ref, ref in on_part) for ref in shown]

    def _own_part(self, person: Person, part_id: int) -> tuple[Discussion, AnswerPart, UnitBank] | DiscussionProblem | Denied:
        """A candidate's message in a discussion this assessor holds now; anyone else's press changes nothing."""
        assessor = self.assessor(person)
        if assessor is None:
            return Denied.NOT_AN_ASSESSOR
        part = self.repo.session.get(AnswerPart, part_id)
        discussion = self.repo.session.exec(
            select(Discussion).where(Discussion.answer_id == (part.answer_id if part else -1))
        ).first()
        if part is None or discussion is None or discussion.assessor_id != assessor.id or part.author != "candidate":
            return Denied.NOT_YOURS
        if discussion.status not in HELD:
            return DiscussionProblem.NOT_PLANNED
        enrolment = stored(self.repo.session, Enrolment, discussion.enrolment_id)
        return discussion, part, self._bank(enrolment)
