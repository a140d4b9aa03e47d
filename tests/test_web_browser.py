"""The console in a real browser (Debian's Chromium, driven by Playwright), served by the real bot (`nvqbot run`
against the emulator): sign in by the one-use link /console sends, a reused or expired link refused, the cohort
filtered, a candidate opened, answers judged Met and Not yet with feedback, signed off, and the candidate told in
Telegram; another assessor kept out (direct URL included); a forged or stale initData refused; a form posted from
another site refused. axe-core finds no serious or critical violation on the cohort or the candidate page.
With NVQBOT_SCREENSHOTS=DIR, the pages are also saved there at 360 px and 1,280 px wide (for the README)."""

import hashlib
import hmac
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlencode

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage.db import transaction
from bot.storage.repository import Repository
from bot.web.auth import issue_login
from tests.browser import chromium, serious_violations  # noqa: F401  (a fixture)
from tests.phone import Phone
from tests.test_assessor_flows import ANN, BOB
from tests.test_web_bot import served  # noqa: F401  (a fixture)

pytestmark = pytest.mark.slow
TOKEN = "123456:TEST"  # the bot process's (tests/botprocess.py)
WIDTHS = (360, 1280)


def link_from(phone: Phone) -> str:
    return re.search(r'href="([^"]+)"', phone.send("/console")["text"]).group(1)


def signed_in(browser, phone: Phone, width: int = 1280):
    """A browser context signed in through the link the bot sends, on the cohort page."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(link_from(phone))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    return context, page


def tab_to(page, locator, most: int = 100) -> None:
    """Press Tab until the element has the focus: it is reached from the keyboard, in the page's own order."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} is not reached with Tab")


def screenshot(page, name: str) -> None:
    folder = os.environ.get("NVQBOT_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def init_data(user_id: int, auth_date: int, token: str = TOKEN) -> str:
    """initData signed as Telegram signs it (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app)."""
    fields = {"auth_date": str(auth_date), "query_id": "AAE", "user": json.dumps({"id": user_id, "first_name": "Ann"})}
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    return urlencode({**fields, "hash": hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()})


def expired_link(engine, base: str, telegram_id: int) -> str:
    """A link made an hour ago, for ten minutes: expired."""
    with transaction(engine) as session:
        assessor = Repository(session).assessor_by_telegram_id(telegram_id)
        return f"{base}/login?t={issue_login(session, assessor, datetime.now(UTC) - timedelta(hours=1), 10)}"


def test_an_assessor_judges_and_signs_off_in_a_browser_and_the_candidate_is_told(emulator, served, chromium, engine):
    base, sam = served
    ann = Phone(emulator, ANN, "Ann")
    context, page = signed_in(chromium, ann)
    assert "Sam Candidate" in page.content()
    assert serious_violations(page) == []
    screenshot(page, "cohort-1280")

    # A link works once: the same link again, and one made up, are refused.
    used = link_from(ann)
    other = chromium.new_context()
    refused = other.new_page()
    refused.goto(used)
    refused.get_by_role("button", name="Sign in").click()
    refused.goto(used)
    refused.get_by_role("button", name="Sign in").click()
    assert refused.get_by_role("heading", level=1).inner_text() != "Your cohort" and "Sam Candidate" not in refused.content()
    for link in (f"{base}/login?t=not-a-real-link", expired_link(engine, base, ANN)):
        refused.goto(link)
        with refused.expect_navigation() as answered:
            refused.get_by_role("button", name="Sign in").click()
        assert answered.value.status == 403 and "Sam Candidate" not in refused.content()

    # Filter, then open the candidate.
    page.get_by_label("Unit", exact=True).select_option("cg-310")
    page.get_by_role("button", name="Show").click()
    assert "unit=cg-310" in page.url and "Sam Candidate" in page.content()
    # By keyboard alone: the first Tab reaches the skip link, shown when focused; Enter on the candidate's link
    # opens their page, and Enter on a Met button judges.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the content")
    assert skip.evaluate("element => element === document.activeElement") and skip.bounding_box()["x"] >= 0
    tab_to(page, page.get_by_role("link", name="Sam Candidate"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/candidates/\d+$"))
    candidate_url = page.url
    assert serious_violations(page) == []
    screenshot(page, "candidate-1280")

    # Judge one answer Met, the other Not yet with feedback, then sign off: the candidate is told in Telegram.
    answer = re.search(r'action="/answers/(\d+)/judge"', page.content()).group(1)
    tab_to(page, page.get_by_role("button", name=re.compile(r"^Met: ")).first)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Judgment recorded." in page.content()
    page.get_by_label(re.compile(r'^Feedback for "not yet"')).last.fill("Say who checks the log, and how often.")
    page.get_by_role("button", name=re.compile(r"^Not yet: ")).last.click()
    before = len(sam.received)
    page.get_by_role("button", name=re.compile(r"^Sign off ")).click()
    told = sam.next_reply(before)["text"]
    assert "Say who checks the log, and how often." in told

    # A form posted from another site (here, a page of no origin) is refused and changes nothing.
    page.set_content(f'<form method="post" action="{base}/answers/{answer}/judge"><input name="outcome" value="met">'
                     '<button>go</button></form>')
    with page.expect_navigation() as posted:
        page.get_by_role("button", name="go").click()
    assert posted.value.status == 403 and "Sam Candidate" not in page.content()

    # Bob, another assessor: not on his cohort, and the candidate's page is not found, even by its URL.
    bob_context, bob_page = signed_in(chromium, Phone(emulator, BOB, "Bob"))
    assert "Sam Candidate" not in bob_page.content()
    response = bob_page.goto(candidate_url)
    assert response.status == 404 and "Sam Candidate" not in bob_page.content()

    # The Mini App: initData with a wrong hash, or stale, is refused; a genuine one signs Ann in.
    mini = chromium.new_context().request
    headers = {"Origin": base}
    now = int(time.time())
    assert mini.post(f"{base}/app", form={"init_data": init_data(ANN, now, "999:OTHER")}, headers=headers).status == 403
    assert mini.post(f"{base}/app", form={"init_data": init_data(ANN, now - 86_400)}, headers=headers).status == 403
    assert mini.post(f"{base}/app", form={"init_data": init_data(ANN, now)}, headers=headers).ok

    # Phone-width pages for the README.
    for width in WIDTHS[:1]:
        narrow, narrow_page = signed_in(chromium, ann, width)
        screenshot(narrow_page, f"cohort-{width}")
        narrow_page.goto(candidate_url)
        assert serious_violations(narrow_page) == []
        screenshot(narrow_page, f"candidate-{width}")
