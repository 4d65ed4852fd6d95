"""LiteLLM callbacks of the proxy, loaded by `litellm_settings.callbacks`: `request_logger`.

Loaded inside the `litellm` proxy process (same image as the operator). It:
- logs one line per request on stderr (logger `copilot_proxy.requests`): the
  route, the model the client asked for, the model group that served it, the
  models that failed or were skipped before it, the status and the duration.
  Never keys, headers or message content;
- cools down a model that answered 402 (quota spent) or 429 (rate limited)
  more than `allowed_fails` times in a minute, for the router's
  `cooldown_time`, so later requests skip it instead of paying for the failing
  hop. LiteLLM 1.108 never cools down a one-deployment group on 402,
  and its own accounting charges the "model is cooling down" error of a skipped
  model to the model that served the fallback: after a few requests the whole
  chain is "cooling down" while every model is healthy. The rendered config
  therefore sets `router_settings.disable_cooldowns: true` (which only stops
  LiteLLM from adding cooldowns; it still skips cooled deployments) and this
  hook is the only source of cooldowns;
- answers a request whose whole chain failed with one error that names each
  model of the chain and why it failed or was skipped;
- drops LiteLLM's cached Copilot key when Copilot answers 401, so the next
  attempt (the fallback hop) fetches a fresh one from the token endpoint;
- answers 401 to a wrong client key (LiteLLM says 400 "No connected db." on a
  proxy without a database);
- keeps a route's hop groups (`fast#gpt-5-mini`, see render.py) internal:
  hidden from the model listings, refused when a client names one, and shown
  as their model in the log line and in `x-litellm-model-group`. One case
  LiteLLM decides after this hook: a /v1/messages stream that falls back after
  its first bytes sends the hop group's name in that header.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from litellm.integrations.custom_logger import CustomLogger

from copilot_proxy.core.render import HOP_MARK, hop_model


# LiteLLM 1.108 imports its OTel V2 logger inside every authenticated request; without
# opentelemetry-sdk that import fails half-way and is retried from disk each time
# (~10% of the proxy's CPU per request, docs/benchmarks.md). None in sys.modules fails
# it at once; LiteLLM already treats the failure as "no OTel destinations".
def _has_otel_sdk() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.sdk") is not None
    except ModuleNotFoundError:  # no opentelemetry package at all
        return False


if not _has_otel_sdk():
    sys.modules.setdefault("litellm.integrations.otel.logger", None)  # type: ignore[arg-type]

LOGGER_NAME = "copilot_proxy.requests"
PROVIDER_PREFIX = "github_copilot/"
COOLDOWN_STATUSES = frozenset({402, 429})
_GROUP_HEADER = "x-litellm-model-group"  # the model group that answered
_MAX_TRACKED = 4096  # client requests whose failed hops are remembered until they end
_COPILOT_CODES = (
    "quota_exceeded",
    "user_weekly_rate_limited",
    "rate_limited",
    "model_not_supported",
    "unsupported_api_for_model",
    "model_max_prompt_tokens_exceeded",
    "token_expired",
)
_STATUS_REASONS = {
    401: "unauthorized",
    402: "quota_exceeded",
    403: "forbidden",
    429: "rate_limited",
}


def _make_logger() -> logging.Logger:
    # An own handler: LiteLLM reconfigures its loggers and the root level.
    log = logging.getLogger(LOGGER_NAME)
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


@dataclass(frozen=True)
class Failure:
    model: str  # the Copilot model id, without the provider prefix
    status: int | None
    reason: str

    def describe(self) -> str:
        return f"{self.model}: {self.status or '-'} {self.reason}"


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        try:
            if value is not None:
                return int(value)
        except (TypeError, ValueError):
            continue
    return None


def _reason(exc: BaseException) -> str:
    """A short reason without secrets: Copilot's error code, else one named by the status."""
    text = str(getattr(exc, "message", "") or exc)
    code = next((c for c in _COPILOT_CODES if c in text), None)
    if code:
        return code
    status = _status(exc) or 0
    if status in _STATUS_REASONS:
        return _STATUS_REASONS[status]
    return "upstream_error" if status >= 500 else type(exc).__name__


def _model(name: object) -> str:
    return str(name or "?").removeprefix(PROVIDER_PREFIX)


def _deployment_model(deployment: Mapping[str, Any]) -> str:
    """The Copilot model a router deployment (a `model_list` entry) calls."""
    return _model(deployment.get("litellm_params", {}).get("model"))


def _deployment_id(data: Mapping[str, Any]) -> str | None:
    info = data.get("model_info") or (data.get("litellm_params") or {}).get("model_info") or {}
    ident = info.get("id") if isinstance(info, Mapping) else None
    return str(ident) if ident else None


def _is_router_refusal(exc: BaseException) -> bool:
    # "No deployments available ... in cooldown": raised before any upstream call.
    return type(exc).__name__ == "RouterRateLimitError"


def _drop_copilot_key() -> None:
    """Forget LiteLLM's cached Copilot key so the next call fetches a new one.

    LiteLLM refreshes the key only when the `expires_at` it stored has passed;
    a key Copilot stopped accepting earlier would fail every request until then.
    """
    from litellm.llms.github_copilot.authenticator import Authenticator

    with contextlib.suppress(OSError):
        os.remove(Authenticator().api_key_file)


def _router() -> Any:
    from litellm.proxy import proxy_server  # only importable inside the proxy

    return getattr(proxy_server, "llm_router", None)


def _shown(group: str) -> str:
    """The name users see for a model group: a hop group's model, else the group."""
    return hop_model(group) or group


def _group_model(group: object) -> str:
    """The Copilot model serving a model group (a route's name included)."""
    name = str(group or "?")
    router = _router()
    for deployment in router.model_list if router is not None else ():
        if deployment.get("model_name") == name:
            return _deployment_model(deployment)
    return _model(name)


class RequestLogger(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.log = _make_logger()
        self._failures: OrderedDict[str, list[Failure]] = OrderedDict()
        self._cooling: dict[str, tuple[Failure, float]] = {}  # model -> (why, until)
        self._recent: dict[str, list[float]] = {}  # model -> times of its recent 402/429

    # ----- state ------------------------------------------------------------------

    def _remember(self, call_id: str, failure: Failure) -> None:
        seen = self._failures.setdefault(call_id, [])
        if not seen or seen[-1] != failure:  # /v1/messages reports an attempt twice
            seen.append(failure)
        self._failures.move_to_end(call_id)
        while len(self._failures) > _MAX_TRACKED:
            self._failures.popitem(last=False)

    def _forget(self, call_id: object) -> list[Failure]:
        return self._failures.pop(call_id, []) if isinstance(call_id, str) else []

    def _chain(self, asked: str) -> list[str]:
        """The Copilot models a request for `asked` may use, primary first."""
        router = _router()
        if router is None:
            return []
        names = set(router.get_model_names())
        group = asked if asked in names else "*"
        groups = [group]
        for entry in router.fallbacks or []:
            if isinstance(entry, Mapping) and group in entry:
                groups += [str(g) for g in entry[group]]
        models: list[str] = []
        for g in groups:
            for deployment in router.model_list:
                if deployment.get("model_name") == g:
                    model = _deployment_model(deployment)
                    if model not in models:
                        models.append(model)
        return models

    # ----- hooks -------------------------------------------------------------------

    async def async_pre_call_hook(
        self, user_api_key_dict: Any, cache: Any, data: dict[str, Any], call_type: Any
    ) -> dict[str, Any]:
        """Refuse a hop group by name: it would serve one model of a route, out of its chain."""
        model = data.get("model")
        if isinstance(model, str) and HOP_MARK in model:
            route = model.split(HOP_MARK, 1)[0]
            raise HTTPException(
                status_code=400,
                detail=f"Invalid model name {model!r}: it is internal to this proxy; ask for"
                f" {route!r}.",
            )
        return data

    async def async_filter_listed_models(
        self, user_api_key_dict: Any, model_names: Sequence[str]
    ) -> Sequence[str]:
        return [name for name in model_names if HOP_MARK not in name]

    async def async_post_call_response_headers_hook(
        self,
        data: dict[str, Any],
        user_api_key_dict: Any,
        response: object,
        request_headers: dict[str, str] | None = None,
        litellm_call_info: dict[str, object] | None = None,
    ) -> dict[str, str] | None:
        """Name the model behind a hop group in `x-litellm-model-group` (clients read it)."""
        hidden = getattr(response, "_hidden_params", None)
        headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
        group = headers.get(_GROUP_HEADER) if isinstance(headers, dict) else None
        if group is None:  # /v1/messages has dropped the hidden params by now
            details = getattr(data.get("litellm_logging_obj"), "model_call_details", None) or {}
            group = ((details.get("litellm_params") or {}).get("metadata") or {}).get("model_group")
        if not isinstance(group, str) or HOP_MARK not in group:
            return None
        shown = _shown(group)
        if isinstance(headers, dict):
            # A stream that fell back stamps this value as `model` on each chunk.
            headers[_GROUP_HEADER] = shown
        return {_GROUP_HEADER: shown}

    async def async_post_call_failure_deployment_hook(
        self,
        request_data: Mapping[str, object],
        exception: Exception,
        call_type: Any,
        fallback_depth: int | None = None,
    ) -> None:
        """Once per failed upstream attempt, awaited before the router falls back."""
        if _is_router_refusal(exception):
            return
        data: Mapping[str, Any] = request_data
        failure = Failure(_model(data.get("model")), _status(exception), _reason(exception))
        call_id = data.get("litellm_call_id")
        if isinstance(call_id, str):
            self._remember(call_id, failure)
        if failure.status in COOLDOWN_STATUSES:
            self._cool_down(_deployment_id(data), exception, failure)
        elif failure.status == 401:
            _drop_copilot_key()

    def _cool_down(self, deployment: str | None, exc: Exception, failure: Failure) -> None:
        router = _router()
        if router is None or deployment is None or not router.cooldown_time:
            return
        # Like LiteLLM's allowed_fails: tolerate that many failures per minute.
        now = time.monotonic()
        recent = [t for t in self._recent.get(failure.model, []) if t > now - 60] + [now]
        self._recent[failure.model] = recent
        if len(recent) <= int(router.allowed_fails or 0):
            return
        self._recent.pop(failure.model, None)
        # The same Copilot model serves several groups (its name, the prefixed
        # name, routes, "*"): its quota is spent for all of them.
        same_model = [
            str(d.get("model_info", {}).get("id"))
            for d in router.model_list
            if _deployment_model(d) == failure.model
        ]
        for ident in {deployment, *same_model}:
            # cooldown_time None: the router's own, from router_settings.cooldown_time.
            router.cooldown_cache.add_deployment_to_cooldown(
                model_id=ident,
                original_exception=exc,
                exception_status=failure.status,
                cooldown_time=None,
            )
        self._cooling[failure.model] = (failure, now + float(router.cooldown_time))

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        slo = kwargs.get("standard_logging_object") or {}
        meta = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        group = str(slo.get("model_group") or meta.get("model_group") or kwargs.get("model"))
        served = _shown(group)
        asked = str(meta.get("original_model_group") or group)
        route = meta.get("user_api_key_request_route") or slo.get("call_type") or "-"
        if asked.startswith("MCP: "):  # LiteLLM names MCP calls "MCP: <tool>"
            self.log.info(
                "route=%s mcp=%s status=200 ms=%d",
                route,
                asked.removeprefix("MCP: "),
                _millis(start_time, end_time),
            )
            return
        failed = [f.model for f in self._forget(kwargs.get("litellm_call_id"))]
        # Hops skipped while cooling down are only in LiteLLM's own record.
        for hop in meta.get("previous_models") or ():
            model = _model(hop.get("model") or _group_model(hop.get("model_group")))
            if model not in failed:
                failed.append(model)
        self.log.info(
            "route=%s asked=%s served=%s upstream=%s failed=%s status=200 stream=%s ms=%d",
            route,
            asked,
            served,
            _model(slo.get("model")),
            ",".join(failed) or "-",
            str(bool(slo.get("stream"))).lower(),
            _millis(start_time, end_time),
        )

    async def async_post_call_failure_hook(
        self,
        request_data: dict[str, Any],
        original_exception: Exception,
        user_api_key_dict: Any,
        traceback_str: str | None = None,
    ) -> HTTPException | None:
        """Once per failed client request: log it and make the error say what happened."""
        meta = request_data.get("metadata") or {}
        route = getattr(user_api_key_dict, "request_route", None) or meta.get(
            "user_api_key_request_route"
        )
        asked = str(request_data.get("model") or "-")
        failures = self._forget(request_data.get("litellm_call_id"))
        status = _status(original_exception)
        answer: HTTPException | None = None
        if getattr(original_exception, "type", None) == "no_db_connection":
            status = 401
            answer = HTTPException(
                status_code=401,
                detail="Invalid API key: send this proxy's key as 'Authorization: Bearer <key>' "
                "(or 'x-api-key: <key>' from Anthropic clients).",
            )
        elif "No api key passed in" in str(original_exception):
            status = 401
        elif failures or _is_router_refusal(original_exception):
            answer = self._chain_error(asked, failures, status)
            if answer is not None:
                # /v1/messages ignores a returned exception but sends this message.
                original_exception.message = answer.detail  # type: ignore[attr-defined]
        self.log.info(
            "route=%s asked=%s served=- upstream=- failed=%s status=%s error=%s",
            route or "-",
            asked,
            ",".join(f.model for f in failures) or "-",
            answer.status_code if answer else (status or "-"),
            _reason(original_exception),
        )
        return answer

    def _chain_error(
        self, asked: str, failures: list[Failure], status: int | None
    ) -> HTTPException | None:
        now = time.monotonic()
        by_model = {f.model: f for f in failures}
        parts: list[str] = []
        for model in self._chain(asked) or list(by_model):
            if model in by_model:
                parts.append(by_model[model].describe())
            elif model in self._cooling and self._cooling[model][1] > now:
                why, until = self._cooling[model]
                parts.append(f"{why.describe()}, skipped for {int(until - now) + 1} s")
            else:
                parts.append(f"{model}: not tried")
        if len(parts) < 2:
            return None  # one model: LiteLLM's own error already names it
        return HTTPException(
            status_code=status or 503,
            detail=f"Every model for '{asked}' failed. " + "; ".join(parts) + ".",
        )


def _millis(start: Any, end: Any) -> int:
    try:
        return int((end - start).total_seconds() * 1000)
    except (TypeError, AttributeError):
        return 0


request_logger = RequestLogger()
