"""Telegram: thin handlers over the domain, and the durable update pipeline."""
