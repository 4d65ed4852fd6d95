"""The local mode's catalogue: the operator's rule (operator/catalogue.py) on one machine.

Read after sign-in and once per period; the proxy runs with what it said (limits,
Responses-only models), and the console says which models of the chain the account
lacks or has not enabled, and where to enable them, when that changes. A failed read
keeps the last good observation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from copilot_proxy.core import catalogue as cat
from copilot_proxy.core import render
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.local.console import Console
from copilot_proxy.operator.catalogue import (
    DEFAULT_PERIOD,
    PERIOD_ENV,
    CatalogueStep,
    github_reader,
    served,
)


class LocalCatalogue:
    def __init__(self, console: Console, environ: Mapping[str, str]) -> None:
        period = float(environ.get(PERIOD_ENV) or DEFAULT_PERIOD)
        self.step = CatalogueStep(github_reader(environ), period)
        self.console = console
        self.status: dict[str, Any] = {}  # what the operator keeps in status.catalogue
        self.catalogue: cat.Catalogue | None = None
        self.said = ""

    def look(self, spec: ProxySpec, token: str) -> None:
        """Read when due (blocking: the HTTP calls time out after seconds) and tell changes."""
        if not token:
            return
        looked = self.step.look(spec, token, self.status)
        self.catalogue = looked.catalogue
        kept = cat.to_status(looked.catalogue) if looked.catalogue else {}
        self.status = {"catalogue": {**kept, "checkedAt": looked.checked_at, "error": looked.error}}
        self.tell(summary(looked.catalogue, looked.error, spec))

    def tell(self, text: str) -> None:
        if text and text != self.said:
            self.said = text
            self.console.say(text)

    def config_text(self, spec: ProxySpec) -> str:
        return render.config_text(spec, self.catalogue)


def summary(seen: cat.Catalogue | None, error: str, spec: ProxySpec) -> str:
    """What the console says about the account's catalogue."""
    if seen is None:
        return f"Could not read the account's Copilot catalogue: {error}" if error else ""
    missing = cat.unavailable(seen, served(spec))
    if missing:
        text = "Models: " + cat.describe_unavailable(missing, spec.github.web_base) + "."
    else:
        windows = ", ".join(
            f"{f.name} {f.max_prompt_tokens}"
            for f in seen.models.values()
            if f.max_prompt_tokens and f.name in spec.chain
        )
        text = "Models: every model served is available" + (
            f" (prompt tokens: {windows})." if windows else "."
        )
    return text + (f" (Not read again: {error})" if error else "")
