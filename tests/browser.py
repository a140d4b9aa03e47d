"""A real browser for the web console's tests: Debian's Chromium (`make test` installs it), driven by Playwright.

No browser can be downloaded here, so Playwright is pointed at /usr/bin/chromium. Without it the browser tests are
skipped, with the reason; CI sets NVQBOT_REQUIRE_BROWSER, which makes a missing browser a failure instead.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("NVQBOT_CHROMIUM", "/usr/bin/chromium"))
# The machine's network is closed: without these, Chromium keeps trying to reach Google's services.
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
        # The tests' Telegram Web is a page Playwright serves as https://web.telegram.org, framing the console on
        # loopback: Chromium would hold that back as a public site reaching into the local network. A real
        # console is on a public address, where the check does not apply.
        "--disable-features=LocalNetworkAccessChecks"]


# Function-scoped on purpose: Playwright's sync API runs an event loop in this thread while it is open, and a
# loop left running would break every asyncio test the same worker runs after.
@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM}: `make test` installs Debian's chromium"
        if os.environ.get("NVQBOT_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v.get("impact") in ("serious", "critical")]
