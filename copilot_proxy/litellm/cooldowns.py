"""Which Copilot models are cooling down, until when and why (pure bookkeeping).

How long a model is skipped, as Copilot states it (docs/upstream.md, "Copilot: errors
and limits"):
- a 429 that says when to retry (a `Retry-After` header, or "Please retry after N
  seconds" / "try again in N hours" in the message, as the session and weekly limits
  do) cools the model down at once, for exactly that long;
- a 402 (quota spent; Copilot sends no Retry-After) cools it down until the account's
  quota reset date when the operator could read it, else for `quotaSeconds`;
- any other 402/429 after more than `allowed_fails` of them in a minute, for the
  router's `cooldown_time`.
The hook is the proxy's only source of cooldowns: LiteLLM 1.108 never cools down a
one-deployment group on 402, and it charges a skipped model's "cooling down" error to
the model that served the fallback, so the rendered config sets
`router_settings.disable_cooldowns: true`, which only stops LiteLLM from adding
cooldowns; it still skips the deployments this hook puts in its cooldown cache.
`now` is `time.monotonic()`, `wall` is `time.time()` (for "back at" times).
Cooldowns live in one proxy process: each replica learns a limit on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from copilot_proxy.litellm.failures import Failure

WINDOW = 60.0  # like LiteLLM's allowed_fails: failures are counted per minute
DEFAULT_QUOTA_SECONDS = 3600.0
_UNITS = {"second": 1, "sec": 1, "minute": 60, "min": 60, "hour": 3600, "day": 86400}
# "retry after 2733 seconds", "try again in 51 hours", "wait 2 minutes", "wait 587 hours 33 minutes"
_WAIT = re.compile(
    r"(?:retry after|try again in|wait)\s+((?:\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|days?)"
    r"[\s,and]*)+)",
    re.IGNORECASE,
)
_PART = re.compile(r"(\d+)\s*(second|sec|minute|min|hour|day)", re.IGNORECASE)


def stated_wait(text: str, headers: Mapping[str, str] | None, wall: float) -> float | None:
    """The seconds an upstream answer says to wait: Retry-After, else the message; None if it
    says nothing."""
    value = {k.lower(): v for k, v in (headers or {}).items()}.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - wall)
        except (TypeError, ValueError):
            pass
    found = _WAIT.search(text or "")
    if found is None:
        return None
    return float(sum(int(n) * _UNITS[u.lower()] for n, u in _PART.findall(found.group(1))))


def until_reset(reset_date: str, wall: float) -> float | None:
    """Seconds until the quota reset date ("2026-12-01" or RFC 3339); None if unknown or past."""
    if not reset_date:
        return None
    try:
        when = datetime.fromisoformat(reset_date.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    left = when.timestamp() - wall
    return left if left > 0 else None


@dataclass(frozen=True)
class Policy:
    """What decides a cooldown's length: the router's settings and the plugin's."""

    allowed_fails: int = 0
    cooldown_time: float = 60.0  # router_settings.cooldown_time; 0: no cooldowns at all
    quota_seconds: float = DEFAULT_QUOTA_SECONDS
    quota_reset_date: str = ""


@dataclass(frozen=True)
class Cooling:
    """One model skipped: why, for how long from `now`, and until when (wall clock)."""

    failure: Failure
    seconds: float
    until_wall: float


def length(failure: Failure, wait: float | None, policy: Policy, wall: float) -> tuple[float, bool]:
    """How long a 402/429 cools its model down, and whether at once (else after allowed_fails)."""
    if failure.status == 429 and wait is not None:
        return wait, True
    if failure.status == 402:
        reset = until_reset(policy.quota_reset_date, wall)
        return (reset if reset is not None else policy.quota_seconds), False
    return policy.cooldown_time, False


class Cooldowns:
    def __init__(self) -> None:
        self._recent: dict[str, list[float]] = {}  # model -> times of its recent 402/429
        self._cooling: dict[str, tuple[Failure, float, float]] = {}  # model -> (why, until, wall)

    def cool(
        self, failure: Failure, wait: float | None, policy: Policy, now: float, wall: float
    ) -> Cooling | None:
        """Count a 402/429 of a model; the cooldown it starts now, if any."""
        if not policy.cooldown_time:
            return None
        seconds, at_once = length(failure, wait, policy, wall)
        recent = [t for t in self._recent.get(failure.model, []) if t > now - WINDOW] + [now]
        self._recent[failure.model] = recent
        if seconds <= 0 or (not at_once and len(recent) <= policy.allowed_fails):
            return None
        self._recent.pop(failure.model, None)
        _, until, _ = self._cooling.get(failure.model, (failure, 0.0, 0.0))
        if until >= now + seconds - 1:  # the same cooldown, reported again
            return None
        self._cooling[failure.model] = (failure, now + seconds, wall + seconds)
        return Cooling(failure, seconds, wall + seconds)

    def skipped(self, now: float) -> dict[str, tuple[Failure, float]]:
        """The models cooling down at `now`: why, and the seconds left."""
        cooling = self._cooling.items()
        return {model: (why, until - now) for model, (why, until, _) in cooling if until > now}

    def active(self, now: float) -> dict[str, Cooling]:
        """The models cooling down at `now`, with the seconds left and their end."""
        return {
            model: Cooling(why, until - now, wall)
            for model, (why, until, wall) in self._cooling.items()
            if until > now
        }


def describe(cooling: Cooling) -> str:
    """The log line of a cooldown that starts: model, reason, length, end (UTC)."""
    end = datetime.fromtimestamp(cooling.until_wall, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    f = cooling.failure
    return f"cooldown: model={f.model} reason={f.reason} seconds={int(cooling.seconds)} until={end}"
