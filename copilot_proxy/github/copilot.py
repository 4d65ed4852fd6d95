"""Does a GitHub token give Copilot access, and how much quota is left?

Before a token is stored it is exchanged for a Copilot key, exactly as the proxy
will do, so an account without Copilot never gets stored. `classify_exchange`
and `parse_usage` are pure; the async functions add the HTTP calls. Field names
of `copilot_internal/user` move (billing changed in 2026): read them defensively.
The endpoints and their answers: docs/upstream.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from copilot_proxy.github.device_flow import GitHubUnreachable, decode_body
from copilot_proxy.github.endpoints import GitHubEndpoints

# What the editors send; the Copilot endpoints expect an editor to be named.
EDITOR_HEADERS = {
    "accept": "application/json",
    "editor-version": "vscode/1.95.0",
    "editor-plugin-version": "copilot/1.250.0",
    "user-agent": "GithubCopilot/1.250.0",
}


async def _get(http: httpx.AsyncClient, url: str, token: str) -> httpx.Response:
    """GET as an editor does, with the GitHub token."""
    return await http.get(url, headers={**EDITOR_HEADERS, "authorization": f"token {token}"})


@dataclass(frozen=True)
class CopilotAccess:
    """A successful exchange; the Copilot key itself is not kept."""

    sku: str
    api: str
    expires_at: int


class CopilotDenied(Exception):
    """The account has no usable Copilot access (401/403/404): do not store, do not retry."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # bad_token | no_copilot | suspended
        self.message = message


class CopilotUnavailable(Exception):
    """GitHub could not say (5xx, odd answer); the user may try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def classify_exchange(status: int, body: Mapping[str, Any]) -> CopilotAccess:
    """The token endpoint's answer -> access, or the reason there is none."""
    detail = str(body.get("message") or "").strip()
    if status == 200 and body.get("token"):
        endpoints = body.get("endpoints")
        api = str(endpoints.get("api") or "") if isinstance(endpoints, dict) else ""
        expires = body.get("expires_at")
        return CopilotAccess(
            sku=str(body.get("sku") or ""),
            api=api,
            expires_at=expires if isinstance(expires, int) else 0,
        )
    if status == 401:
        raise CopilotDenied("bad_token", "GitHub rejected the token (401 Bad credentials).")
    if status == 403 and "suspend" in detail.lower():
        raise CopilotDenied(
            "suspended",
            "GitHub Copilot access of this account is suspended; contact GitHub support.",
        )
    if status in (403, 404):
        raise CopilotDenied(
            "no_copilot",
            "This GitHub account has no GitHub Copilot access"
            + (f" (GitHub: {detail})" if detail else "")
            + ". Sign in with an account that has a Copilot subscription.",
        )
    if status == 200:
        raise CopilotUnavailable("GitHub answered without a Copilot key.")
    raise CopilotUnavailable(f"GitHub could not confirm Copilot access (HTTP {status}).")


async def check_copilot(http: httpx.AsyncClient, ep: GitHubEndpoints, token: str) -> CopilotAccess:
    try:
        response = await _get(http, ep.copilot_token_url, token)
    except httpx.TransportError:
        raise GitHubUnreachable(ep.login_host) from None
    return classify_exchange(response.status_code, decode_body(response.content))


AI_CREDITS = "ai_credits"
PREMIUM_REQUESTS = "premium_requests"


@dataclass(frozen=True)
class Quota:
    kind: str
    entitlement: float | None
    remaining: float | None
    percent_remaining: float | None
    unlimited: bool
    unit: str = ""  # AI_CREDITS, PREMIUM_REQUESTS, or "" (chat, completions, ...)


@dataclass(frozen=True)
class Usage:
    login: str
    plan: str
    reset_date: str
    quotas: tuple[Quota, ...]

    def quota(self, kind: str) -> Quota | None:
        return next((q for q in self.quotas if q.kind == kind), None)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_usage(body: Mapping[str, Any]) -> Usage:
    """The user endpoint's answer; every field optional (docs/upstream.md).

    Since 2026-06-01 a monthly plan is billed in AI credits: the answer says
    `token_based_billing: true` (top level or per snapshot) and its
    `premium_interactions` snapshot then counts AI credits; annual plans keep
    counting premium requests there. A token-based snapshot of all zeros is a
    placeholder (no per-seat allowance, e.g. an organisation's pool): no figures.
    """
    snapshots = body.get("quota_snapshots")
    token_based = body.get("token_based_billing") is True
    quotas: list[Quota] = []
    if isinstance(snapshots, dict):
        for kind, snap in sorted(snapshots.items()):
            if isinstance(snap, dict):
                quotas.append(_quota(str(kind), snap, token_based))
    reset = (
        body.get("quota_reset_date")
        or body.get("quota_reset_date_utc")
        or body.get("limited_user_reset_date")
        or ""
    )
    return Usage(
        login=str(body.get("login") or ""),
        plan=str(body.get("copilot_plan") or body.get("access_type_sku") or ""),
        reset_date=str(reset),
        quotas=tuple(quotas),
    )


def _quota(kind: str, snap: Mapping[str, Any], token_based: bool) -> Quota:
    credits = token_based or snap.get("token_based_billing") is True or "credit" in kind
    unit = ""
    if "credit" in kind or kind == "premium_interactions":
        unit = AI_CREDITS if credits else PREMIUM_REQUESTS
    entitlement = _number(snap.get("entitlement"))
    remaining = _number(snap.get("remaining", snap.get("quota_remaining")))
    unlimited = bool(snap.get("unlimited"))
    if unit == AI_CREDITS and not unlimited and not entitlement and not remaining:
        entitlement = remaining = None  # a placeholder, not "0 of 0 left"
    return Quota(
        kind=kind,
        entitlement=entitlement,
        remaining=remaining,
        percent_remaining=_number(snap.get("percent_remaining")),
        unlimited=unlimited,
        unit=unit,
    )


class UsageError(Exception):
    """Usage could not be read; the message is shown next to the proxy."""


async def fetch_usage(http: httpx.AsyncClient, ep: GitHubEndpoints, token: str) -> Usage:
    try:
        response = await _get(http, ep.copilot_user_url, token)
    except httpx.TransportError:
        raise UsageError(f"{ep.login_host} did not answer.") from None
    if response.status_code == 401:
        raise UsageError("GitHub rejects the stored token; sign in again.")
    if response.status_code in (403, 404):
        raise UsageError("The account of the stored token has no Copilot access.")
    if response.status_code != 200:
        raise UsageError(f"GitHub answered HTTP {response.status_code} for the usage.")
    return parse_usage(decode_body(response.content))


async def fetch_login(http: httpx.AsyncClient, ep: GitHubEndpoints, token: str) -> str:
    """The account's login: from the Copilot user answer, else `GET /user`; '' if unknown."""
    try:
        usage = await fetch_usage(http, ep, token)
        if usage.login:
            return usage.login
    except UsageError:
        pass
    try:
        response = await _get(http, ep.user_url, token)
    except httpx.TransportError:
        return ""
    if response.status_code != 200:
        return ""
    return str(decode_body(response.content).get("login") or "")
