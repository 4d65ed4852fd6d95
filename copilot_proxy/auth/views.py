"""JSON shapes of the API (pure). Nothing here ever sees a token."""

from __future__ import annotations

from typing import Any

from copilot_proxy.auth.security import Scope
from copilot_proxy.auth.stores.protocol import AppCredential, ProxyInfo
from copilot_proxy.github.copilot import Quota, Usage


def quota_view(q: Quota) -> dict[str, Any]:
    return {
        "kind": q.kind,
        "entitlement": q.entitlement,
        "remaining": q.remaining,
        "percentRemaining": q.percent_remaining,
        "unlimited": q.unlimited,
        "unit": q.unit or None,
    }


def usage_view(usage: Usage | None, error: str) -> dict[str, Any] | None:
    if usage is None:
        return {"error": error} if error else None
    return {
        "plan": usage.plan or None,
        "quotaResetDate": usage.reset_date or None,
        "quotas": [quota_view(q) for q in usage.quotas],
        "error": None,
    }


def credential_view(app: AppCredential | None) -> dict[str, Any]:
    """Where the proxy's GitHub token comes from: a person's sign-in or a GitHub App."""
    if app is None:
        return {"kind": "DeviceFlow"}
    return {
        "kind": "GitHubApp",
        "issuer": app.issuer,
        "installationId": app.installation_id,
        "account": app.account or None,
        "expiresAt": app.expires_at or None,
        "renewAt": app.renew_at or None,
        "ready": {"True": True, "False": False}.get(app.ready),
        "reason": app.reason or None,
        "message": app.message or None,
    }


def copilot_view(info: ProxyInfo, usage: Usage | None, error: str) -> dict[str, Any] | None:
    if not info.token.present:
        return None
    if info.app is not None:  # an organisation's AI credits: no person's quota (usage.py)
        return {"billedTo": info.app.account or None, "quotas": [], "error": None}
    return usage_view(usage, error)


def proxy_view(
    info: ProxyInfo,
    usage: Usage | None,
    usage_error: str,
    login_in_progress: bool,
    now: float,
) -> dict[str, Any]:
    age = info.token.age(now)
    return {
        "id": info.ref.id,
        "namespace": info.ref.namespace,
        "name": info.ref.name,
        "tokenLocation": info.token_location,
        "githubHost": info.github_host,
        "token": {
            "state": "present" if info.token.present else "missing",
            "login": info.token.login or None,
            "updatedAt": info.token.updated_at or None,
            "ageSeconds": int(age) if age is not None else None,
        },
        "credential": credential_view(info.app),
        "copilot": copilot_view(info, usage, usage_error),
        "ready": {"True": True, "False": False}.get(info.ready),
        "statusMessage": info.status_message or None,
        "loginInProgress": login_in_progress,
    }


def session_view(scope: Scope | None, csrf: str, admin_password_set: bool) -> dict[str, Any]:
    return {
        "authenticated": bool(scope),
        "scope": None
        if not scope
        else ("all" if scope.all else sorted(ref.id for ref in scope.proxies)),
        "csrfToken": csrf if scope else None,
        "adminPasswordConfigured": admin_password_set,
    }
