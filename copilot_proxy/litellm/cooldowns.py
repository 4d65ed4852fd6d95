"""Which Copilot models are cooling down, until when and why (pure bookkeeping).

A model that answered 402 (quota spent) or 429 (rate limited) more than
`allowed_fails` times in a minute is skipped for the router's `cooldown_time`.
The hook is the proxy's only source of cooldowns: LiteLLM 1.108 never cools
down a one-deployment group on 402, and it charges a skipped model's "cooling
down" error to the model that served the fallback, so after a few requests the
whole chain would be "cooling down" while every model is healthy. The rendered
config therefore sets `router_settings.disable_cooldowns: true`, which only
stops LiteLLM from adding cooldowns; it still skips the deployments this hook
puts in its cooldown cache. Times are `time.monotonic()` seconds.
"""

from __future__ import annotations

from copilot_proxy.litellm.failures import Failure

WINDOW = 60.0  # like LiteLLM's allowed_fails: failures are counted per minute


class Cooldowns:
    def __init__(self) -> None:
        self._recent: dict[str, list[float]] = {}  # model -> times of its recent 402/429
        self._cooling: dict[str, tuple[Failure, float]] = {}  # model -> (why, until)

    def cools_down(self, failure: Failure, now: float, allowed_fails: int, seconds: float) -> bool:
        """Count a 402/429 of a model; True when it must cool down now, for `seconds`.

        It must when this is more than `allowed_fails` such failures within the
        last minute; its count starts again then.
        """
        recent = [t for t in self._recent.get(failure.model, []) if t > now - WINDOW] + [now]
        self._recent[failure.model] = recent
        if len(recent) <= allowed_fails:
            return False
        self._recent.pop(failure.model, None)
        self._cooling[failure.model] = (failure, now + seconds)
        return True

    def skipped(self, now: float) -> dict[str, tuple[Failure, float]]:
        """The models cooling down at `now`: why, and the seconds left."""
        cooling = self._cooling.items()
        return {model: (why, until - now) for model, (why, until) in cooling if until > now}
