"""Where GitHub lives for the login service and the Copilot clients: the endpoint URLs.

GitHub URLs are configuration: the operator's configured hosts (core/github.py),
of which a proxy's `spec.github` picks one by name, and the `GITHUB_*`
environment variables of docs/contracts.md, which override them for every
proxy (tests point them at the fake GitHub). Never the resource's own URLs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from copilot_proxy.core.github import GitHub

DEFAULT_CLIENT_ID = "Iv1.b507a08c87ecfe98"


@dataclass(frozen=True)
class GitHubEndpoints:
    device_code_url: str
    access_token_url: str
    copilot_token_url: str
    copilot_user_url: str
    client_id: str = DEFAULT_CLIENT_ID

    @property
    def api_base(self) -> str:
        """The REST API root the Copilot endpoints are on (the GitHub App endpoints too)."""
        return self.copilot_user_url.removesuffix("/copilot_internal/user")

    @property
    def web_base(self) -> str:
        """The web root users sign in to (settings pages in messages)."""
        return self.device_code_url.removesuffix("/login/device/code")

    @property
    def user_url(self) -> str:
        """`GET /user` on the same API host as the Copilot endpoints."""
        return f"{self.api_base}/user"

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


def endpoints_for(gh: GitHub, overrides: GitHubOverrides | None = None) -> GitHubEndpoints:
    """The URLs of one configured GitHub (`core.github.resolve` picked it for the proxy)."""
    o = overrides or GitHubOverrides()
    return GitHubEndpoints(
        device_code_url=o.device_code_url or gh.device_code_url,
        access_token_url=o.access_token_url or gh.access_token_url,
        copilot_token_url=o.copilot_token_url or gh.copilot_token_url,
        copilot_user_url=o.copilot_user_url or gh.copilot_user_url,
        client_id=o.client_id or DEFAULT_CLIENT_ID,
    )
