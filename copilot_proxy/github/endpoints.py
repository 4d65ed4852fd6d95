"""Where GitHub lives for the login service and the Copilot clients: the endpoint URLs.

GitHub URLs are configuration: a proxy's `spec.github` names its host (GHE.com
tenants with data residency use other hosts), and the `GITHUB_*` environment
variables of docs/contracts.md override them for every proxy (the Helm chart
and the tests set them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from copilot_proxy.core.github import GitHub

DEFAULT_CLIENT_ID = "Iv1.b507a08c87ecfe98"
DEFAULT_HOST = "github.com"


@dataclass(frozen=True)
class GitHubEndpoints:
    device_code_url: str
    access_token_url: str
    copilot_token_url: str
    copilot_user_url: str
    client_id: str = DEFAULT_CLIENT_ID

    @property
    def user_url(self) -> str:
        """`GET /user` on the same API host as the Copilot endpoints."""
        base = self.copilot_user_url.removesuffix("/copilot_internal/user")
        return f"{base}/user"

    @property
    def login_host(self) -> str:
        """The host users sign in to, for messages ("github.com did not answer")."""
        return urlsplit(self.device_code_url).netloc or self.device_code_url


@dataclass(frozen=True)
class GitHubOverrides:
    """The environment's URL overrides; empty fields fall back to the proxy's host."""

    device_code_url: str = ""
    access_token_url: str = ""
    copilot_token_url: str = ""
    copilot_user_url: str = ""
    client_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubOverrides:
        return cls(
            device_code_url=env.get("GITHUB_DEVICE_CODE_URL", ""),
            access_token_url=env.get("GITHUB_ACCESS_TOKEN_URL", ""),
            copilot_token_url=env.get("GITHUB_COPILOT_API_KEY_URL", ""),
            copilot_user_url=env.get("GITHUB_COPILOT_USER_URL", ""),
            client_id=env.get("GITHUB_OAUTH_CLIENT_ID", ""),
        )


def endpoints_for(
    host: str = DEFAULT_HOST, api_url: str = "", overrides: GitHubOverrides | None = None
) -> GitHubEndpoints:
    """The URLs for a proxy whose `spec.github` says `host` / `apiUrl`."""
    o = overrides or GitHubOverrides()
    gh = GitHub(host=host or DEFAULT_HOST, api_url=api_url)
    return GitHubEndpoints(
        device_code_url=o.device_code_url or gh.device_code_url,
        access_token_url=o.access_token_url or gh.access_token_url,
        copilot_token_url=o.copilot_token_url or gh.copilot_token_url,
        copilot_user_url=o.copilot_user_url or gh.copilot_user_url,
        client_id=o.client_id or DEFAULT_CLIENT_ID,
    )
