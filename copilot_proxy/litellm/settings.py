"""The request logger's own settings: the `copilot_proxy:` key of the config LiteLLM runs.

core/render.py writes them next to LiteLLM's sections (LiteLLM ignores keys it does
not know); this reads them back, once, from the file the proxy was started with
(internals.config_path). Each concern reads its own sub-key (`cooldowns`,
`embeddings`, ...) and copes with it missing: a config rendered by an older operator
has none.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

KEY = "copilot_proxy"  # core.render.PLUGIN_KEY


def read(path: str | Path | None) -> Mapping[str, Any]:
    """The `copilot_proxy:` mapping of a config file; empty when absent or unreadable."""
    if not path:
        return {}
    try:
        config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    section = config.get(KEY) if isinstance(config, Mapping) else None
    return section if isinstance(section, Mapping) else {}


def section(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = settings.get(name)
    return value if isinstance(value, Mapping) else {}


@functools.cache
def current() -> Mapping[str, Any]:
    """The running proxy's settings (read once: the proxy never re-reads its config)."""
    from copilot_proxy.litellm import internals

    return read(internals.config_path())


def small_model() -> str:
    """The model serving Claude Code's small/fast model (`names.smallModel`); '' if unset."""
    return str(section(current(), "names").get("smallModel") or "")
