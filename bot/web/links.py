"""The /console reply's link and Mini App button (the Telegram side of signing in to the web console)."""

from datetime import datetime
from functools import cache

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.rendering import button_label
from bot.settings import Settings
from bot.storage.models import Assessor
from bot.web.auth import issue_login


@cache
def _settings() -> Settings:
    return Settings()


def console_link(
    session: Session, assessor: Assessor, now: datetime, settings: Settings | None = None
) -> tuple[str, int, InlineKeyboardMarkup | None]:
    """(the one-use sign-in link, the minutes it works, a button opening the console as a Mini App). Telegram
    opens Mini Apps over HTTPS only, so without an https NVQBOT_WEB_URL there is no button."""
    settings = settings or _settings()
    token = issue_login(session, assessor, now, settings.web_login_minutes)
    base = settings.web_base_url
    keyboard = None
    if base.startswith("https://"):
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(button_label("console_open"), web_app=WebAppInfo(f"{base}/app"))]])
    return f"{base}/login?t={token}", settings.web_login_minutes, keyboard
