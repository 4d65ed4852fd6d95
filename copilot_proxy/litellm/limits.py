"""What the hook does about Copilot's limits: cooldowns as Copilot states them, the one
answer when every model is cooling down, prompt windows before any upstream call.

A thin layer between hook.py and the pure modules (cooldowns.py, failures.py,
context.py); what it reaches of LiteLLM goes through internals/.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from copilot_proxy.litellm import context, cooldown_metrics, cooldowns, internals, routing, settings
from copilot_proxy.litellm.cooldowns import Cooldowns, Policy
from copilot_proxy.litellm.failures import UNAVAILABLE_TYPE, Answer, Attempts, Failure, unavailable
from copilot_proxy.litellm.routing import RouterView


class Limits:
    def __init__(self, log: logging.Logger, attempts: Attempts) -> None:
        self.log = log
        self.attempts = attempts
        self.cooldowns = Cooldowns()
        self.counts = context.Counts()  # prompt sizes and window refusals of running requests
        cooldown_metrics.register(self.cooldowns)

    # ----- cooldowns ---------------------------------------------------------------------

    def cool_down(self, data: Mapping[str, Any], exc: Exception, failure: Failure) -> None:
        """After a 402/429: skip the model (all its deployments) for as long as Copilot says."""
        deployment = internals.deployment_id(data)
        if deployment is None:
            return
        router = internals.proxy_router()
        view = internals.view_of(router)
        wall = time.time()
        wait = cooldowns.stated_wait(
            internals.error_of(exc).text, internals.response_headers(exc), wall
        )
        policy = self.policy(view, settings.current())
        cooling = self.cooldowns.cool(failure, wait, policy, time.monotonic(), wall)
        if cooling is not None:
            ids = {deployment, *routing.deployment_ids(view, failure.model)}
            internals.cool_down(router, ids, exc, failure.status, cooling.seconds)
            self.log.info(cooldowns.describe(cooling))
            cooldown_metrics.started(failure.model, failure.reason)

    @staticmethod
    def policy(view: RouterView, plugin_settings: Mapping[str, Any]) -> Policy:
        """The cooldown policy: our settings where the config has them (0 means none; a
        config rendered before they existed has none), else the router's."""
        own = settings.section(plugin_settings, "cooldowns")
        return Policy(
            allowed_fails=view.allowed_fails,
            cooldown_time=_seconds(own, "seconds", view.cooldown_time),
            quota_seconds=_seconds(own, "quotaSeconds", cooldowns.DEFAULT_QUOTA_SECONDS),
            quota_reset_date=str(own.get("quotaResetDate") or ""),
        )

    def unavailable(self, asked: str, served: str, view: RouterView) -> Answer | None:
        """The answer when every model a request for `asked` may use is cooling down; None
        otherwise. `served`: the group serving it (a Claude Code name's model, else `asked`)."""
        active = self.cooldowns.active(time.monotonic())
        cooling = {m: (c.failure, c.seconds, c.until_wall) for m, c in active.items()}
        return unavailable(asked, routing.chain(view, served), cooling)

    def refuse_if_unavailable(self, asked: str, served: str, view: RouterView) -> None:
        """Raise the all-cooling answer (before any upstream call), with the headers that stop
        clients' retries; on every route."""
        answer = self.unavailable(asked, served, view)
        if answer is not None:
            headers = {"retry-after": str(answer.retry_after), "x-should-retry": "false"}
            raise internals.answer_now(answer.status, answer.detail, UNAVAILABLE_TYPE, headers)

    # ----- prompt windows ----------------------------------------------------------------

    async def fitting(
        self, group: str, deployments: list[Any], messages: Any, kwargs: Mapping[str, Any]
    ) -> list[Any]:
        """The deployments whose prompt window takes the request; raises LiteLLM's context
        window error (the router falls back on it) when none does."""
        if not any(context.limit_of(d) for d in deployments):
            return deployments
        call_id = str(kwargs.get("litellm_call_id") or "")
        count = self.counts.get(call_id)
        if count is None:
            router = internals.proxy_router()
            try:
                count = await asyncio.to_thread(internals.count_prompt, router, messages, kwargs)
            except Exception:  # uncountable (an odd body): Copilot will say
                return deployments
            self.counts.put(call_id, count)
        keep, refused = context.fit(deployments, count, routing.deployment_model)
        self.counts.refuse(call_id, refused)
        for r in refused:
            self.attempts.add(call_id, Failure(r.model, context.TOO_LONG_STATUS, context.REASON))
        if refused and not keep:
            raise internals.context_window_error(group, context.too_long(group, refused))
        return keep

    def too_long(self, asked: str, call_id: object, exc: Exception) -> Answer | None:
        """The 400 for a request no model's window takes (forgets the request's count)."""
        refused = self.counts.pop(call_id)
        if refused and internals.is_context_window(exc):
            return Answer(context.TOO_LONG_STATUS, context.too_long(asked, refused))
        return None


def _seconds(own: Mapping[str, Any], key: str, default: float) -> float:
    value = own.get(key)
    return float(value) if isinstance(value, int | float) and value >= 0 else default
