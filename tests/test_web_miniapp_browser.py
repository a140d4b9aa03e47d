"""The console as a Mini App inside Telegram Web, in a real browser (Debian's Chromium, driven by Playwright), served
by the real bot against the emulator.

Telegram Web shows a Mini App in an iframe of web.telegram.org, a site other than the console's, and hands it its
launch parameters (initData, the theme) in the URL fragment. Here Playwright serves that page at
https://web.telegram.org itself, and a stand-in for telegram.org's script (tests/telegram_web_app.js) reads the
fragment as Telegram's does. The test signs in through the frame, sees the cohort themed in Telegram's colours,
asks the candidate a follow-up question from a form in the frame, and has the records sent to the assessor's chat
(a download may go nowhere inside a Mini App); when the session ends, the next page signs in again by itself.
The session cookie has to be stored and
sent in a cross-site frame, which a SameSite=Lax cookie, or an unpartitioned third-party one, is not.
"""

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from sqlmodel import col, select

from bot.storage.db import transaction
from bot.storage.models import WebSession
from bot.web.auth import sign_init_data
from tests.browser import chromium  # noqa: F401  (a fixture)
from tests.phone import wait_until
from tests.test_assessor_flows import ANN
from tests.test_web_bot import served  # noqa: F401  (a fixture)
from tests.test_web_browser import TOKEN

pytestmark = pytest.mark.slow
TELEGRAM_WEB = "https://web.telegram.org/k/"
TELEGRAM_SCRIPT = "https://telegram.org/js/telegram-web-app.js"
STAND_IN = Path(__file__).with_name("telegram_web_app.js")
THEME = {"bg_color": "#212121", "text_color": "#ffffff", "hint_color": "#aaaaaa", "link_color": "#8774e1",
         "button_color": "#8774e1", "button_text_color": "#ffffff", "secondary_bg_color": "#181818"}


def launch_fragment(user_id: int, auth_date: int) -> str:
    init_data = sign_init_data({"auth_date": str(auth_date), "query_id": "AAE",
                                "user": json.dumps({"id": user_id, "first_name": "Ann"})}, TOKEN)
    return urlencode({"tgWebAppData": init_data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "weba",
                      "tgWebAppThemeParams": json.dumps(THEME)}, quote_via=quote)


def telegram_web_page(app_url: str) -> str:
    """Telegram Web's side: the Mini App's frame, and the events the Mini App posts to it."""
    return ('<!doctype html><html><head><title>Telegram Web</title></head><body>'
            '<script>window.events = []; addEventListener("message", function (e) {'
            ' window.events.push(JSON.parse(e.data).eventType); });</script>'
            f'<iframe id="app" title="nvqbot console" src="{app_url}" width="400" height="700"></iframe>'
            '</body></html>')


def test_the_mini_app_signs_in_and_works_inside_telegram_webs_frame(emulator, served, chromium, engine):
    base, sam = served
    context = chromium.new_context(viewport={"width": 1000, "height": 800})
    context.route(TELEGRAM_SCRIPT, lambda route: route.fulfill(path=str(STAND_IN), content_type="text/javascript"))
    app_url = f"{base}/app#{launch_fragment(ANN, int(time.time()))}"
    context.route(TELEGRAM_WEB, lambda route: route.fulfill(content_type="text/html", body=telegram_web_page(app_url)))
    page = context.new_page()
    page.goto(TELEGRAM_WEB)

    app = page.frame_locator("#app")
    app.get_by_role("heading", name="Your cohort").wait_for()
    assert "Signed in as Ann" in app.locator("header").inner_text()
    frame = next(f for f in page.frames if f.url == f"{base}/")
    assert frame.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(33, 33, 33)"  # bg_color
    assert "web_app_ready" in page.evaluate("window.events")

    # A form in the frame: the session and its CSRF token hold, and Sam is asked in Telegram.
    app.get_by_role("link", name="Sam Candidate").click()
    app.get_by_label(re.compile(r"^Follow-up question on ")).first.fill("Who else reads the complaints log?")
    before = len(sam.received)
    app.get_by_role("button", name="Ask Sam Candidate").first.click()
    app.get_by_text("Question sent to Sam").wait_for()
    assert "Who else reads the complaints log?" in sam.next_reply(before)["text"]

    # A download may go nowhere inside a Mini App: the records come to Ann's chat as PDF documents instead.
    app.get_by_role("button", name="Send the PDFs to my Telegram chat").click()
    app.get_by_text("on their way to your Telegram chat").wait_for()
    documents = wait_until(lambda: [m for m in emulator.sent_messages(ANN) if "document" in m], what="Ann's PDFs")
    assert all(d["document"]["file_name"].endswith(".pdf") for d in documents)

    # The session ends (it expired, say) while the Mini App stays open: the next page signs in again by itself.
    with transaction(engine) as session:
        for row in session.exec(select(WebSession).where(col(WebSession.ended_at).is_(None))).all():
            row.ended_at = datetime.now(UTC)
            session.add(row)
    frame = next(f for f in page.frames if f.url.startswith(base))
    frame.goto(f"{base}/")
    app.get_by_role("heading", name="Your cohort").wait_for()
    with transaction(engine) as session:
        assert len(session.exec(select(WebSession).where(WebSession.via == "miniapp")).all()) == 2
