"""LiteLLM's Router and the request data it hands the hooks.

- proxy_router / view_of / router_view: `proxy_server.llm_router`, its `model_list`,
  `fallbacks`, `cooldown_time`, `allowed_fails` (routing, chains, cooldown policy);
- cool_down: `router.cooldown_cache.add_deployment_to_cooldown`, the cache the router
  skips even with `disable_cooldowns: true` (cooldowns as Copilot states them);
- count_prompt: `router._count_pre_call_check_tokens`, LiteLLM's own pre-call count
  (prompt windows without `enable_pre_call_checks`);
- deployment_id: the attempt's `model_info.id` (which deployments to cool down);
- extra_headers / logged_model_group: `_hidden_params["additional_headers"]` and the
  logging object's `model_group` (hop groups shown as their model);
- client_headers: `proxy_server_request.headers` (who started a request: X-Initiator).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from copilot_proxy.litellm.routing import RouterView

GROUP_HEADER = "x-litellm-model-group"  # the response header naming the group that answered


def proxy_router() -> Any:
    """The proxy's router: proxy_server.llm_router, built from the config at start."""
    from litellm.proxy import proxy_server  # only importable inside the proxy

    return getattr(proxy_server, "llm_router", None)


def view_of(router: Any) -> RouterView:
    """A router's model groups, fallbacks and cooldown settings; empty without a router."""
    if router is None:
        return RouterView()
    return RouterView(
        model_list=router.model_list,
        fallbacks=router.fallbacks or [],
        names=frozenset(router.get_model_names()),
        cooldown_time=float(router.cooldown_time or 0),
        allowed_fails=int(router.allowed_fails or 0),
    )


def router_view() -> RouterView:
    return view_of(proxy_router())


def cool_down(
    router: Any,
    deployment_ids: Iterable[str],
    exception: Exception,
    status: int | None,
    seconds: float,
) -> None:
    """Put deployments into the router's cooldown cache, which it skips for `seconds` (each
    entry has its own time, router_utils/cooldown_cache.py). The router still reads that
    cache with `disable_cooldowns: true` (which only stops it from adding to it)."""
    for ident in deployment_ids:
        router.cooldown_cache.add_deployment_to_cooldown(
            model_id=ident,
            original_exception=exception,
            exception_status=status,
            cooldown_time=seconds,
        )


def count_prompt(
    router: Any, messages: Sequence[Mapping[str, Any]] | None, kwargs: Mapping[str, Any]
) -> int:
    """The request's cl100k count as LiteLLM's pre-call check makes it: chat messages,
    Anthropic `system` and `tools`, Responses `input` and `instructions`. Blocking."""
    count: int = router._count_pre_call_check_tokens(
        messages=messages, input=kwargs.get("input"), request_kwargs=kwargs
    )
    return count


def deployment_id(data: Mapping[str, Any]) -> str | None:
    """The router deployment a request attempt used: its `model_info.id`."""
    info = data.get("model_info") or (data.get("litellm_params") or {}).get("model_info") or {}
    ident = info.get("id") if isinstance(info, Mapping) else None
    return str(ident) if ident else None


def extra_headers(response: object) -> dict[str, Any] | None:
    """The headers LiteLLM adds to a response (`_hidden_params["additional_headers"]`).

    A stream that fell back also stamps their model group as `model` on each chunk.
    """
    hidden = getattr(response, "_hidden_params", None)
    headers = hidden.get("additional_headers") if isinstance(hidden, dict) else None
    return headers if isinstance(headers, dict) else None


def logged_model_group(data: Mapping[str, Any]) -> object:
    """The model group, from the request's logging object: /v1/messages has
    dropped a response's hidden params by the time of the headers hook."""
    details = getattr(data.get("litellm_logging_obj"), "model_call_details", None) or {}
    return ((details.get("litellm_params") or {}).get("metadata") or {}).get("model_group")


def client_headers(data: Mapping[str, Any]) -> Mapping[str, str]:
    """The client's request headers (keys removed) LiteLLM keeps with a request's data."""
    request = data.get("proxy_server_request")
    headers = request.get("headers") if isinstance(request, Mapping) else None
    return headers if isinstance(headers, Mapping) else {}
