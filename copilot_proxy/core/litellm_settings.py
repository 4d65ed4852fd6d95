"""`spec.litellm`: the LiteLLM settings a CopilotProxy may add, an allow-list (pure).

LiteLLM's config can load code (`callbacks: s3://...`, `custom_auth`), open
routes without a key (`pass_through_endpoints`), reach other servers
(`cache_params.host`, `redis_host`, alerting) and read the proxy's environment
(`os.environ/LITELLM_MASTER_KEY`). A CopilotProxy's author is not trusted with
any of that, so only the settings below pass: plain switches and numbers that
change how the proxy behaves, each with its type and bounds. The CRD lists the
same keys with the same bounds (a test keeps them equal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from copilot_proxy.core.bounds import SpecError, no_environment_references


@dataclass(frozen=True)
class Setting:
    """One allowed key: a bool, a whole number in [low, high], a choice, or a list of choices."""

    kind: type
    low: int = 0
    high: int = 0
    choices: tuple[str, ...] = ()
    many: bool = False  # a list of `choices`

    def check(self, value: Any, field: str) -> Any:
        if self.many:
            if not isinstance(value, list) or len(value) > len(self.choices):
                raise SpecError(field, f"must be a list of {', '.join(self.choices)}")
            for i, item in enumerate(value):
                Setting(str, choices=self.choices).check(item, f"{field}[{i}]")
            return list(value)
        if self.kind is bool and not isinstance(value, bool):
            raise SpecError(field, f"must be true or false, not {value!r}")
        if self.kind is int and (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not self.low <= value <= self.high
        ):
            raise SpecError(
                field, f"must be a whole number from {self.low} to {self.high}, not {value!r}"
            )
        no_environment_references(value, field)
        if self.choices and value not in self.choices:
            raise SpecError(field, f"must be one of {', '.join(self.choices)}, not {value!r}")
        return value


SWITCH = Setting(bool)
_KEY = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")

ALLOWED: dict[str, dict[str, Setting]] = {
    "litellm_settings": {
        "drop_params": SWITCH,
        "modify_params": SWITCH,
        "set_verbose": SWITCH,
        "json_logs": SWITCH,
        "turn_off_message_logging": SWITCH,
        "redact_user_api_key_info": SWITCH,
        "enable_json_schema_validation": SWITCH,
        "require_auth_for_metrics_endpoint": SWITCH,
        # Added to the operator's own callback; built-in, serves /metrics on the proxy.
        "callbacks": Setting(str, choices=("prometheus",), many=True),
    },
    "router_settings": {
        "routing_strategy": Setting(
            str, choices=("simple-shuffle", "least-busy", "latency-based-routing")
        ),
        "retry_after": Setting(int, 0, 600),
        "stream_timeout": Setting(int, 1, 3600),
        "enable_pre_call_checks": SWITCH,
    },
    "general_settings": {
        "disable_spend_logs": SWITCH,
        "max_parallel_requests": Setting(int, 1, 10000),
        "global_max_parallel_requests": Setting(int, 1, 100000),
        "max_request_size_mb": Setting(int, 1, 1024),
        "max_response_size_mb": Setting(int, 1, 1024),
        "disable_retry_on_max_parallel_request_limit_error": SWITCH,
    },
}

# Keys the operator renders from the spec: say where they are set instead.
OWNED: dict[str, str] = {
    "fallbacks": "spec.models and spec.routes",
    "model_list": "spec.models and spec.routes",
    "model_group_alias": "spec.routes",
    "num_retries": "spec.router.numRetries",
    "allowed_fails": "spec.router.allowedFails",
    "cooldown_time": "spec.router.cooldownSeconds",
    "timeout": "spec.router.timeoutSeconds",
    "request_timeout": "spec.router.timeoutSeconds",
    "master_key": "the operator (Secret <name>-master-key)",
}


def parse_litellm(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`spec.litellm` checked against the allow-list; SpecError naming the first bad key."""
    out: dict[str, dict[str, Any]] = {}
    for section, value in raw.items():
        if section not in ALLOWED:
            raise SpecError(
                f"litellm.{section}", "unknown section; use " + ", ".join(sorted(ALLOWED))
            )
        if not isinstance(value, dict):
            raise SpecError(f"litellm.{section}", "must be a mapping")
        out[section] = {
            key: _setting(section, key).check(item, f"litellm.{section}.{key}")
            for key, item in value.items()
        }
    return out


def _setting(section: str, key: Any) -> Setting:
    allowed = ALLOWED[section]
    if key in allowed:
        return allowed[key]
    if not (isinstance(key, str) and _KEY.match(key)):
        # Not echoed: whatever was pasted as a key lands in status and events otherwise.
        raise SpecError(f"litellm.{section}", "has a key that is not a setting name")
    field = f"litellm.{section}.{key}"
    if key in OWNED:
        raise SpecError(field, f"is set by the operator from {OWNED[key]}")
    raise SpecError(
        field,
        "is not a setting a CopilotProxy may change (it could reach other servers or run"
        f" code); allowed in {section}: " + ", ".join(sorted(allowed)),
    )
