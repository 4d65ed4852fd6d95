"""A CopilotProxy manifest's text -> ProxySpec, with errors that name the file and field (pure).

What `kubectl apply` and the API server would check before the operator sees a
resource, for the local mode and `copilot-proxy render`, which read a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from copilot_proxy.core import render
from copilot_proxy.core.github import DEFAULT_HOSTS, GitHub
from copilot_proxy.core.spec import API_GROUP, API_VERSION, KIND, ProxySpec, SpecError, parse_spec


class ManifestError(Exception):
    """A manifest file that cannot be used; the message says what to fix."""


def parse_manifest(text: str, source: str, hosts: Sequence[GitHub] = DEFAULT_HOSTS) -> ProxySpec:
    """The one CopilotProxy in `text` (YAML, maybe several documents); `source` names the
    file in error messages; `hosts` are the GitHub hosts allowed (core/github.py)."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as error:
        raise ManifestError(f"{source}: not valid YAML: {error}") from None
    proxies = [d for d in docs if isinstance(d, dict) and d.get("kind") == KIND]
    if len(proxies) != 1:
        raise ManifestError(f"{source}: expected one {KIND} document, found {len(proxies)}")
    doc: dict[str, Any] = proxies[0]
    if not str(doc.get("apiVersion", "")).startswith(f"{API_GROUP}/"):
        raise ManifestError(f"{source}: apiVersion must be {API_GROUP}/{API_VERSION}")
    meta = doc.get("metadata") or {}
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ManifestError(f"{source}: metadata.name is missing")
    try:
        spec = parse_spec(
            name, str(meta.get("namespace") or "default"), doc.get("spec") or {}, hosts
        )
        render.config_text(spec)  # what the API server would refuse to store as a ConfigMap
        return spec
    except SpecError as error:
        raise ManifestError(f"{source}: {error}") from None
