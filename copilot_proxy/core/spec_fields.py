"""The spec's single fields that need more than a type: where the account lives, the
token Secret, the proxy container's image pull policy and resources (pure).

Helpers of spec.py; each raises SpecError naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from copilot_proxy.core import bounds, names
from copilot_proxy.core.bounds import SpecError, mapping, matching, only, text
from copilot_proxy.core.github import HOST_PATTERN, GitHub, HostNotAllowed, resolve


def github(raw: dict[str, Any], hosts: Sequence[GitHub]) -> GitHub:
    """One of the configured `hosts`, picked by `spec.github` (core/github.py)."""
    only(raw, "github.", {"host", "apiUrl"})
    host = text(raw, "host", "github.host", "spec.github.host", "github.com")
    matching(host, HOST_PATTERN, "github.host", "a host name such as github.com")
    api_url = text(raw, "apiUrl", "github.apiUrl", "spec.github.apiUrl")
    if api_url:
        matching(api_url, bounds.HTTP_URL, "github.apiUrl", "an http(s) URL")
    try:
        return resolve(hosts, host, api_url)
    except HostNotAllowed as refused:
        raise SpecError(refused.field, refused.message) from None


def token_secret(proxy: str, raw: dict[str, Any]) -> str:
    only(raw, "tokenSecret.", {"name"})
    name = text(raw, "name", "tokenSecret.name", "spec.tokenSecret.name")
    if not name:
        return names.token_secret(proxy)
    return matching(name, bounds.SECRET_NAME, "tokenSecret.name", "a Secret name")


def pull_policy(spec: dict[str, Any]) -> str:
    policy = spec.get("imagePullPolicy")
    policy = "IfNotPresent" if policy is None else policy
    if policy not in bounds.PULL_POLICIES:
        raise SpecError("imagePullPolicy", "must be one of " + ", ".join(bounds.PULL_POLICIES))
    return str(policy)


def resources(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    only(raw, "resources.", {"requests", "limits"})
    for kind in raw:
        for resource, amount in mapping(raw, kind, "resources.").items():
            ok = isinstance(amount, int) and not isinstance(amount, bool)
            if not ok and not (isinstance(amount, str) and bounds.QUANTITY.match(amount)):
                raise SpecError(f"resources.{kind}.{resource}", f"{amount!r} is not a quantity")
    return dict(raw)
