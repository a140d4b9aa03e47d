"""The assessment domain: plain Python that knows nothing of Telegram."""
