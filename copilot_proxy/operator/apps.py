"""The operator's calls to GitHub for App-backed proxies: mint an installation token and
check one at the Copilot key exchange, on the proxy's configured GitHub (or the GITHUB_*
overrides of the environment, as for the catalogue; never the resource's URLs).

The calls are github/app_tokens.py's; here they get an HTTP client and the endpoints.
Every refusal comes back as core/app_failures.py's AppFailure, never as an exception.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Protocol

import httpx

from copilot_proxy.core.app_failures import AppFailure, Where
from copilot_proxy.core.credential import GitHubApp
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.github import app_tokens
from copilot_proxy.github.app_tokens import AppCredentialError, InstallationToken
from copilot_proxy.github.endpoints import GitHubOverrides, endpoints_for


class AppClient(Protocol):
    def mint(
        self, spec: ProxySpec, app: GitHubApp, pem: str, where: Where
    ) -> InstallationToken | AppFailure: ...

    def check(self, spec: ProxySpec, token: str, where: Where) -> AppFailure | None: ...


class GitHubAppClient:
    """The real calls, one short-lived HTTP client each (a mint is rare)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.overrides = GitHubOverrides.from_env(environ)

    def mint(
        self, spec: ProxySpec, app: GitHubApp, pem: str, where: Where
    ) -> InstallationToken | AppFailure:
        ep = endpoints_for(spec.github, self.overrides)
        try:
            with httpx.Client(timeout=app_tokens.TIMEOUT, follow_redirects=False) as http:
                return app_tokens.mint_installation_token(http, ep, app, pem, time.time(), where)
        except AppCredentialError as refused:
            return refused.failure

    def check(self, spec: ProxySpec, token: str, where: Where) -> AppFailure | None:
        ep = endpoints_for(spec.github, self.overrides)
        try:
            with httpx.Client(timeout=app_tokens.TIMEOUT, follow_redirects=False) as http:
                return app_tokens.check_token(http, ep, token, where)
        except AppCredentialError as refused:
            return refused.failure
