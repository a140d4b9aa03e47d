"""Timed work: the reminder sweep, run by APScheduler inside the bot process."""
