"""Read an account's Copilot catalogue: token exchange -> `endpoints.api` -> `GET /models`.

Used by the operator's reconcile and the local supervisor (never by the proxy pod).
The GitHub token goes only to the configured token-exchange and user URLs; the
short-lived Copilot key it yields goes only to the account's `endpoints.api`, and
only when that is a Copilot host (or the configured GitHub host itself, as a
mirror or the tests' fake would be). Neither is logged or kept. Parsing is
core/catalogue.py's; the endpoints and answers: docs/upstream.md ("Copilot: the
catalogue").
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from copilot_proxy.core.catalogue import Catalogue, observe, parse_models
from copilot_proxy.github.copilot import (
    EDITOR_HEADERS,
    CopilotDenied,
    CopilotUnavailable,
    classify_exchange,
    parse_usage,
)
from copilot_proxy.github.device_flow import decode_body
from copilot_proxy.github.endpoints import GitHubEndpoints

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
# The API hosts Copilot names in `endpoints.api`: api.githubcopilot.com,
# api.{individual,business,enterprise}.githubcopilot.com, copilot-api.<tenant>.ghe.com.
COPILOT_API_SUFFIXES = (".githubcopilot.com", ".ghe.com")
# What VS Code sends for its model list (vscode-copilot-chat, modelMetadataFetcher.ts).
MODELS_HEADERS = {
    **EDITOR_HEADERS,
    "copilot-integration-id": "vscode-chat",
    "openai-intent": "model-access",
    "x-interaction-type": "model-access",
}


class CatalogueError(Exception):
    """The catalogue could not be read; the message says why, without any secret."""


def copilot_api_allowed(api: str, exchange_url: str) -> bool:
    """May the Copilot key be sent to `api`? A Copilot host over https, or the host the
    configured token-exchange URL is on."""
    target, exchange = urlsplit(api), urlsplit(exchange_url)
    host = target.hostname or ""
    if target.scheme == "https" and host.endswith(COPILOT_API_SUFFIXES):
        return True
    return bool(host) and (target.scheme, target.netloc) == (exchange.scheme, exchange.netloc)


def read_catalogue(
    http: httpx.Client, ep: GitHubEndpoints, token: str, names: Iterable[str], now: str
) -> Catalogue:
    """What the account's catalogue says of `names`, observed at `now` (RFC 3339)."""
    key, api = _copilot_key(http, ep, token)
    if not copilot_api_allowed(api, ep.copilot_token_url):
        raise CatalogueError(f"GitHub named an unexpected Copilot API ({api!r}); not used.")
    url = f"{api.rstrip('/')}/models"
    try:
        response = http.get(url, headers={**MODELS_HEADERS, "authorization": f"Bearer {key}"})
    except httpx.HTTPError:
        raise CatalogueError(f"{urlsplit(url).netloc} did not answer GET /models.") from None
    if response.status_code != 200:
        raise CatalogueError(f"Copilot answered HTTP {response.status_code} to GET /models.")
    return observe(parse_models(decode_body(response.content)), names, now, _reset(http, ep, token))


def _copilot_key(http: httpx.Client, ep: GitHubEndpoints, token: str) -> tuple[str, str]:
    """The Copilot key and `endpoints.api` for a GitHub token."""
    headers = {**EDITOR_HEADERS, "authorization": f"token {token}"}
    try:
        response = http.get(ep.copilot_token_url, headers=headers)
    except httpx.HTTPError:
        raise CatalogueError(f"{ep.login_host} did not answer the Copilot key exchange.") from None
    body = decode_body(response.content)
    try:
        access = classify_exchange(response.status_code, body)
    except (CopilotDenied, CopilotUnavailable) as error:
        raise CatalogueError(error.message) from None
    if not access.api:
        raise CatalogueError("GitHub's Copilot key came without endpoints.api.")
    return str(body["token"]), access.api


def _reset(http: httpx.Client, ep: GitHubEndpoints, token: str) -> str:
    """The quota reset date from copilot_internal/user; '' when it cannot be read."""
    try:
        response = http.get(
            ep.copilot_user_url, headers={**EDITOR_HEADERS, "authorization": f"token {token}"}
        )
    except httpx.HTTPError:
        return ""
    if response.status_code != 200:
        return ""
    return parse_usage(decode_body(response.content)).reset_date
