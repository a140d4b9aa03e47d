"""Settings from the environment (prefix NVQBOT_) and an optional .env file."""

import re
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PositiveInt, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NVQBOT_", env_file=".env", extra="ignore")

    def token(self) -> str:
        return self.telegram_token.get_secret_value() if self.telegram_token else ""

    def database_url_for_people(self) -> str:
        """The database URL with any password masked, for output and logs."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    # A secret: printed as '**********' by anything that shows settings; `token()` gives the value.
    telegram_token: SecretStr | None = None
    # Used to print invite links; asked of the Bot API (getMe) when not set.
    bot_username: str | None = None
    # python-telegram-bot's base_url form: the token is appended after the trailing "/bot".
    telegram_api_url: str = "https://api.telegram.org/bot"
    # Where files are downloaded from; derived from telegram_api_url when not set.
    telegram_file_url: str | None = None
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'nvqbot.db'}"
    timezone: str = "Europe/London"
    banks_dir: Path = PROJECT_ROOT / "question_banks"
    # Question banks once checked are kept here, keyed by their bytes and the checking code, so a start
    # need not check them again; "" for no cache.
    cache_dir: Path | None = PROJECT_ROOT / "var" / "cache"
    # Seconds a getUpdates long poll waits for news.
    poll_timeout: int = 25
    # Reminders: days before the deadline, days without activity, quiet hours ("" for none),
    # when the assessors' daily digest goes out, and how often the bot looks for what is due.
    reminder_days_before: list[int] = [14, 7, 3, 1]
    reminder_idle_days: int = 5
    quiet_hours: str = "21:00-08:00"
    digest_time: str = "08:00"
    reminder_sweep_seconds: int = 60
    discussion_reminder_minutes: int = 60  # both people are reminded this long before a planned discussion
    # Telegram's limits: about 30 messages a second overall, one a second to any one chat.
    send_rate_per_s: float = 30.0
    per_chat_interval_s: float = 1.0
    # Files: the largest fetched and fingerprinted (the Bot API serves bots at most 20 MB), and how many
    # are downloaded at once.
    max_file_bytes: PositiveInt = 20 * 1024 * 1024
    file_fetch_concurrency: PositiveInt = 4
    # Held against abuse (bot/domain/limits.py): the messages one answer may gather, the characters kept from
    # one message (Telegram itself sends at most 4,096), the messages and button presses one person may send a
    # minute (more are held, in order, until their minute is over), and the days an invite code works.
    max_parts_per_answer: PositiveInt = 30
    max_message_chars: PositiveInt = 4096
    messages_per_minute: PositiveInt = 20
    invite_valid_days: PositiveInt = 30
    # The assessor's web console (bot/web), served by `nvqbot run` beside the bot: where it listens, the public
    # base URL its links use (default: http://HOST:PORT), how long a /console link works, how long a session
    # lasts, how old a Mini App's initData may be, and how often expired links and sessions are deleted.
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_url: str | None = None
    web_login_minutes: PositiveInt = 10
    web_session_hours: PositiveInt = 12
    web_init_data_max_age_s: PositiveInt = 3600
    web_purge_hours: PositiveInt = 6

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _empty_is_no_cache(cls, value):
        return None if value == "" else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours_form(cls, value: str) -> str:
        if value and not _HOURS.match(value):
            raise ValueError("quiet hours must look like 21:00-08:00, or be empty for none")
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time_form(cls, value: str) -> str:
        if not _TIME.match(value):
            raise ValueError("the digest time must look like 08:00")
        return value

    @cached_property
    def file_url(self) -> str:
        if self.telegram_file_url:
            return self.telegram_file_url
        base = self.telegram_api_url
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base

    @cached_property
    def web_base_url(self) -> str:
        return (self.web_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
