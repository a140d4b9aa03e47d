"""What one person may send, and how long an invite works: nvqbot held against abuse.

The values are settings (bot/settings.py, documented in the README); `DEFAULT_LIMITS` holds their defaults
for code given no settings.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.settings import Settings


@dataclass(frozen=True)
class Limits:
    parts_per_answer: int  # messages gathered into one answer
    message_chars: int  # characters kept from one message; a longer one is refused whole, never cut
    messages_per_minute: int  # updates one person has processed a minute; more are held (bot/domain/flood.py)
    invite_valid_for: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(
            parts_per_answer=settings.max_parts_per_answer,
            message_chars=settings.max_message_chars,
            messages_per_minute=settings.messages_per_minute,
            invite_valid_for=timedelta(days=settings.invite_valid_days),
        )

    def invite_expires_at(self, made_at: datetime) -> datetime:
        """When an invite made now stops working (kept on the invite: a later change of setting leaves it)."""
        return made_at + self.invite_valid_for

    def too_long(self, text: str | None) -> bool:
        return text is not None and len(text) > self.message_chars


DEFAULT_LIMITS = Limits.from_settings(Settings.model_construct())
