"""When the local proxy starts, restarts or stops: the operator's rule (pure functions, fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from copilot_proxy.core import manifests, names, render, rollout
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.local.manifest_file import load_manifest
from copilot_proxy.local.rule import (
    PROCESS_HASH,
    Action,
    decide,
    process_hash,
    reasons,
    wanted_template,
)

TOKEN = "gho_first0000000000000000000000000000"
OTHER = "gho_second000000000000000000000000000"


def config(models: list[str], **spec: Any) -> str:
    parsed = parse_spec("copilot", "local", {"models": [{"name": m} for m in models], **spec})
    return render.config_text(parsed)


OPUS = config(["claude-opus-4.6", "gpt-5-mini"])
GEMINI = config(["gemini-3-pro-preview", "gpt-5-mini"])


def test_no_token_no_proxy() -> None:
    assert wanted_template(OPUS, "", "p") is None
    assert decide(None, None) is Action.KEEP


def test_a_token_starts_the_proxy() -> None:
    assert decide(None, wanted_template(OPUS, TOKEN, "p")) is Action.START


def test_signing_out_stops_it() -> None:
    assert decide(wanted_template(OPUS, TOKEN, "p"), wanted_template(OPUS, "", "p")) is Action.STOP


def test_same_config_and_token_keep_it() -> None:
    running = wanted_template(OPUS, TOKEN, "p")
    # The token file may end with a newline; it is the same token.
    assert decide(running, wanted_template(OPUS, TOKEN + "\n", "p")) is Action.KEEP


def test_a_new_chain_restarts_it() -> None:
    running, wanted = wanted_template(OPUS, TOKEN, "p"), wanted_template(GEMINI, TOKEN, "p")
    assert running is not None and wanted is not None
    assert decide(running, wanted) is Action.RESTART
    assert reasons(running, wanted) == ["the manifest changed"]


def test_a_new_token_restarts_it() -> None:
    running, wanted = wanted_template(OPUS, TOKEN, "p"), wanted_template(OPUS, OTHER, "p")
    assert running is not None and wanted is not None
    assert decide(running, wanted) is Action.RESTART
    assert reasons(running, wanted) == ["a new GitHub token"]


def test_other_github_urls_restart_it() -> None:
    running, wanted = wanted_template(OPUS, TOKEN, "a"), wanted_template(OPUS, TOKEN, "b")
    assert running is not None and wanted is not None
    assert decide(running, wanted) is Action.RESTART
    assert reasons(running, wanted) == ["the GitHub settings changed"]


def test_zero_replicas_stop_it() -> None:
    assert wanted_template(OPUS, TOKEN, "p", replicas=0) is None


def test_the_template_carries_the_operators_pod_annotations() -> None:
    """The same hashes as the Deployment's pod template the operator would roll."""
    wanted = wanted_template(OPUS, TOKEN, "p")
    annotations = rollout.pod_annotations(render.config_hash(OPUS), rollout.token_hash(TOKEN))
    spec = parse_spec("copilot", "local", {"models": [{"name": "claude-opus-4.6"}]})
    deployment = manifests.deployment(
        spec, image="x", replicas=1, pod_annotations=annotations, owner=None
    )
    assert wanted == {
        **deployment["spec"]["template"]["metadata"]["annotations"],
        PROCESS_HASH: "p",
    }
    assert set(annotations) == {names.CONFIG_HASH, names.TOKEN_HASH}


def test_editing_only_comments_or_defaults_restarts_nothing(tmp_path: Path) -> None:
    """A manifest saved with a comment or a spelled-out default renders the same config."""
    doc: dict[str, Any] = {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": "CopilotProxy",
        "metadata": {"name": "copilot"},
        "spec": {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]},
    }
    plain, edited = tmp_path / "a.yaml", tmp_path / "b.yaml"
    plain.write_text(yaml.safe_dump(doc))
    doc["spec"]["catchAll"] = True
    edited.write_text("# my proxy\n" + yaml.safe_dump(doc))

    def template(path: Path) -> dict[str, str] | None:
        spec = load_manifest(path)
        return wanted_template(render.config_text(spec), TOKEN, "p")

    assert decide(template(plain), template(edited)) is Action.KEEP


def test_the_process_hash_ignores_the_master_key() -> None:
    argv = ["litellm", "--port", "4000"]
    env = {"GITHUB_COPILOT_API_KEY_URL": "https://api.github.com/x"}
    one = process_hash(argv, {**env, render.MASTER_KEY_ENV: "sk-one"})
    assert one == process_hash(argv, {**env, render.MASTER_KEY_ENV: "sk-two"})
    assert one != process_hash(argv, {**env, "GITHUB_COPILOT_API_KEY_URL": "https://a.ghe.com/x"})
