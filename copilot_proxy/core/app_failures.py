"""What GitHub's answers to a GitHub App mean, and what to do about each (pure).

Every failure is an `AppFailure`: the CredentialReady condition's reason and a
message saying what to do, never a key, a JWT or a token. `classify` reads
GitHub's documented answers (`{"message": ..., "documentation_url": ...}`) at two
stages: "app" (the JWT endpoints: `GET /app/installations/{id}` and
`POST .../access_tokens`) and "copilot" (the Copilot key exchange with the
installation token). The documented and the assumed answers: docs/contracts.md,
"GitHub App credential".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from copilot_proxy.core import names
from copilot_proxy.core.credential import GitHubApp

MINTED = "Minted"
KEY_SECRET_MISSING = "KeySecretMissing"
KEY_SECRET_NOT_ALLOWED = "KeySecretNotAllowed"
KEY_INVALID = "KeyInvalid"
CLOCK_SKEW = "ClockSkew"
APP_NOT_INSTALLED = "AppNotInstalled"
PERMISSION_MISSING = "PermissionMissing"
COPILOT_REQUESTS_DISABLED = "CopilotRequestsDisabled"
GITHUB_UNREACHABLE = "GitHubUnreachable"
# The installation token was refused at the key exchange (expired, revoked): mint anew at once.
TOKEN_REFUSED = "TokenRefused"

Stage = Literal["app", "copilot"]
# GitHub's words for a JWT whose times it refuses ("Generating a JWT for a GitHub App").
_CLOCK_WORDS = ("'exp'", "'iat'", "expiration time", "issued at")


@dataclass(frozen=True)
class AppFailure:
    reason: str
    message: str

    @property
    def transient(self) -> bool:
        """Worth asking again soon without anyone changing anything."""
        return self.reason in (GITHUB_UNREACHABLE, TOKEN_REFUSED)


@dataclass(frozen=True)
class Where:
    """What the messages name: the App, the proxy's namespace and name, the org, GitHub."""

    app: GitHubApp | None = None
    namespace: str = ""
    proxy: str = ""
    account: str = ""  # the organisation's login, once GitHub said it
    web_base: str = "https://github.com"

    @property
    def key_place(self) -> str:
        app = self.app
        if app is None:
            return "the App key Secret"
        return f"Secret {self.namespace}/{app.key_secret} key {app.key_name}"

    @property
    def installations(self) -> str:
        org = self.account or "<org>"
        return f"{self.web_base}/organizations/{org}/settings/installations"

    @property
    def installation(self) -> str:
        return str(self.app.installation_id) if self.app else "?"


def detail(body: Mapping[str, Any]) -> str:
    """GitHub's `message`, on one line and short (it lands in status and events)."""
    text = " ".join(str(body.get("message") or "").split())
    return text[:200]


def key_invalid(where: Where, why: str) -> AppFailure:
    app = where.app
    who = f"{'clientId' if app and app.client_id else 'appId'} {app.issuer}" if app else "the App"
    return AppFailure(
        KEY_INVALID,
        f"{why}: check that {who} is this App's and that {where.key_place} holds one of its"
        f" private keys (PEM); if not, generate a new private key in the App settings"
        f" ({where.web_base}/settings/apps -> the App -> Private keys) and store it in"
        f" {where.key_place}",
    )


def key_secret_missing(where: Where, what: str = "is missing") -> AppFailure:
    """The key Secret (or its key) is not there: how to create it and mark it."""
    app = where.app
    name, key = (app.key_secret, app.key_name) if app else ("NAME", "private-key.pem")
    return AppFailure(
        KEY_SECRET_MISSING,
        f"{where.key_place} {what}: download a private key in the App settings, then"
        f" kubectl create secret generic {name} -n {where.namespace} --from-file={key}=KEY.pem"
        f" && kubectl annotate secret -n {where.namespace} {name}"
        f" {names.APP_KEY_FOR_ANNOTATION}={where.proxy}",
    )


def key_secret_not_allowed(refusal: str) -> AppFailure:
    """credential.key_refusal's answer as a failure."""
    return AppFailure(KEY_SECRET_NOT_ALLOWED, refusal)


def unreachable(host: str, what: str = "did not answer") -> AppFailure:
    return AppFailure(GITHUB_UNREACHABLE, f"{host} {what}; the operator tries again shortly")


def classify(
    status: int, body: Mapping[str, Any], where: Where = Where(), stage: Stage = "app"
) -> AppFailure:
    """A refusal (any answer but 2xx) -> the reason and what to do."""
    said = detail(body)
    quoted = f"GitHub answered {status} ({said or 'no message'})"
    if status >= 500 or status == 429 or "rate limit" in said.lower():
        return unreachable(quoted.removeprefix("GitHub answered "), "from GitHub")
    lower = said.lower()
    if stage == "copilot":
        return _copilot(status, quoted, lower, where)
    if status == 401 and any(w in lower for w in _CLOCK_WORDS):
        return AppFailure(
            CLOCK_SKEW,
            f"{quoted}: the operator's clock is off from GitHub's; synchronise the node's"
            " clock (NTP). The JWT says it was issued 60 s ago and expires in 9 minutes",
        )
    if status == 401:
        return key_invalid(where, quoted)
    if status == 404:
        return AppFailure(
            APP_NOT_INSTALLED,
            f"{quoted}: the App has no installation {where.installation}; install the App on"
            f" the organisation that pays ({where.installations}, or the App's page -> Install"
            " App, All repositories) and set installationId to the number at the end of the"
            " installation's settings URL",
        )
    if status == 403 and "suspend" in lower:
        return _suspended(quoted, where)
    if status in (403, 422):
        return _permission(quoted, lower, where)
    return unreachable(quoted.removeprefix("GitHub answered "), "from GitHub")


def _permission(quoted: str, lower: str, where: Where) -> AppFailure:
    if "repositor" in lower:
        todo = (
            "list in repositoryIds only repositories the installation can access, or leave"
            " repositoryIds out"
        )
    else:
        wanted = ", ".join(f"{k}: {v}" for k, v in (where.app.permissions if where.app else ()))
        todo = (
            f"grant {wanted or 'the permissions asked'} in the App's settings (Permissions ->"
            " Repository permissions -> Copilot Requests: Read and write), then an organisation"
            f" owner accepts the new permissions at {where.installations}/{where.installation}"
        )
    return AppFailure(PERMISSION_MISSING, f"{quoted}: {todo}")


def _suspended(quoted: str, where: Where) -> AppFailure:
    return AppFailure(
        APP_NOT_INSTALLED,
        f"{quoted}: an organisation owner unsuspends it at"
        f" {where.installations}/{where.installation}",
    )


def _copilot(status: int, quoted: str, lower: str, where: Where) -> AppFailure:
    if status == 401:
        return AppFailure(
            TOKEN_REFUSED,
            f"{quoted} to the installation token (expired or revoked); a new one is minted now",
        )
    # Not every 403 is the org policy: a suspended installation, and a token or installation
    # without Copilot Requests write or All repositories access (docs/contracts.md).
    if status == 403 and "suspend" in lower:
        return _suspended(quoted, where)
    if status == 403 and "not accessible" in lower:
        return AppFailure(
            PERMISSION_MISSING,
            f"{quoted} at the Copilot key exchange: grant Copilot Requests: Read and write in the"
            " App's settings (Permissions -> Repository permissions) and give the installation"
            " All repositories access; an organisation owner accepts both at"
            f" {where.installations}/{where.installation}",
        )
    org = where.account or "<org>"
    return AppFailure(
        COPILOT_REQUESTS_DISABLED,
        f"{quoted} at the Copilot key exchange: the organisation {org} needs Copilot Business"
        " or Enterprise and its policy for Copilot requests from GitHub App installations"
        f" enabled ({where.web_base}/organizations/{org}/settings/copilot/policies)",
    )
