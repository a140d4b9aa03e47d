"""The one retry policy for Bot API calls: what a failure means, and when to try again.

- a timeout, a network error or a 5xx is tried again after an exponential backoff with jitter
  (1 s, 2 s, 4 s… up to five minutes, each drawn from its upper half so senders spread out);
- a 429 is tried again after the `retry_after` Telegram gave, never sooner (a little jitter on top);
- a 403 means the person blocked the bot: the call is closed, and the person marked unreachable;
- a 400 (or any other refusal) is permanent: the call is closed, with Telegram's reason recorded;
- a 401 or 404 means the token is wrong: nothing can be sent, so the error goes up and stops the bot.
Transient failures are retried without a cap: a call is given up only on a permanent error.
"""

import random
from dataclasses import dataclass

from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 300.0


@dataclass(frozen=True)
class RetryLater:
    seconds: float
    reason: str


@dataclass(frozen=True)
class GiveUp:
    reason: str


@dataclass(frozen=True)
class Unreachable:
    reason: str


def backoff(attempts: int, rng: random.Random = random._inst) -> float:
    """Seconds to wait after the `attempts`-th failure in a row (1 for the first)."""
    ceiling = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(attempts - 1, 0))
    return rng.uniform(ceiling / 2, ceiling)


def retry_after_seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def after_failure(error: TelegramError, attempts: int, rng: random.Random = random._inst) -> RetryLater | GiveUp | Unreachable:
    """What to do after `error` ended the `attempts`-th try of a call. Raises InvalidToken: that stops the bot."""
    if isinstance(error, InvalidToken) or isinstance(error.__cause__, InvalidToken):
        # (a 401 reaches do_api_request's callers as EndPointNotFound, caused by InvalidToken)
        raise InvalidToken(error.message)
    if isinstance(error, RetryAfter):
        wait = retry_after_seconds(error)
        return RetryLater(wait + rng.uniform(0, min(1.0, wait / 10)), f"429: retry after {wait:g} s")
    if isinstance(error, Forbidden):
        return Unreachable(f"403: {error.message}")
    if isinstance(error, BadRequest):
        return GiveUp(f"400: {error.message}")
    if isinstance(error, NetworkError):  # timeouts, connection errors and 5xx
        return RetryLater(backoff(attempts, rng), f"{type(error).__name__}: {error.message}")
    return GiveUp(f"{type(error).__name__}: {error.message}")
