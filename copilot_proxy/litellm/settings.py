"""The plugin's settings: the `copilot_proxy:` key of the config file LiteLLM runs.

core/render.py writes that key (LiteLLM ignores top-level keys it does not
know); `parse` reads it defensively, so a config written by an older operator
(no key) still runs, with empty labels and no small model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from copilot_proxy.core.render import PLUGIN_KEY


@dataclass(frozen=True)
class Settings:
    namespace: str = ""  # the CopilotProxy's namespace and name: the metrics' labels
    proxy: str = ""
    small_model: str = ""  # the model group serving Claude Code's small/fast model


def parse(config: object) -> Settings:
    """The settings in a parsed config file; defaults for what is missing or malformed."""
    section = _mapping(config, PLUGIN_KEY)
    proxy = _mapping(section, "proxy")
    names = _mapping(section, "names")
    return Settings(
        namespace=_text(proxy, "namespace"),
        proxy=_text(proxy, "name"),
        small_model=_text(names, "small_model"),
    )


def read(path: str | None) -> Settings:
    """The settings of the config file at `path` (None or unreadable: the defaults)."""
    if not path:
        return Settings()
    try:
        return parse(yaml.safe_load(Path(path).read_text()))
    except (OSError, yaml.YAMLError):
        return Settings()


def _mapping(raw: object, key: str) -> Mapping[str, Any]:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""
