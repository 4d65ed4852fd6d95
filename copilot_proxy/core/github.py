"""Where a proxy's GitHub lives: the GitHub hosts the operator's configuration allows (pure).

GitHub hosts are the configuration of whoever runs the operator and the login
service, never of a CopilotProxy: a resource's author could otherwise point
them at a server of their own and receive the token (docs/security.md). The
configuration lists hosts by name with their URLs (`COPILOT_PROXY_GITHUB_HOSTS`,
JSON, set by the Helm values `github.hosts`; the local mode's `--github-host`
flags); default `github.com`. A CopilotProxy picks one by name (`spec.github.host`)
and may repeat its API URL (`spec.github.apiUrl`), nothing else.

One definition of GitHub's endpoints for the proxy pods (the
GITHUB_COPILOT_*_URL variables of manifests.github_env) and the login service
(github/endpoints.py); docs/upstream.md says where each one comes from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

HOSTS_ENV = "COPILOT_PROXY_GITHUB_HOSTS"
DEFAULT_HOST = "github.com"
# A DNS name of at least two labels, as in the CRD's spec.github.host.
HOST_PATTERN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
_URL = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")


class GitHubConfigError(ValueError):
    """The hosts configuration itself is wrong (an admin's mistake, not a resource's)."""


@dataclass(frozen=True)
class GitHub:
    """One allowed GitHub: its name, web root (sign-in) and REST API root."""

    host: str = DEFAULT_HOST
    web_base: str = "https://github.com"
    api_base: str = "https://api.github.com"

    @classmethod
    def named(cls, host: str, web_url: str = "", api_url: str = "") -> GitHub:
        """A host by name; URLs default to https://<host> and https://api.<host>."""
        if not HOST_PATTERN.match(host):
            raise GitHubConfigError(f"{host!r} is not a host name such as github.com")
        web = (web_url or f"https://{host}").rstrip("/")
        api = (api_url or f"https://api.{host}").rstrip("/")
        for url in (web, api):
            if not _URL.match(url):
                raise GitHubConfigError(f"{host}: {url!r} is not an http(s) URL without a query")
        return cls(host=host, web_base=web, api_base=api)

    # GitHub's endpoints, one definition for the proxy pods and the login service.
    @property
    def device_code_url(self) -> str:
        return f"{self.web_base}/login/device/code"

    @property
    def access_token_url(self) -> str:
        return f"{self.web_base}/login/oauth/access_token"

    @property
    def copilot_token_url(self) -> str:
        return f"{self.api_base}/copilot_internal/v2/token"

    @property
    def copilot_user_url(self) -> str:
        return f"{self.api_base}/copilot_internal/user"


DEFAULT_HOSTS: tuple[GitHub, ...] = (GitHub(),)


def parse_hosts(text: str) -> tuple[GitHub, ...]:
    """`COPILOT_PROXY_GITHUB_HOSTS`: a JSON list of {name, webUrl?, apiUrl?}; '' is the default."""
    if not text.strip():
        return DEFAULT_HOSTS
    try:
        raw: Any = json.loads(text)
    except ValueError as error:
        raise GitHubConfigError(f"{HOSTS_ENV} is not JSON: {error}") from None
    if not isinstance(raw, list) or not raw:
        raise GitHubConfigError(f"{HOSTS_ENV} must be a non-empty list of {{name, webUrl, apiUrl}}")
    hosts = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise GitHubConfigError(f"{HOSTS_ENV}[{i}] needs a name, e.g. acme.ghe.com")
        unknown = set(item) - {"name", "webUrl", "apiUrl"}
        if unknown:
            raise GitHubConfigError(f"{HOSTS_ENV}[{i}]: unknown keys {sorted(unknown)}")
        hosts.append(
            GitHub.named(item["name"], str(item.get("webUrl") or ""), str(item.get("apiUrl") or ""))
        )
    return _unique(hosts)


def parse_host_flag(text: str) -> GitHub:
    """A `--github-host` flag: NAME, or NAME=WEB_URL,API_URL."""
    name, _, urls = text.partition("=")
    if not urls:
        return GitHub.named(name.strip())
    web, comma, api = urls.partition(",")
    if not comma:
        raise GitHubConfigError(f"--github-host {text!r}: write NAME or NAME=WEB_URL,API_URL")
    return GitHub.named(name.strip(), web.strip(), api.strip())


def hosts_from(flags: Sequence[str], env: Mapping[str, str]) -> tuple[GitHub, ...]:
    """The local mode's hosts: the flags when given, else the environment, else github.com."""
    if flags:
        return _unique([parse_host_flag(f) for f in flags])
    return parse_hosts(env.get(HOSTS_ENV, ""))


class HostNotAllowed(ValueError):
    """A resource names a GitHub the configuration does not list; `field` is the spec field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"spec.{field}: {message}")
        self.field = field
        self.message = message


def resolve(hosts: Sequence[GitHub], host: str, api_url: str = "") -> GitHub:
    """The configured GitHub a resource names; ValueError (field, message) otherwise."""
    allowed = {h.host: h for h in hosts}
    names = ", ".join(allowed)
    found = allowed.get(host)
    if found is None:
        raise HostNotAllowed(
            "github.host",
            f"{host!r} is not a GitHub host this operator allows ({names}); an administrator"
            " adds GHE.com hosts to the Helm values github.hosts",
        )
    if api_url and api_url.rstrip("/") != found.api_base:
        raise HostNotAllowed(
            "github.apiUrl",
            f"must be left out or be {found.api_base} (the API URL configured for {host});"
            " API URLs are the administrator's configuration (Helm values github.hosts)",
        )
    return found


def _unique(hosts: list[GitHub]) -> tuple[GitHub, ...]:
    names = [h.host for h in hosts]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise GitHubConfigError(f"GitHub host listed twice: {', '.join(twice)}")
    return tuple(hosts)
