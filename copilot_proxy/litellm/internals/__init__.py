"""Every LiteLLM internal the plugin touches, with its reason: check them on an upgrade.

Read off LiteLLM 1.108.7 (the pin in requirements/runtime.txt). The hook
methods' arguments are LiteLLM's CustomLogger interface; what this package
reaches is not part of it. One module per part of LiteLLM, each listing the
internals it touches and why in its docstring:
- app.py: the proxy process and its ASGI app (OTel import, the route gate, our
  count_tokens route, /metrics, the config file's path);
- router.py: the Router (model groups, fallbacks, its cooldown cache, its prompt
  count) and the request data it hands the hooks;
- errors.py: LiteLLM's exceptions, and the answers the plugin makes of them;
- authenticator.py: the github_copilot Authenticator (the key exchange: which token file
  a key came from, a refused credential);
- copilot.py: the github_copilot provider (its key file, headers, /v1/messages
  endpoint) and the HTTP transport the usage tee wraps.
Callers use them as `internals.<name>`: every call into LiteLLM's inside reads
so. tests/litellm/test_internals.py checks what can be checked against the
installed package without a proxy; tests/proxy checks the rest end to end.
LiteLLM is imported inside the functions: most of it only exists in the proxy.
"""

from __future__ import annotations

from copilot_proxy.litellm.internals.app import (
    METRICS_PATH,
    OTEL_LOGGER,
    add_route_first,
    config_path,
    fail_otel_import_fast,
    install_gate,
    mount_metrics,
)
from copilot_proxy.litellm.internals.authenticator import (
    CredentialRefused,
    access_token_file,
    check_key,
    key_known_fresh,
    token_identity,
    watch_credential,
)
from copilot_proxy.litellm.internals.copilot import (
    INITIATOR_HEADER,
    REQUEST_ID_HEADER,
    copilot_headers,
    copilot_messages_endpoint,
    drop_copilot_key,
    tee_copilot_usage,
)
from copilot_proxy.litellm.internals.errors import (
    CONTEXT_ERROR,
    NO_DB,
    NO_KEY,
    ROUTER_REFUSAL,
    answer_now,
    context_window_error,
    error_of,
    is_context_window,
    is_missing_client_key,
    is_router_refusal,
    is_wrong_client_key,
    response_headers,
    set_message,
    set_status,
)
from copilot_proxy.litellm.internals.router import (
    GROUP_HEADER,
    client_headers,
    cool_down,
    count_prompt,
    deployment_id,
    extra_headers,
    logged_model_group,
    proxy_router,
    router_view,
    view_of,
)

__all__ = [
    "CONTEXT_ERROR",
    "GROUP_HEADER",
    "INITIATOR_HEADER",
    "METRICS_PATH",
    "NO_DB",
    "NO_KEY",
    "OTEL_LOGGER",
    "REQUEST_ID_HEADER",
    "ROUTER_REFUSAL",
    "CredentialRefused",
    "access_token_file",
    "add_route_first",
    "answer_now",
    "check_key",
    "client_headers",
    "config_path",
    "context_window_error",
    "cool_down",
    "copilot_headers",
    "copilot_messages_endpoint",
    "count_prompt",
    "deployment_id",
    "drop_copilot_key",
    "error_of",
    "extra_headers",
    "fail_otel_import_fast",
    "install_gate",
    "is_context_window",
    "is_missing_client_key",
    "is_router_refusal",
    "is_wrong_client_key",
    "key_known_fresh",
    "logged_model_group",
    "mount_metrics",
    "proxy_router",
    "response_headers",
    "router_view",
    "set_message",
    "set_status",
    "tee_copilot_usage",
    "token_identity",
    "view_of",
    "watch_credential",
]
