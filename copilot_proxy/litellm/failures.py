"""Why an upstream attempt failed, and the one error of a request whose whole chain failed.

Pure: the hook reads LiteLLM's exception into an `Error` (internals.error_of) and
hands it here. A reason is short and never holds a secret: Copilot's error code
when the message names one, else a word for the status.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

PROVIDER_PREFIX = "github_copilot/"
COOLDOWN_STATUSES = frozenset({402, 429})  # quota spent, rate limited: skip the model a while
CHAIN_FAILED_STATUS = 503  # the all-failed error's status when the last error had none
# Every model of the chain is cooling down (quota, rate limits): a status no client retries
# in a loop (Claude Code, the openai and anthropic SDKs retry 408/409/429/5xx; measured,
# docs/upstream.md "Clients").
UNAVAILABLE_STATUS = 402
UNAVAILABLE_TYPE = "models_unavailable"
MAX_TRACKED = 4096  # client requests whose failed hops are remembered until they end
COPILOT_CODES = (
    "quota_exceeded",
    "user_weekly_rate_limited",
    "user_global_rate_limited",
    "rate_limited",
    "model_not_supported",
    "unsupported_api_for_model",
    "model_max_prompt_tokens_exceeded",
    "token_expired",
)
STATUS_REASONS = {
    401: "unauthorized",
    402: "quota_exceeded",
    403: "forbidden",
    429: "rate_limited",
}


def model_id(name: object) -> str:
    """The Copilot model id of a LiteLLM model name: without the provider prefix."""
    return str(name or "?").removeprefix(PROVIDER_PREFIX)


@dataclass(frozen=True)
class Error:
    """What an exception raised inside LiteLLM says."""

    status: int | None
    text: str  # its message, which may carry Copilot's error code
    kind: str  # its class name: the reason of last resort

    @property
    def reason(self) -> str:
        """A short reason without secrets: Copilot's error code, else one named by the status."""
        code = next((c for c in COPILOT_CODES if c in self.text), None)
        if code:
            return code
        status = self.status or 0
        if status in STATUS_REASONS:
            return STATUS_REASONS[status]
        return "upstream_error" if status >= 500 else self.kind


@dataclass(frozen=True)
class Failure:
    """One failed upstream attempt."""

    model: str  # the Copilot model id, without the provider prefix
    status: int | None
    reason: str

    @classmethod
    def of(cls, model: object, error: Error) -> Failure:
        return cls(model_id(model), error.status, error.reason)

    def describe(self) -> str:
        return f"{self.model}: {self.status or '-'} {self.reason}"


class Attempts:
    """The failed hops of the client requests still running, by LiteLLM call id.

    A request that never ends (a client gone mid-stream) is forgotten after
    `limit` newer ones.
    """

    def __init__(self, limit: int = MAX_TRACKED) -> None:
        self.limit = limit
        self._failures: OrderedDict[str, list[Failure]] = OrderedDict()

    def add(self, call_id: str, failure: Failure) -> None:
        seen = self._failures.setdefault(call_id, [])
        if not seen or seen[-1] != failure:  # /v1/messages reports an attempt twice
            seen.append(failure)
        self._failures.move_to_end(call_id)
        while len(self._failures) > self.limit:
            self._failures.popitem(last=False)

    def pop(self, call_id: object) -> list[Failure]:
        """The failures of a request that ended (none for an unknown id), forgotten now."""
        return self._failures.pop(call_id, []) if isinstance(call_id, str) else []


class Answer(NamedTuple):
    status: int
    detail: str
    retry_after: int | None = None  # seconds until the first model is back
    final: bool = False  # no retry can help (a refused credential): x-should-retry false


# What a reason means to a person, for the error when nothing can answer.
REASON_TEXT = {
    "quota_exceeded": "quota spent",
    "user_weekly_rate_limited": "weekly rate limit reached",
    "user_global_rate_limited": "session rate limit reached",
    "rate_limited": "rate limited",
}


def all_failed(
    asked: str,
    status: int | None,
    chain: Sequence[str],
    failures: Sequence[Failure],
    skipped: Mapping[str, tuple[Failure, float]],
) -> Answer | None:
    """One error naming each model of the chain and why it failed or was skipped.

    `chain` is the Copilot models the request could use, primary first (empty
    when unknown: the failed ones are named then); `skipped` maps a model that
    is cooling down to why and the seconds left. None for a one-model chain:
    LiteLLM's own error already names it.
    """
    by_model = {f.model: f for f in failures}
    parts: list[str] = []
    for model in chain or list(by_model):
        if model in by_model:
            parts.append(by_model[model].describe())
        elif model in skipped:
            why, left = skipped[model]
            parts.append(f"{why.describe()}, skipped for {int(left) + 1} s")
        else:
            parts.append(f"{model}: not tried")
    if len(parts) < 2:
        return None
    return Answer(
        status or CHAIN_FAILED_STATUS,
        f"Every model for '{asked}' failed. " + "; ".join(parts) + ".",
    )


def unavailable(
    asked: str,
    chain: Sequence[str],
    cooling: Mapping[str, tuple[Failure, float, float]],
) -> Answer | None:
    """One error when every model of the chain is cooling down: each model, why, and when it
    is back. `cooling` maps a model to (why, seconds left, end as a Unix time). None while
    some model of the chain can answer (or the chain is unknown)."""
    if not chain or any(model not in cooling for model in chain):
        return None
    parts = []
    for model in chain:
        why, left, end = cooling[model]
        at = datetime.fromtimestamp(end, UTC).strftime("%Y-%m-%d %H:%M UTC")
        reason = REASON_TEXT.get(why.reason, why.reason)
        parts.append(f"{model}: {reason} ({why.reason}), back in {span(left)} (at {at})")
    first = min(cooling[model][1] for model in chain)
    return Answer(
        UNAVAILABLE_STATUS,
        f"No model can answer '{asked}' now. " + "; ".join(parts) + ".",
        max(1, int(first) + 1),
    )


def span(seconds: float) -> str:
    """A duration for people: 45 s, 12 min, 3 h 5 min, 2 d 4 h."""
    s = max(0, int(seconds + 0.999))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{-(-s // 60)} min"
    hours, rest = divmod(s, 3600)
    if hours < 48:
        return f"{hours} h {rest // 60} min" if rest >= 60 else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
