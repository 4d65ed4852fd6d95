"""Names and labels of a CopilotProxy's children (see docs/contracts.md)."""

from __future__ import annotations

# The CRD's API group; labels, annotations and kopf's state live under it too.
API_GROUP = "copilot-proxy.dev"
KIND = "CopilotProxy"
PREFIX = API_GROUP
PROXY_LABEL = f"{PREFIX}/proxy"
CONFIG_HASH = f"{PREFIX}/config-hash"
TOKEN_HASH = f"{PREFIX}/token-hash"
LOGIN_ANNOTATION = f"{PREFIX}/login"
TOKEN_UPDATED_ANNOTATION = f"{PREFIX}/token-updated-at"
# On a Secret someone made: the proxies (comma-separated names) that may use it as their token.
TOKEN_FOR_ANNOTATION = f"{PREFIX}/token-for"
# On a Secret someone made: the proxies that may mint tokens with the GitHub App key it holds.
APP_KEY_FOR_ANNOTATION = f"{PREFIX}/app-key-for"
# On a GitHub App's token Secret: when the installation token expires (RFC 3339).
TOKEN_EXPIRES_ANNOTATION = f"{PREFIX}/token-expires-at"
# On the token Secret, `github-app/<issuer>/<installation>`; on the pod template, a short
# hash of it: App tokens rotate in place, only another identity rolls the pods.
CREDENTIAL_ANNOTATION = f"{PREFIX}/credential"
MANAGED_BY = "copilot-proxy-operator"

TOKEN_KEY = "access-token"
MASTER_KEY_KEY = "master-key"
CONFIG_KEY = "config.yaml"
PORT = 4000


def config_map(name: str) -> str:
    return f"{name}-litellm-config"


def token_secret(name: str) -> str:
    """The token Secret when `spec.tokenSecret.name` is not set."""
    return f"{name}-github-token"


def master_key_secret(name: str) -> str:
    return f"{name}-master-key"


def deployment(name: str) -> str:
    return f"{name}-litellm"


def service(name: str) -> str:
    return name


def endpoint(name: str, namespace: str) -> str:
    return f"http://{service(name)}.{namespace}.svc:{PORT}"


def selector(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "litellm-proxy", "app.kubernetes.io/instance": name}


def mcp_server(name: str, server: str) -> str:
    """The Deployment and Service of an MCP server the operator runs (`_` is no DNS char)."""
    return f"{name}-mcp-{server.replace('_', '-')}"


def labels(name: str) -> dict[str, str]:
    return {**selector(name), "app.kubernetes.io/managed-by": MANAGED_BY, PROXY_LABEL: name}
