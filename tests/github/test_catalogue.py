"""Reading an account's catalogue from (the fake) GitHub: where each secret may go, and what
each failure says."""

from __future__ import annotations

import httpx
import pytest

from copilot_proxy.core.catalogue import Catalogue
from copilot_proxy.core.github import GitHub
from copilot_proxy.github.catalogue import CatalogueError, copilot_api_allowed, read_catalogue
from copilot_proxy.github.endpoints import GitHubOverrides, endpoints_for
from testkit.fake_github import FakeGitHub
from testkit.fake_github.catalog import next_month

NAMES = ["claude-opus-4.6", "grok-code-fast-1"]


def _read(gh: FakeGitHub, token: str | None = None) -> Catalogue:
    ep = endpoints_for(GitHub(), overrides=GitHubOverrides.from_env(gh.env()))
    with httpx.Client(timeout=5) as http:
        return read_catalogue(http, ep, token or gh.default_token, NAMES, "2026-12-01T00:00:00Z")


def test_a_read_gives_the_served_models_and_the_quota_reset_date(fake_github: FakeGitHub) -> None:
    seen = _read(fake_github)
    assert seen.models["claude-opus-4.6"].max_prompt_tokens == 128000
    assert seen.models["grok-code-fast-1"].state == "NotEnabled"
    assert seen.quota_reset_date == next_month()
    models = next(r for r in fake_github.requests if r.path == "/models")
    assert models.headers["authorization"].startswith("Bearer tid=")  # the Copilot key
    assert fake_github.default_token not in str(models.headers)  # never the GitHub token


@pytest.mark.parametrize(
    ("api", "allowed"),
    [
        ("https://api.githubcopilot.com", True),
        ("https://api.business.githubcopilot.com", True),
        ("https://copilot-api.acme.ghe.com", True),
        ("http://api.githubcopilot.com", False),  # not over https
        ("https://githubcopilot.com.attacker.example", False),
        ("https://attacker.example", False),
        ("https://api.github.com", True),  # the configured GitHub host itself
        ("https://api.github.com:8443", False),
    ],
)
def test_the_copilot_key_goes_to_copilot_hosts_only(api: str, allowed: bool) -> None:
    assert copilot_api_allowed(api, "https://api.github.com/copilot_internal/v2/token") is allowed


def test_failures_say_why_without_secrets(fake_github: FakeGitHub) -> None:
    with pytest.raises(CatalogueError, match=r"GitHub rejected the token \(401"):
        _read(fake_github, token="gho_unknown")
    fake_github.catalogue_error = 503
    with pytest.raises(CatalogueError, match="Copilot answered HTTP 503 to GET /models"):
        _read(fake_github)
    fake_github.catalogue_error = None
    fake_github.fail_token_exchange(500)
    with pytest.raises(CatalogueError, match="could not confirm Copilot access"):
        _read(fake_github)
    fake_github.fail_token_exchange(None)
    gone = FakeGitHub().start()
    overrides = GitHubOverrides.from_env(gone.env())
    gone.stop()
    with pytest.raises(CatalogueError, match="did not answer"), httpx.Client(timeout=2) as http:
        read_catalogue(http, endpoints_for(GitHub(), overrides=overrides), "gho_x", NAMES, "t")
