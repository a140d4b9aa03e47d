"""The assessor's web console: a Telegram Mini App that also opens in a desktop browser (issue 13)."""
