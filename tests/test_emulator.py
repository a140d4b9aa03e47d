"""The Bot API emulator, driven by the real python-telegram-bot stack."""

import asyncio
import io
import subprocess
import sys
import time
from datetime import timedelta

import aiohttp
import httpx
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
)
from telegram.error import BadRequest, Conflict, EndPointNotFound, Forbidden, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.devtools.chat import HINT, run_terminal_chat
from bot.devtools.emulator import MAX_DOWNLOAD, BotApiEmulator, EmulatorThread

TOKEN = "123456:TEST-TOKEN"
USER = 4242
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("Skip", callback_data="skip"), InlineKeyboardButton("Done", callback_data="done")]]
)


@pytest_asyncio.fixture
async def emu():
    emulator = BotApiEmulator()
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu):
    async with Bot(TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url) as real_bot:
        yield real_bot


def _application(emu) -> Application:
    return Application.builder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()


@pytest.mark.asyncio
async def test_get_me(emu, bot):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456, "nvqbot_demo_bot", True)
    assert emu.tokens == [TOKEN]
    assert emu.base_url == f"http://127.0.0.1:{emu.port}/bot" and emu.port > 0


@pytest.mark.asyncio
async def test_send_message_is_recorded_with_its_keyboard(emu, bot):
    first = await bot.send_message(USER, "<b>Question 1</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    second = await bot.send_message(USER, "Question 2")
    other = await bot.send_message(777, "hello")

    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.reply_markup == KEYBOARD and first.from_user.is_bot and first.chat.id == USER
    sent = emu.sent_messages(USER)
    assert [m["text"] for m in sent] == ["<b>Question 1</b>", "Question 2"]
    assert sent[0]["reply_markup"]["inline_keyboard"][0][1] == {"text": "Done", "callback_data": "done"}
    assert "reply_markup" not in sent[1]
    assert [c["method"] for c in emu.calls] == ["getMe", "sendMessage", "sendMessage", "sendMessage"]
    assert emu.calls[1]["params"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Skip"


@pytest.mark.asyncio
async def test_edit_message_text_replaces_text_and_drops_keyboard(emu, bot):
    message = await bot.send_message(USER, "Pick one", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Picked", chat_id=USER, message_id=message.message_id)
    assert edited.text == "Picked" and edited.edit_date is not None
    [stored] = emu.sent_messages(USER)
    assert stored["text"] == "Picked" and "edit_date" in stored
    assert "reply_markup" not in stored  # Telegram drops the keyboard on an edit without one
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Picked", chat_id=USER, message_id=message.message_id)
    await bot.edit_message_reply_markup(chat_id=USER, message_id=message.message_id, reply_markup=KEYBOARD)
    assert emu.sent_messages(USER)[0]["reply_markup"] == KEYBOARD.to_dict()
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=99)


@pytest.mark.asyncio
async def test_get_updates_redelivers_until_confirmed(emu, bot):
    for text in ("one", "two", "three"):
        await emu.post_message(USER, text)

    updates = await bot.get_updates()
    assert [(u.update_id, u.message.text) for u in updates] == [(1, "one"), (2, "two"), (3, "three")]
    assert [u.update_id for u in await bot.get_updates()] == [1, 2, 3]  # nothing confirmed yet

    assert [u.message.text for u in await bot.get_updates(offset=3)] == ["three"]
    assert emu.pending_updates() == 1
    assert await bot.get_updates(offset=4) == ()
    assert emu.pending_updates() == 0
    await emu.post_message(USER, "four")
    assert [u.update_id for u in await bot.get_updates(offset=4, limit=1)] == [4]


@pytest.mark.asyncio
async def test_long_poll_returns_when_a_message_arrives(emu, bot):
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9  # an empty long poll really waits

    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.3)
    assert not poll.done()
    started = time.monotonic()
    await emu.post_message(USER, "hello")
    updates = await asyncio.wait_for(poll, 3)
    assert time.monotonic() - started < 1
    assert [u.message.text for u in updates] == ["hello"]


@pytest.mark.asyncio
@pytest.mark.parametrize("text", ["/start ABC123", "/start@nvqbot_demo_bot ABC123"])
async def test_start_code_reaches_command_handler_with_args(emu, text):
    seen = asyncio.get_running_loop().create_future()

    async def start(update, context):
        seen.set_result((update.effective_user.id, update.effective_user.first_name, context.args))
        await update.message.reply_text("Welcome")

    app = _application(emu)
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await emu.post_message(USER, text, first_name="Sam")
            assert await asyncio.wait_for(seen, 5) == (USER, "Sam", ["ABC123"])
            [reply] = await emu.wait_for_messages(USER, 1)
            assert reply["text"] == "Welcome" and reply["message_id"] == 2  # user's message was 1
        finally:
            await app.updater.stop()
            await app.stop()


@pytest.mark.asyncio
async def test_callback_query_and_answer(emu, bot):
    question = await bot.send_message(USER, "Ready?", reply_markup=KEYBOARD)
    pressed = await emu.press_button(USER, question.message_id, "done")

    [update] = await bot.get_updates()
    query = update.callback_query
    assert query.id == pressed["callback_query"]["id"]
    assert (query.data, query.from_user.id, query.message.message_id) == ("done", USER, question.message_id)
    assert query.message.reply_markup == KEYBOARD

    assert await query.answer("Saved") is True
    assert emu.callback_answers[query.id]["text"] == "Saved"
    assert [c["params"]["callback_query_id"] for c in emu.calls if c["method"] == "answerCallbackQuery"] == [query.id]
    with pytest.raises(BadRequest, match="(?i)query ID is invalid"):
        await query.answer("twice")
    with pytest.raises(ValueError, match="no message 99"):
        await emu.press_button(USER, 99, "done")


@pytest.mark.asyncio
async def test_send_document_upload_is_recorded_with_bytes(emu, bot):
    content = b"name,score\nSam,9\n"
    message = await bot.send_document(USER, document=content, filename="report.csv", caption="Your report")

    assert message.document.file_name == "report.csv" and message.document.file_size == len(content)
    assert message.caption == "Your report"
    upload = emu.calls[-1]["params"]["document"]
    assert (upload.file_name, upload.content) == ("report.csv", content)
    assert emu.file_bytes(message.document.file_id) == content
    assert emu.sent_messages(USER)[0]["document"]["file_id"] == message.document.file_id


@pytest.mark.asyncio
async def test_files_users_send_can_be_downloaded(emu, bot, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # durations as timedelta, without PTB's deprecation warning
    voice_bytes = b"OggS\x00\x02voice-bytes"
    await emu.post_voice(USER, voice_bytes, duration=7)
    await emu.post_document(USER, b"%PDF-1.4 evidence", "evidence.pdf", "application/pdf")

    voice_update, document_update = await bot.get_updates()
    voice = voice_update.message.voice
    assert voice.duration == timedelta(seconds=7)
    voice_file = await voice.get_file()
    assert voice_file.file_path.startswith(emu.base_file_url)
    assert await voice_file.download_as_bytearray() == bytearray(voice_bytes)

    document = document_update.message.document
    assert (document.file_name, document.mime_type) == ("evidence.pdf", "application/pdf")
    assert await (await document.get_file()).download_as_bytearray() == bytearray(b"%PDF-1.4 evidence")
    with pytest.raises(BadRequest, match="(?i)invalid file_id"):
        await bot.get_file("no-such-file")


@pytest.mark.asyncio
async def test_other_user_messages_parse_in_ptb(emu, bot):
    first = await emu.post_message(USER, "my answr")
    await emu.post_photo(USER, b"\xff\xd8jpeg", caption="site photo")
    await emu.post_sticker(USER)
    await emu.post_location(USER, 51.5, -0.12)
    edit = await emu.edit_message(USER, first["message"]["message_id"], "my answer")

    message, photo, sticker, location, edited = await bot.get_updates()
    assert message.message.text == "my answr"  # queued before the edit, unchanged
    assert photo.message.photo[0].file_size == 6 and photo.message.caption == "site photo"
    assert sticker.message.sticker.emoji
    assert (location.message.location.latitude, location.message.location.longitude) == (51.5, -0.12)
    assert edited.edited_message.message_id == message.message.message_id == edit["edited_message"]["message_id"]
    assert edited.edited_message.text == "my answer"
    assert [u.effective_message.message_id for u in (message, photo, sticker, location)] == [1, 2, 3, 4]


@pytest.mark.asyncio
async def test_fail_next_makes_ptb_raise_retry_after(emu, bot, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    emu.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(USER, "hello")
    assert raised.value.retry_after == timedelta(seconds=3)
    await bot.send_message(USER, "hello")  # only the next call failed
    assert [m["text"] for m in emu.sent_messages(USER)] == ["hello"]
    assert [c["error"] for c in emu.calls if c["method"] == "sendMessage"] == ["Too Many Requests: retry after 1", None]

    emu.fail_next("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user", chat_id=999)
    await bot.send_message(USER, "still fine")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(999, "hi")


@pytest.mark.asyncio
async def test_api_errors(emu, bot):
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await bot.send_message(USER, "")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, "score <5", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(USER, "<b>bold", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            USER, "x", reply_markup=InlineKeyboardMarkup.from_button(InlineKeyboardButton("b", callback_data="d" * 65))
        )
    assert emu.sent_messages() == []


@pytest.mark.asyncio
async def test_commands_webhook_and_request_formats(emu, bot):
    await bot.set_my_commands([("start", "Begin"), ("help", "How it works")])
    assert [(c.command, c.description) for c in await bot.get_my_commands()] == [
        ("start", "Begin"),
        ("help", "How it works"),
    ]
    await emu.post_message(USER, "queued")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert emu.pending_updates() == 0

    async with httpx.AsyncClient(base_url=f"{emu.base_url}{TOKEN}") as client:
        by_query = (await client.get("/getMe")).json()
        by_json = (
            await client.post(
                "/sendMessage",
                json={
                    "chat_id": USER,
                    "text": "json",
                    "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
                },
            )
        ).json()
        missing = await client.post("/sendMessage", data={"text": "no chat"})
    assert by_query["ok"] and by_query["result"]["username"] == "nvqbot_demo_bot"
    assert by_json["ok"] and by_json["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    assert missing.status_code == 400 and missing.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: chat_id is empty",
    }


@pytest.mark.asyncio
async def test_command_menus_are_kept_per_scope_and_a_chat_falls_back_to_the_default(emu, bot):
    await bot.set_my_commands([("start", "Begin"), ("help", "How it works")])
    await bot.set_my_commands([("queue", "Work to judge")], scope=BotCommandScopeChat(USER))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(USER))] == ["queue"]
    assert await bot.get_my_commands(scope=BotCommandScopeChat(777)) == ()  # getMyCommands: that scope's own list
    assert [c["command"] for c in emu.menu_for(USER)] == ["queue"]  # what each person sees in their chat
    assert [c["command"] for c in emu.menu_for(777)] == ["start", "help"]
    await bot.set_my_commands([("units", "Your units")], scope=BotCommandScopeAllPrivateChats())
    assert [c["command"] for c in emu.menu_for(777)] == ["units"]
    await bot.set_my_commands([], scope=BotCommandScopeChat(USER))  # no commands: the chat's own list is gone
    assert [c["command"] for c in emu.menu_for(USER)] == ["units"]
    await bot.set_my_commands([(" /help ", " How it works ")], scope=BotCommandScopeChat(USER))  # trimmed, as Telegram
    assert emu.menu_for(USER) == [{"command": "help", "description": "How it works"}]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "commands, scope, error",
    [
        ([("Queue", "Capital letters")], None, "BOT_COMMAND_INVALID"),
        ([("pd-plan", "A hyphen")], None, "BOT_COMMAND_INVALID"),
        ([("x" * 33, "Too long")], None, "must not exceed 32"),
        ([("queue", " ")], None, "description must be non-empty"),
        ([("queue", "d" * 257)], None, "description length must not exceed 256"),
        ([(f"c{n}", "d") for n in range(101)], None, "BOT_COMMANDS_TOO_MUCH"),
        ([("queue", "d")], {"type": "chat"}, 'find field "chat_id"'),
        ([("queue", "d")], {"type": "chat", "chat_id": ""}, "Empty chat_id"),
        ([("queue", "d")], {"type": "everyone"}, "Unsupported type"),
    ],
)
async def test_set_my_commands_refuses_what_telegram_refuses(emu, bot, commands, scope, error):
    params = {"commands": [{"command": c, "description": d} for c, d in commands], **({"scope": scope} if scope else {})}
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.do_api_request("setMyCommands", api_kwargs=params)
    assert emu.menu_for(USER) == []
    await bot.set_my_commands([(f"c{n}", "d" * 256) for n in range(100)], scope=BotCommandScopeChat(USER))  # the most
    assert len(emu.menu_for(USER)) == 100


@pytest.mark.asyncio
async def test_many_updates_and_concurrent_requests(emu):
    await asyncio.gather(*(emu.post_message(USER + n % 5, f"m{n}") for n in range(250)))
    async with Bot(TOKEN, base_url=emu.base_url, request=HTTPXRequest(connection_pool_size=20)) as busy_bot:
        received, offset = [], None
        while len(received) < 250:
            batch = await busy_bot.get_updates(offset=offset, timeout=1)
            assert 0 < len(batch) <= 100
            received += batch
            offset = batch[-1].update_id + 1
        assert [u.update_id for u in received] == list(range(1, 251))

        sent = await asyncio.gather(*(busy_bot.send_message(USER, f"r{n}") for n in range(40)))
    # The user's 50 messages in this chat took ids 1..50.
    assert sorted(m.message_id for m in sent) == list(range(51, 91))


@pytest.mark.asyncio
async def test_control_api(emu, bot):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.control_url}/message", json={"user_id": USER, "text": "/start X1", "first_name": "Ana"}
        ) as r:
            assert r.status == 200 and (await r.json())["message"]["text"] == "/start X1"
        [update] = await bot.get_updates()
        assert (update.message.text, update.effective_user.first_name) == ("/start X1", "Ana")

        await bot.send_message(USER, "<i>Hi</i> Ana", parse_mode="HTML", reply_markup=KEYBOARD)
        async with http.get(f"{emu.control_url}/sent", params={"chat_id": USER, "after": 0}) as r:
            sent = await r.json()
        [entry] = sent["messages"]
        assert (entry["index"], entry["text"], entry["message_id"]) == (1, "<i>Hi</i> Ana", 2)
        assert [b["text"] for b in entry["keyboard"][0]] == ["Skip", "Done"]
        async with http.get(f"{emu.control_url}/sent", params={"chat_id": USER, "after": 1}) as r:
            assert (await r.json())["messages"] == []
        await bot.edit_message_text("<i>Hi</i> again", chat_id=USER, message_id=2, parse_mode="HTML")
        async with http.get(f"{emu.control_url}/sent", params={"chat_id": USER, "changed_after": sent["rev"]}) as r:
            [entry] = (await r.json())["messages"]
        assert (entry["text"], entry["edited"], entry["keyboard"]) == ("<i>Hi</i> again", True, [])

        async with http.post(
            f"{emu.control_url}/callback", json={"user_id": USER, "message_id": 2, "data": "skip"}
        ) as r:
            assert r.status == 200
        [update] = await bot.get_updates(offset=update.update_id + 1)
        assert (update.callback_query.data, update.callback_query.message.text) == ("skip", "<i>Hi</i> again")
        async with http.post(f"{emu.control_url}/callback", json={"user_id": USER, "message_id": 9, "data": "x"}) as r:
            assert r.status == 400

        async with http.get(f"{emu.control_url}/calls", params={"method": "sendMessage"}) as r:
            calls = (await r.json())["calls"]
        assert [c["params"]["text"] for c in calls] == ["<i>Hi</i> Ana"]


ECHO_BOT = """
import sys
from telegram.ext import Application, MessageHandler, filters

async def echo(update, context):
    await update.message.reply_text("echo: " + update.message.text)

app = Application.builder().token(sys.argv[1]).base_url(sys.argv[2]).build()
app.add_handler(MessageHandler(filters.TEXT, echo))
app.run_polling(poll_interval=0, timeout=1)
"""


def test_emulator_thread_serves_a_bot_in_another_process():
    with EmulatorThread() as emu:
        bot_process = subprocess.Popen([sys.executable, "-c", ECHO_BOT, TOKEN, emu.base_url])
        try:
            emu.post_message(USER, "hello")
            [reply] = emu.wait_for_messages(USER, 1, timeout=30)
            assert reply["text"] == "echo: hello"
            with pytest.raises(TimeoutError, match="got 1"):
                emu.wait_for_messages(USER, 2, timeout=0.3)
        finally:
            bot_process.terminate()
            bot_process.wait(15)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{emu.base_url}{TOKEN}/getMe")


@pytest.mark.asyncio
async def test_terminal_chat(emu):
    async def hello(update, context):
        await update.message.reply_text("<b>Hello</b> &amp; welcome\nready?", parse_mode="HTML", reply_markup=KEYBOARD)

    async def pressed(update, context):
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"You chose {update.callback_query.data}")

    app = _application(emu)
    app.add_handler(MessageHandler(filters.TEXT, hello))
    app.add_handler(CallbackQueryHandler(pressed))
    out = io.StringIO()
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await asyncio.wait_for(
                run_terminal_chat(
                    emu.control_url, USER, "Sam", first_text="hi", stdin=io.StringIO(":2\n:7\n"), stdout=out
                ),
                20,
            )
        finally:
            await app.updater.stop()
            await app.stop()

    lines = out.getvalue().splitlines()
    assert lines[0] == HINT
    assert lines.count("bot> Hello & welcome") == 1
    assert lines.count("     [1] Skip  [2] Done") == 1
    assert lines.count("bot (edited)> You chose done") == 1
    assert "(there is no button 7 to press)" in lines  # the edit took the keyboard away
    assert emu.sent_messages(USER)[0]["text"] == "You chose done"


@pytest.mark.asyncio
async def test_a_second_get_updates_while_one_is_open_gets_409_conflict(emu, bot):
    async with Bot(TOKEN, base_url=emu.base_url) as second:
        first_poll = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.3)
        with pytest.raises(Conflict, match="terminated by other getUpdates request; make sure that only one bot"):
            await second.get_updates(timeout=0)
        await emu.post_message(USER, "hello")
        assert [u.message.text for u in await asyncio.wait_for(first_poll, 3)] == ["hello"]
        assert [u.message.text for u in await second.get_updates(timeout=0)] == ["hello"]  # the poll is closed

        abandoned = asyncio.create_task(bot.get_updates(offset=2, timeout=10))  # a bot that dies mid poll
        await asyncio.sleep(0.3)
        abandoned.cancel()
        await asyncio.sleep(0.3)
        assert await second.get_updates(offset=2, timeout=0) == ()  # its poll ended with its connection
    async with Bot("999:OTHER", base_url=emu.base_url) as other_bot:  # conflicts are per bot
        open_poll = asyncio.create_task(bot.get_updates(offset=2, timeout=1))
        await asyncio.sleep(0.2)
        assert await other_bot.get_updates(timeout=0) == ()
        await open_poll
    assert [c["error"] for c in emu.calls if c["method"] == "getUpdates"].count(
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running") == 1


@pytest.mark.asyncio
async def test_delay_next_makes_calls_hang_and_a_download_can_be_slow(emu, bot):
    emu.delay_next("sendMessage", 0.6, chat_id=USER)
    started = time.monotonic()
    await bot.send_message(777, "another chat: not delayed")
    assert time.monotonic() - started < 0.4
    await bot.send_message(USER, "slow")
    assert time.monotonic() - started >= 0.6
    started = time.monotonic()
    await bot.send_message(USER, "only the next one was")
    assert time.monotonic() - started < 0.4

    update = await emu.post_document(USER, b"%PDF slow evidence", "slow.pdf", "application/pdf")
    file_id = update["message"]["document"]["file_id"]
    emu.delay_next("getFile", 0.5)
    emu.delay_download(file_id, 0.7)
    started = time.monotonic()
    telegram_file = await bot.get_file(file_id)
    assert time.monotonic() - started >= 0.5
    started = time.monotonic()
    assert await telegram_file.download_as_bytearray(read_timeout=5) == bytearray(b"%PDF slow evidence")
    assert time.monotonic() - started >= 0.7
    assert emu.downloads == [telegram_file.file_path.rsplit(f"{TOKEN}/", 1)[1]]

    emu.delay_next("sendMessage", 5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "given up by the client", read_timeout=0.3)
    await asyncio.sleep(0.2)
    assert "given up by the client" not in [m["text"] for m in emu.sent_messages(USER)]  # dropped with its client


@pytest.mark.asyncio
async def test_get_file_refuses_a_file_over_20_mb(emu, bot):
    big = await emu.post_document(USER, b"\0" * (MAX_DOWNLOAD + 1), "site-video.mp4", "video/mp4")
    largest = await emu.post_document(USER, b"\0" * MAX_DOWNLOAD, "just-fits.mp4", "video/mp4")
    with pytest.raises(BadRequest, match="^File is too big$"):
        await bot.get_file(big["message"]["document"]["file_id"])
    assert (await bot.get_file(largest["message"]["document"]["file_id"])).file_size == MAX_DOWNLOAD
    assert emu.calls[-2]["error"] == "Bad Request: file is too big"


@pytest.mark.asyncio
async def test_forwarded_group_and_forged_chat_messages_and_buttons_parse_in_ptb(emu, bot):
    day = 1_780_000_000
    for kind in ("user", "hidden_user", "chat", "channel"):
        await emu.post_forwarded(USER, f"from a {kind}", kind=kind, name="Jo Bloggs", date=day)
    await emu.post_message(USER, "in the group", chat_id=-1001234)
    await emu.post_message(USER, "in someone else's chat", chat_id=999)
    mine = await bot.send_message(USER, "Question 1", reply_markup=KEYBOARD)
    theirs = await bot.send_message(999, "Their question", reply_markup=KEYBOARD)
    await emu.press_button(USER, theirs.message_id, "done", chat_id=999)
    await emu.press_button(USER, 77, "done", chat_id=-1001234)
    await emu.press_button(USER, mine.message_id, "skip")

    *forwards, group, forged, their_press, group_press, own_press = await bot.get_updates()
    origins = [u.message.forward_origin for u in forwards]
    kinds = [MessageOriginUser, MessageOriginHiddenUser, MessageOriginChat, MessageOriginChannel]
    assert [type(o) for o in origins] == kinds
    assert [origins[0].sender_user.full_name, origins[1].sender_user_name, origins[2].sender_chat.title,
            origins[3].chat.title] == ["Jo Bloggs"] * 4
    assert {o.date.timestamp() for o in origins} == {day} and forwards[0].message.chat.id == USER

    def where(message):
        return message.chat.type, message.chat.id, message.from_user.id

    assert where(group.message) == ("supergroup", -1001234, USER)
    assert where(forged.message) == ("private", 999, USER)
    their = their_press.callback_query
    assert (their.message.chat.id, their.message.text, their.from_user.id) == (999, "Their question", USER)
    assert where(group_press.callback_query.message)[:2] == ("supergroup", -1001234)
    assert group_press.callback_query.from_user.id == USER
    assert own_press.callback_query.message.chat.id == USER
    with pytest.raises(ValueError, match="no message 99"):
        await emu.press_button(USER, 99, "done")


@pytest.mark.asyncio
async def test_a_nul_and_other_control_characters_reach_the_bot_as_sent(emu, bot):
    await emu.post_message(USER, "before\x00after\x07 \ud800 end")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{emu.control_url}/message", json={"user_id": USER, "text": "over\u0000control"}) as r:
            assert r.status == 200
    direct, controlled = await bot.get_updates()
    assert direct.message.text == "before\x00after\x07 \ud800 end"
    assert controlled.message.text == "over\x00control"


@pytest.mark.asyncio
async def test_the_control_api_and_the_thread_post_forwarded_group_and_forged_updates(emu, bot):
    channel = {"kind": "channel", "name": "Money Tips", "date": 1_780_000_000}
    pigeon = {"kind": "pigeon", "name": "a", "date": 1}
    async with aiohttp.ClientSession() as http:
        for path, body, status in [
            ("message", {"user_id": USER, "text": "tip", "forwarded": channel}, 200),
            ("message", {"user_id": USER, "text": "hi all", "chat_id": -5}, 200),
            ("callback", {"user_id": USER, "message_id": 3, "data": "done", "chat_id": 999}, 200),
            ("message", {"user_id": USER, "text": "x", "forwarded": pigeon}, 400),
        ]:
            async with http.post(f"{emu.control_url}/{path}", json=body) as r:
                assert r.status == status, await r.text()
    tip, group, press = await bot.get_updates()
    assert tip.message.forward_origin.chat.title == "Money Tips"
    assert (group.message.chat.type, group.message.chat.id) == ("group", -5)
    assert press.callback_query.message.chat.id == 999

    with EmulatorThread() as thread:
        thread.post_forwarded(USER, "what my manager said", kind="hidden_user", name="A Manager")
        thread.post_message(USER, "group hello", chat_id=-42)
        thread.press_button(USER, 1, "done", chat_id=-42)
        thread.delay_next("getMyCommands", 0.3)
        async with Bot(TOKEN, base_url=thread.base_url) as thread_bot:
            started = time.monotonic()
            await thread_bot.get_my_commands()
            assert time.monotonic() - started >= 0.3
            forwarded, in_group, pressed = await thread_bot.get_updates()
        assert forwarded.message.forward_origin.sender_user_name == "A Manager"
        assert in_group.message.chat.id == pressed.callback_query.message.chat.id == -42
