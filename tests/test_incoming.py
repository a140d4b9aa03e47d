"""Reading updates as they really come, with python-telegram-bot's own classes: only the sender's own private
chat counts, forwarded messages keep their origin, and text a database cannot hold is made storable, marked."""

from datetime import UTC, datetime

import pytest
from telegram import (
    CallbackQuery,
    Chat,
    Message,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
    User,
)

from bot.domain.sittings import ForwardOrigin
from bot.storage.db import transaction
from bot.storage.models import utcnow
from bot.storage.updates import pending_updates, store_updates
from bot.telegram.incoming import EDITED_MESSAGE, NEW_MESSAGE, OwnChatButtonHandler, cleaned, incoming_of, person_of

SAM = User(501, "Sam", False, last_name="Candidate")
KIM = User(502, "Kim", False)
WHEN = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def _private(user: User) -> Chat:
    return Chat(user.id, Chat.PRIVATE, first_name=user.first_name)


GROUP = Chat(-1001234, Chat.SUPERGROUP, title="Team chat")


def _message(chat: Chat, text: str = "hello", sender: User = SAM, **extra) -> Message:
    return Message(7, WHEN, chat, from_user=sender, text=text, **extra)


def _update(**body) -> Update:
    return Update(99, **body)


def _press(chat: Chat, sender: User = SAM) -> Update:
    query = CallbackQuery("q1", sender, "instance", message=_message(chat, "Question 1", sender=User(1, "Bot", True)),
                          data="done")
    return _update(callback_query=query)


def test_only_messages_in_the_senders_own_private_chat_are_handled():
    assert NEW_MESSAGE.check_update(_update(message=_message(_private(SAM))))
    assert not NEW_MESSAGE.check_update(_update(message=_message(GROUP)))
    assert not NEW_MESSAGE.check_update(_update(message=_message(_private(KIM))))  # a forged chat
    assert not NEW_MESSAGE.check_update(_update(edited_message=_message(_private(SAM))))
    assert EDITED_MESSAGE.check_update(_update(edited_message=_message(_private(SAM))))
    assert not EDITED_MESSAGE.check_update(_update(edited_message=_message(GROUP)))


def test_only_buttons_pressed_in_the_pressers_own_chat_are_handled():
    handler = OwnChatButtonHandler(lambda update, context: None, pattern="^done$")
    assert handler.check_update(_press(_private(SAM)))
    assert not handler.check_update(_press(_private(KIM)))  # a forged press naming another person's chat
    assert not handler.check_update(_press(GROUP))
    without_message = _update(callback_query=CallbackQuery("q2", SAM, "instance", inline_message_id="i1", data="done"))
    assert not handler.check_update(without_message)
    assert not OwnChatButtonHandler(lambda u, c: None, pattern="^skip$").check_update(_press(_private(SAM)))


def test_a_persons_chat_is_their_own_user_id_never_the_chat_an_update_names():
    assert person_of(_press(_private(KIM))).chat_id == SAM.id
    assert person_of(_press(GROUP)).chat_id == SAM.id
    assert person_of(_update(message=_message(_private(SAM)))) == person_of(_press(GROUP))


@pytest.mark.parametrize(
    "text, storable",
    [
        ("plain words, tabs\tand\nnew lines\r\n", "plain words, tabs\tand\nnew lines\r\n"),
        ("NUL\x00here", "NUL\u2400here"),
        ("bell\x07 escape\x1b unit\x1f", "bell\u2407 escape\u241b unit\u241f"),
        ("a lone \ud800 surrogate", "a lone \ufffd surrogate"),
        ("emoji \U0001f600 and Welsh ŵ stay", "emoji \U0001f600 and Welsh ŵ stay"),
    ],
)
def test_text_no_database_can_hold_gets_visible_stand_ins_and_a_mark(text, storable):
    assert cleaned(text) == (storable, text != storable)
    assert cleaned(None) == (None, False)


def test_an_incoming_message_is_cleaned_once_and_marked():
    message = _message(_private(SAM), "We log it\x00 on the CRM")
    incoming = incoming_of(_update(message=message), message)
    assert (incoming.text, incoming.text_cleaned, incoming.forwarded_from) == ("We log it\u2400 on the CRM", True, None)
    named = User(501, "Sam\x00", False)
    assert person_of(_update(message=_message(_private(named), sender=named))).name == "Sam\u2400"


@pytest.mark.parametrize(
    "origin, expected",
    [
        (MessageOriginUser(WHEN, User(77, "Jo", False, last_name="Bloggs")), ForwardOrigin("user", "Jo Bloggs", WHEN)),
        (MessageOriginHiddenUser(WHEN, "Hidden Hal"), ForwardOrigin("hidden_user", "Hidden Hal", WHEN)),
        (MessageOriginChat(WHEN, Chat(-5, Chat.GROUP, title="Shift team")), ForwardOrigin("chat", "Shift team", WHEN)),
        (MessageOriginChannel(WHEN, Chat(-1009, Chat.CHANNEL, title="Money Tips"), 42),
         ForwardOrigin("channel", "Money Tips", WHEN)),
    ],
)
def test_a_forwarded_message_keeps_its_origin(origin, expected):
    message = _message(_private(SAM), "what my manager wrote", forward_origin=origin)
    incoming = incoming_of(_update(message=message), message)
    assert incoming.forwarded_from == expected and incoming.text == "what my manager wrote"
    assert expected.as_record() == {"kind": expected.kind, "name": expected.name, "date": "2026-07-01T09:30:00+00:00"}


def test_the_raw_update_is_stored_and_read_back_with_a_nul_and_a_lone_surrogate(engine):
    raw = {"update_id": 41, "message": {"message_id": 3, "text": "before\x00after \ud800 end", "chat": {"id": 501}}}
    with transaction(engine) as session:
        store_updates(session, [raw])
    with transaction(engine) as session:
        assert pending_updates(session, utcnow()) == [(41, raw)]
