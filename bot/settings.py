"""Settings from the environment (prefix NVQBOT_) and an optional .env file."""

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NVQBOT_", env_file=".env", extra="ignore")

    telegram_token: str | None = None
    # Used to print invite links; asked of the Bot API (getMe) when not set.
    bot_username: str | None = None
    # python-telegram-bot's base_url form: the token is appended after the trailing "/bot".
    telegram_api_url: str = "https://api.telegram.org/bot"
    # Where files are downloaded from; derived from telegram_api_url when not set.
    telegram_file_url: str | None = None
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'nvqbot.db'}"
    timezone: str = "Europe/London"
    banks_dir: Path = PROJECT_ROOT / "question_banks"
    # Seconds a getUpdates long poll waits for news.
    poll_timeout: int = 25

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from None
        return value

    @cached_property
    def file_url(self) -> str:
        if self.telegram_file_url:
            return self.telegram_file_url
        base = self.telegram_api_url
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
