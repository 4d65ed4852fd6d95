"""Why an upstream attempt failed, and the one error of a request whose whole chain failed.

Pure: the hook reads LiteLLM's exception into an `Error` (internals.error_of) and
hands it here. A reason is short and never holds a secret: Copilot's error code
when the message names one, else a word for the status.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

PROVIDER_PREFIX = "github_copilot/"
COOLDOWN_STATUSES = frozenset({402, 429})  # quota spent, rate limited: skip the model a while
CHAIN_FAILED_STATUS = 503  # the all-failed error's status when the last error had none
MAX_TRACKED = 4096  # client requests whose failed hops are remembered until they end
COPILOT_CODES = (
    "quota_exceeded",
    "user_weekly_rate_limited",
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
