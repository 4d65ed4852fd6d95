"""The reconcile's catalogue step: when to read an account's Copilot catalogue, and what to
keep when GitHub cannot be asked.

One read per proxy per period (COPILOT_PROXY_CATALOGUE_SECONDS, default 600; a new
token, or a model the last observation did not cover, reads at once). Between
reads, and whenever a read fails, the observation the CopilotProxy's status keeps
(`status.catalogue`) is used: the rendered config does not change, so a GitHub
outage never rolls or stops a running proxy. The read itself
is copilot_proxy/github/catalogue.py; the rule is `due`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from copilot_proxy.core import catalogue as cat
from copilot_proxy.core import rollout
from copilot_proxy.core.spec import ProxySpec
from copilot_proxy.github.catalogue import TIMEOUT, CatalogueError, read_catalogue
from copilot_proxy.github.endpoints import GitHubOverrides, endpoints_for

log = logging.getLogger(__name__)

PERIOD_ENV = "COPILOT_PROXY_CATALOGUE_SECONDS"
DEFAULT_PERIOD = 600.0

# (spec, GitHub token, now as RFC 3339) -> the observation; raises CatalogueError.
Reader = Callable[[ProxySpec, str, str], cat.Catalogue]


@dataclass(frozen=True)
class Looked:
    """What the step gives the reconcile: the observation to render with, and the attempt."""

    catalogue: cat.Catalogue | None
    error: str = ""
    checked_at: str = ""


def served(spec: ProxySpec) -> tuple[str, ...]:
    """The models whose availability the catalogue answers: the chain, then embeddings."""
    return (*spec.chain, *spec.embedding_models)


def due(checked_at: str, now: datetime, period: float, changed: bool) -> bool:
    """Read now? When never read, something changed (the token, the models served), or the
    last attempt is a period old."""
    if changed or not checked_at:
        return True
    try:
        then = datetime.fromisoformat(checked_at.replace("Z", "+00:00"))
    except ValueError:
        return True
    return (now - then).total_seconds() >= period


def stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class CatalogueStep:
    """Per proxy: the token last read with (in memory; a restart reads once more)."""

    def __init__(self, reader: Reader, period: float = DEFAULT_PERIOD) -> None:
        self.reader = reader
        self.period = period
        self._tokens: dict[tuple[str, str], str] = {}
        self._guard = threading.Lock()

    def look(
        self, spec: ProxySpec, token: str, status: Mapping[str, Any], identity: str = ""
    ) -> Looked:
        """`identity`: a GitHub App's (a renewed token is the same account: no read)."""
        raw = status.get("catalogue") if isinstance(status, Mapping) else None
        kept = cat.from_status(raw)
        last = raw if isinstance(raw, Mapping) else {}
        checked, error = str(last.get("checkedAt") or ""), str(last.get("error") or "")
        if not token:
            return Looked(kept, error, checked)
        key, fingerprint = (spec.namespace, spec.name), identity or rollout.token_hash(token)
        with self._guard:
            changed = self._tokens.get(key) != fingerprint
        changed = changed or (kept is not None and not set(served(spec)) <= set(kept.models))
        now = datetime.now(UTC)
        if not due(checked, now, self.period, changed):
            return Looked(kept, error, checked)
        with self._guard:
            self._tokens[key] = fingerprint
        try:
            fresh = self.reader(spec, token, stamp(now))
        except CatalogueError as failure:
            log.warning("catalogue of %s/%s: %s", spec.namespace, spec.name, failure)
            return Looked(kept, str(failure), stamp(now))
        except Exception:  # a bug here must not stop the proxy's reconciliation
            log.exception("reading the catalogue of %s/%s failed", spec.namespace, spec.name)
            return Looked(kept, "Reading the catalogue failed; see the operator's log.", stamp(now))
        return Looked(fresh, "", stamp(now))

    def forget(self, namespace: str, name: str) -> None:
        with self._guard:
            self._tokens.pop((namespace, name), None)


def github_reader(environ: Mapping[str, str]) -> Reader:
    """Read with the proxy's GitHub: the configured host its spec.github names (parse_spec
    resolved it), or the GITHUB_* overrides of the environment (never the resource's URLs)."""
    overrides = GitHubOverrides.from_env(environ)

    def read(spec: ProxySpec, token: str, now: str) -> cat.Catalogue:
        ep = endpoints_for(spec.github, overrides)
        with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
            return read_catalogue(http, ep, token, served(spec), now)

    return read


def from_environment(environ: Mapping[str, str] | None = None) -> CatalogueStep:
    env = os.environ if environ is None else environ
    return CatalogueStep(github_reader(env), float(env.get(PERIOD_ENV) or DEFAULT_PERIOD))
