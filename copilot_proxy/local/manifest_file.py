"""The manifest file `copilot-proxy run -f` (and `render -f`) reads; parsing is the core's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from copilot_proxy.core.github import DEFAULT_HOSTS, GitHub
from copilot_proxy.core.manifest import ManifestError, parse_manifest
from copilot_proxy.core.spec import ProxySpec


def load_manifest(path: Path, hosts: Sequence[GitHub] = DEFAULT_HOSTS) -> ProxySpec:
    """Read one CopilotProxy from a YAML file, with errors naming the file and field;
    `hosts`: the GitHub hosts allowed (the `--github-host` flags)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise ManifestError(f"{path}: cannot read it ({error.strerror})") from None
    return parse_manifest(text, str(path), hosts)
