"""The proxies the service serves and where their GitHub tokens live: one interface, two stores.

- `KubernetesStore` (kubernetes.py): CopilotProxy objects in the watched
  namespaces; tokens in their token Secrets (docs/contracts.md).
- `DirectoryStore` (directory.py): proxies given by the caller (local
  mode: the manifest it runs); tokens in files of mode 0600.

Store methods are blocking (the Kubernetes client is); the app calls them in a
worker thread. Errors are `StoreError`s whose message names the object, never
a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from copilot_proxy.core.timestamps import parse_rfc3339


@dataclass(frozen=True, order=True)
class ProxyRef:
    namespace: str
    name: str

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class TokenInfo:
    present: bool
    login: str = ""
    updated_at: str = ""  # RFC 3339, as written by this service

    def age(self, now: float) -> float | None:
        """Seconds since the token was stored; None without a token or a readable time."""
        updated = parse_rfc3339(self.updated_at) if self.present else None
        return max(now - updated.timestamp(), 0.0) if updated else None


@dataclass(frozen=True)
class AppCredential:
    """A proxy whose token a GitHub App installation provides: the operator (or the
    local run) mints and renews it, nobody signs in. Never holds the token or the key."""

    issuer: str  # the App's client ID or App ID (the JWT's iss)
    installation_id: int
    account: str = ""  # the organisation the installation is on (it is billed)
    expires_at: str = ""  # RFC 3339: the stored installation token's expiry
    renew_at: str = ""  # RFC 3339: when the next one is minted
    # The credential's condition (CredentialReady): "True" | "False" | "" (unknown).
    ready: str = ""
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class ProxyInfo:
    ref: ProxyRef
    # Where the token lives, for people: "Secret ai/copilot-github-token" or a path.
    token_location: str
    token: TokenInfo
    github_host: str = "github.com"
    github_api_url: str = ""
    # The operator's Ready condition, when there is an operator.
    ready: str = ""  # "True" | "False" | "" (unknown)
    status_message: str = ""
    # Why the proxy's token Secret may not be used (core/token_secret.py); '' when it may.
    token_refused: str = ""
    # Set when a GitHub App provides the token (issue 15): no sign-in, no sign-out.
    app: AppCredential | None = None


class StoreError(Exception):
    """The store could not do it; the message is safe to show."""


class TokenStore(Protocol):
    kind: str  # "kubernetes" | "directory"

    def list_proxies(self) -> list[ProxyInfo]: ...

    def get_proxy(self, ref: ProxyRef) -> ProxyInfo | None: ...

    def read_token(self, ref: ProxyRef) -> str:
        """The stored GitHub token, '' when there is none."""
        ...

    def write_token(self, ref: ProxyRef, token: str, login: str, when: datetime) -> None: ...

    def clear_token(self, ref: ProxyRef) -> None: ...

    def master_key(self, ref: ProxyRef) -> str:
        """The proxy's master key, '' when there is none (yet)."""
        ...

    def check(self) -> None:
        """Raise StoreError when the store cannot be reached (readiness)."""
        ...
