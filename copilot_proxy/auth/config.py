"""How the login service behaves (limits, admin password, cookies, the GitHub hosts it may
talk to); read once at start-up.

Which GitHub hosts exist is core/github.py (`COPILOT_PROXY_GITHUB_HOSTS`); their
URLs, copilot_proxy/github/endpoints.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from copilot_proxy.auth.security import DEFAULT_HOSTS as DEFAULT_PAGE_HOSTS
from copilot_proxy.core.github import DEFAULT_HOSTS, HOSTS_ENV, GitHub, parse_hosts, resolve
from copilot_proxy.github.endpoints import GitHubEndpoints, GitHubOverrides, endpoints_for

ADMIN_PASSWORD_ENV = "COPILOT_AUTH_ADMIN_PASSWORD"
# Host names the service answers to besides localhost and IP addresses, comma-separated
# (the chart passes its Service's names and `authService.allowedHosts`).
ALLOWED_HOSTS_ENV = "COPILOT_AUTH_ALLOWED_HOSTS"


@dataclass(frozen=True)
class Limits:
    """Rate limits and timings. Defaults suit people; tests shorten the waits."""

    # Device-flow starts per client (a session or a bearer credential) and in total.
    starts_per_client: int = 5
    starts_global: int = 20
    starts_window: float = 300.0
    # Wrong admin credentials per client address, and from everyone, within the
    # window; past either, every credential check first waits `credential_delay`.
    credential_failures: int = 10
    credential_failures_global: int = 50
    credential_window: float = 300.0
    credential_delay: float = 2.0
    # Request bodies (a credential is a few hundred bytes): larger ones answer 413 unread.
    max_body: int = 16 * 1024
    # Never poll GitHub faster than this, whatever interval it announces.
    min_poll_interval: float = 1.0
    # Consecutive unanswered polls before a login gives up as "unreachable".
    max_poll_failures: int = 3
    session_ttl: float = 8 * 3600.0
    # How often the Copilot quota of every signed-in proxy is read (in the background:
    # a request never makes the service call GitHub with a stored token).
    usage_ttl: float = 60.0
    http_timeout: float = 10.0
    # How long a finished login stays readable by GET /api/logins/{id}.
    finished_login_ttl: float = 3600.0


@dataclass(frozen=True)
class Settings:
    # The GitHub hosts a proxy may name; a token is sent nowhere else.
    github_hosts: tuple[GitHub, ...] = DEFAULT_HOSTS
    overrides: GitHubOverrides = field(default_factory=GitHubOverrides)
    admin_password: str = field(default="", repr=False)
    limits: Limits = field(default_factory=Limits)
    # Send the session cookie with `Secure` (set when the page is served over HTTPS).
    secure_cookies: bool = False
    # The Host names the service answers to (security.host_allowed).
    allowed_hosts: tuple[str, ...] = DEFAULT_PAGE_HOSTS

    def endpoints(self, host: str, api_url: str = "") -> GitHubEndpoints:
        """The URLs of the configured GitHub a proxy names; HostNotAllowed for another."""
        return endpoints_for(resolve(self.github_hosts, host, api_url), self.overrides)

    @classmethod
    def from_env(cls, env: Mapping[str, str], limits: Limits | None = None) -> Settings:
        return cls(
            github_hosts=parse_hosts(env.get(HOSTS_ENV, "")),
            overrides=GitHubOverrides.from_env(env),
            admin_password=env.get(ADMIN_PASSWORD_ENV, ""),
            limits=limits or Limits(),
            secure_cookies=env.get("COPILOT_AUTH_SECURE_COOKIES", "").lower() in ("1", "true"),
            allowed_hosts=(*DEFAULT_PAGE_HOSTS, *_names(env.get(ALLOWED_HOSTS_ENV, ""))),
        )


def _names(text: str) -> tuple[str, ...]:
    return tuple(name for name in (part.strip() for part in text.split(",")) if name)
