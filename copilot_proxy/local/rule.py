"""When the local proxy starts, restarts or stops: the operator's rule (pure functions).

The rule is the operator's (rollout.py): proxy pods roll when their template
changes, and the template carries the config hash and the token hash; no
token, no pods. Here the "template" is those same annotations plus a hash of
the process's command and environment (in Kubernetes a change of those, e.g.
`spec.github`, rolls the pods too). `wanted_template` and `decide` are that
rule; supervisor.py applies it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum

from copilot_proxy.core import names, render, rollout
from copilot_proxy.core.spec import ProxySpec

# Local only: the operator has no annotation for this, Kubernetes compares the container.
PROCESS_HASH = "copilot-proxy.dev/process-hash"

Template = Mapping[str, str]


class Action(StrEnum):
    KEEP = "keep"
    START = "start"
    RESTART = "restart"
    STOP = "stop"


def wanted_template(
    config_text: str, token: str, process_hash: str, replicas: int = 1, identity: str = ""
) -> dict[str, str] | None:
    """What the running proxy must have been started with; None when none may run.

    `identity` (a GitHub App's identity hash) stands for the token: an App's tokens
    rotate under the running proxy, only another App or installation restarts it."""
    fingerprint = rollout.token_hash(token)
    if not rollout.desired_replicas(replicas, bool(fingerprint)):
        return None
    annotations = rollout.pod_annotations(render.config_hash(config_text), identity or fingerprint)
    return {**annotations, PROCESS_HASH: process_hash}


def decide(running: Template | None, wanted: Template | None) -> Action:
    """Start, restart, stop or keep the proxy: restart exactly when the template differs."""
    if wanted is None:
        return Action.STOP if running is not None else Action.KEEP
    if running is None:
        return Action.START
    return Action.RESTART if rollout.differs(dict(wanted), dict(running)) else Action.KEEP


_REASONS = {
    names.CONFIG_HASH: "the manifest changed",
    names.TOKEN_HASH: "a new GitHub token",
    PROCESS_HASH: "the GitHub settings changed",
}


def reasons(running: Template, wanted: Template) -> list[str]:
    """Why a restart happens, for people."""
    return [text for key, text in _REASONS.items() if running.get(key) != wanted.get(key)]


def chain_text(spec: ProxySpec) -> str:
    return " → ".join(spec.chain)


def process_hash(argv: list[str], env: Mapping[str, str]) -> str:
    # The master key never changes during a run; keep it out of anything printed or stored.
    visible = {k: v for k, v in env.items() if k != render.MASTER_KEY_ENV}
    text = json.dumps([argv, sorted(visible.items())])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def effective(spec: ProxySpec) -> tuple[object, ...]:
    """What of a spec the local proxy uses (image, resources and the like are Kubernetes')."""
    config = render.config_text(spec)
    return (config, spec.github, min(spec.replicas, 1))
