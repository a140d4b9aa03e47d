"""nvqbot: a Telegram assistant for vocational assessment."""
