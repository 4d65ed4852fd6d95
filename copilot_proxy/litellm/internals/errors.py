"""LiteLLM's exceptions: what they say, and the answers the plugin makes of them.

- error_of: `status_code`/`code`, `message` and `body.code` of LiteLLM's exceptions
  (why a hop failed, which cooldown);
- response_headers: `litellm_response_headers` (a 429's Retry-After);
- is_router_refusal / is_wrong_client_key / is_missing_client_key: matched by class
  name, `ProxyException.type` and message (the router's "No deployments available",
  LiteLLM's 400 "No connected db." for a wrong key);
- set_message / set_status: /v1/messages answers with the exception's own `message` and
  `status_code`, not the failure hook's HTTPException;
- answer_now: a `ProxyException` every route sends as given, headers included (the
  all-cooling answer from the pre-call hook);
- context_window_error / is_context_window: `ContextWindowExceededError`, on which the
  router falls back (a prompt too long for a model's window).
"""

from __future__ import annotations

from collections.abc import Mapping

from copilot_proxy.litellm.failures import Error

ROUTER_REFUSAL = "RouterRateLimitError"  # "No deployments available": every one cooling down
NO_DB = "no_db_connection"  # ProxyException.type of a wrong client key without a database
NO_KEY = "No api key passed in"  # the auth error of a request without a client key
CONTEXT_ERROR = "ContextWindowExceededError"  # litellm.exceptions; LiteLLM falls back on it


def error_of(exc: BaseException) -> Error:
    """LiteLLM's exceptions carry the HTTP status as `status_code` (some as `code`),
    the upstream's answer in `message` and, on the chat path, its error object as `body`
    (whose `code`, e.g. user_global_rate_limited, the message may not repeat)."""
    text = str(getattr(exc, "message", "") or exc)
    body = getattr(exc, "body", None)
    code = body.get("code") if isinstance(body, Mapping) else None
    if isinstance(code, str) and code not in text:
        text = f"{text} (code: {code})"
    return Error(_status(exc), text, type(exc).__name__)


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        try:
            if value is not None:
                return int(value)
        except (TypeError, ValueError):
            continue
    return None


def response_headers(exc: BaseException) -> dict[str, str]:
    """The upstream answer's headers: LiteLLM keeps them as `litellm_response_headers`."""
    headers = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return {str(k): str(v) for k, v in dict(headers or {}).items()}
    except (TypeError, ValueError):
        return {}


def is_router_refusal(exc: BaseException) -> bool:
    """The router refused before any upstream call (litellm.types.router, matched by name)."""
    return type(exc).__name__ == ROUTER_REFUSAL


def is_wrong_client_key(exc: BaseException) -> bool:
    """A wrong client key: without a database LiteLLM says 400 "No connected db." instead."""
    return getattr(exc, "type", None) == NO_DB


def is_missing_client_key(exc: BaseException) -> bool:
    return NO_KEY in str(exc)


def set_message(exc: Exception, text: str) -> None:
    """/v1/messages ignores the exception a failure hook returns but sends this `message`."""
    exc.message = text  # type: ignore[attr-defined]


def set_status(exc: Exception, status: int) -> None:
    """/v1/messages answers a failure with the exception's own status."""
    exc.status_code = status  # type: ignore[attr-defined]


def answer_now(status: int, message: str, kind: str, headers: Mapping[str, str]) -> Exception:
    """An error to raise from `async_pre_call_hook`: every route (chat, responses,
    messages) answers it as given, headers included (proxy_server.py's ProxyException
    handler; anthropic_endpoints/endpoints.py for /v1/messages)."""
    from litellm.proxy._types import ProxyException

    return ProxyException(
        message=message, type=kind, param=None, code=status, headers=dict(headers)
    )


def context_window_error(model: str, message: str) -> Exception:
    """What LiteLLM's own pre-call check raises: the router falls back on it."""
    from litellm.exceptions import ContextWindowExceededError

    return ContextWindowExceededError(message=message, model=model, llm_provider="github_copilot")


def is_context_window(exc: BaseException) -> bool:
    return type(exc).__name__ == CONTEXT_ERROR
