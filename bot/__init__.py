"""nvqbot: a Telegram assistant for vocational assessment."""

import os

# Opt in to python-telegram-bot's coming time types (durations and retry_after as timedelta) now,
# rather than reading the deprecated int forms; the code handles both.
os.environ.setdefault("PTB_TIMEDELTA", "true")
