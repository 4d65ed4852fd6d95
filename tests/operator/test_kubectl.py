"""The README's kubectl commands, run by the real kubectl (v1.32, `make helm`) against the
emulated API server with the operator running.

The README's "On Kubernetes" block runs line by line in bash, as written (but
`helm install`, which the chart tests cover, and the port-forwards, which need
pods): apply the example (with kubectl's default validation), wait for
ConfigReady, read the master key, wait for Ready while the user signs in. Then
what a user looks at: `kubectl get cpx -o wide` (the CRD's printer columns),
`kubectl describe cpx` (the object and its events), the README's jsonpath line
for a spec the operator refuses, `kubectl get secret`, `kubectl explain`.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from testkit.fake_github import AppKeys, FakeGitHub
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.waiting import wait_for
from tests.operator.conftest import CPX, fill_token, key_secret, master_key, token_of

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
KUBERNETES_DOC = (ROOT / "docs" / "kubernetes.md").read_text()
NS = "default"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def kubectl_binary() -> Path:
    """kubectl v1.32.3, fetched once into .cache/bin by scripts/fetch_helm.py (`make helm`)."""
    found = ROOT / ".cache" / "bin" / "kubectl"
    if not found.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "fetch_helm.py")], check=True, timeout=600
        )
    return found


class Kubectl:
    """kubectl with a kubeconfig for the emulator, run from the repository root as a user
    runs the README's commands (kubectl on PATH, a HOME of its own)."""

    def __init__(self, binary: Path, server: str, home: Path) -> None:
        config = home / ".kube" / "config"
        config.parent.mkdir(parents=True)
        config.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "emulator", "cluster": {"server": server}}],
                    "users": [{"name": "me", "user": {"token": "any"}}],
                    "contexts": [
                        {"name": "emulator", "context": {"cluster": "emulator", "user": "me"}}
                    ],
                    "current-context": "emulator",
                }
            )
        )
        self.env = {
            "PATH": f"{binary.parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(home),
            "KUBECONFIG": str(config),
        }

    def start(self, script: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    async def run(self, script: str, stdin: str | None = None) -> str:
        """Run `script` in bash (off the event loop: kopf runs there); its output."""
        done = await asyncio.to_thread(
            subprocess.run,
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{script}\n{done.stderr}"
        assert "Warning" not in done.stderr, done.stderr
        return done.stdout


@pytest.fixture
def kubectl(kubectl_binary: Path, cluster: KubeCluster, tmp_path: Path) -> Kubectl:
    return Kubectl(kubectl_binary, cluster.url, tmp_path)


def readme_lines() -> list[str]:
    """The README's "On Kubernetes" commands that run without pods: not helm install (the
    chart tests run it), not the port-forwards."""
    section = README.split("## On Kubernetes", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block
    lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
    return [line for line in lines if not line.startswith("helm ") and "port-forward" not in line]


def replicas(cluster: KubeCluster, deployment: str) -> int | None:
    live = cluster.get("Deployment", NS, deployment) or {}
    count = (live.get("spec") or {}).get("replicas")
    return int(count) if count is not None else None


def table(output: str) -> list[list[str]]:
    """kubectl's table, split on its runs of spaces."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.strip().splitlines()]


@pytest.fixture
def lines() -> Iterator[list[str]]:
    found = readme_lines()
    assert [line.split()[:2] for line in found] == [
        ["kubectl", "apply"],
        ["kubectl", "wait"],
        ["export", "LITELLM_KEY=$(kubectl"],
        ["echo", '"$LITELLM_KEY"'],
        ["kubectl", "wait"],
    ], "the README's Kubernetes block changed: update this test with it"
    yield found


async def test_the_readmes_kubernetes_commands(
    kubectl: Kubectl,
    cluster: KubeCluster,
    operator: KopfOperator,
    lines: list[str],
    fake_github: FakeGitHub,
) -> None:
    apply, config_ready, export, echo, ready = lines
    assert await kubectl.run(apply) == "copilotproxy.copilot-proxy.dev/copilot created\n"
    assert "condition met" in await kubectl.run(config_ready)
    key = (await kubectl.run(f"{export}\n{echo}")).strip()
    assert key == master_key(cluster, NS, "copilot") and key.startswith("sk-")

    # Before sign-in: the printer columns say what is missing.
    rows = table(await kubectl.run("kubectl get cpx -o wide"))
    assert rows[0] == [
        "NAME", "READY", "PRIMARY", "TOKEN", "REPLICAS", "REASON", "ENDPOINT", "MODELS",
        "CREDENTIAL", "ACCOUNT", "AGE",
    ]  # fmt: skip
    assert rows[1][:6] == ["copilot", "False", "claude-opus-4.6", "Missing", "0", "WaitingForLogin"]
    assert rows[1][6:9] == [  # no ACCOUNT yet: nobody signed in
        "http://copilot.default.svc:4000", "WaitingForLogin", "DeviceFlow",
    ]  # fmt: skip
    assert table(await kubectl.run("kubectl get cpx"))[0] == [
        "NAME", "READY", "PRIMARY", "TOKEN", "REPLICAS", "AGE",
    ]  # fmt: skip

    # Another proxy in the namespace, to see that describe shows copilot's events only.
    other = yaml.safe_load((ROOT / "examples" / "copilotproxy.yaml").read_text())
    other["metadata"]["name"] = "other"
    await kubectl.run("kubectl apply -f -", stdin=yaml.safe_dump(other))

    # The user signs in (the login page fills the Secret) while `kubectl wait` waits.
    waiting = kubectl.start(ready)
    fill_token(cluster, NS, "copilot-github-token", fake_github.default_token)
    await wait_for(lambda: replicas(cluster, "copilot-litellm") == 1, timeout=15)
    cluster.set_deployment_ready(NS, "copilot-litellm")  # the kubelet's part
    out, err = await asyncio.to_thread(waiting.communicate, timeout=30)
    assert waiting.returncode == 0, err
    assert out == "copilotproxy.copilot-proxy.dev/copilot condition met\n"

    rows = table(await kubectl.run("kubectl get cpx -o wide"))
    assert rows[1][:9] == [
        "copilot", "True", "claude-opus-4.6", "Present", "1", "Serving",
        "http://copilot.default.svc:4000", "AllAvailable",  # the account's catalogue, read
        "DeviceFlow",
    ]  # fmt: skip

    described = await kubectl.run("kubectl describe cpx copilot")
    assert re.search(r"^Name:\s+copilot$", described, re.M)
    events = described.split("\nEvents:", 1)[1]
    for reason in ("WaitingForLogin", "TokenPresent", "PodsReady"):
        assert re.search(rf"(Normal|Warning)\s+{reason}\s", events), events
    assert "kopf" in events
    assert "other-github-token" not in events  # only this proxy's events

    secrets = table(await kubectl.run("kubectl get secret"))
    assert secrets[0] == ["NAME", "TYPE", "DATA", "AGE"]
    assert ["copilot-master-key", "Opaque", "1"] in [row[:3] for row in secrets]


async def test_a_spec_the_operator_refuses_shows_in_kubectl(
    kubectl: Kubectl, cluster: KubeCluster, operator: KopfOperator
) -> None:
    manifest = {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": "CopilotProxy",
        "metadata": {"name": "acme"},
        "spec": {
            "models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}],
            "routes": [{"name": "fast", "models": ["gpt-4"]}],
        },
    }
    await kubectl.run("kubectl apply -f -", stdin=yaml.safe_dump(manifest))

    for _ in range(30):  # the operator reconciles within a second or two
        rows = table(await kubectl.run("kubectl get cpx acme -o wide"))
        if rows[1][5:6] == ["InvalidSpec"]:
            break
        await asyncio.sleep(0.5)
    assert rows[1][:3] == ["acme", "False", "claude-opus-4.6"] and rows[1][5] == "InvalidSpec"
    # The README's line, as written there.
    line = re.search(r"^\$ (kubectl get cpx acme -o jsonpath=.*)$", README, re.M)
    assert line
    message = await kubectl.run(line.group(1))
    assert message.startswith("spec.routes[0].models[0]: 'gpt-4' is not in spec.models")


async def test_kubectl_explain_documents_the_spec(kubectl: Kubectl) -> None:
    explained = await kubectl.run("kubectl explain copilotproxy.spec")
    assert "KIND:       CopilotProxy" in explained
    assert re.search(r"^\s+models\s+<\[\]Object> -required-$", explained, re.M)
    deeper = await kubectl.run("kubectl explain copilotproxy.spec.router.cooldownSeconds")
    assert "FIELD: cooldownSeconds <integer>" in deeper


async def test_kubectl_explain_teaches_the_github_app_credential(kubectl: Kubectl) -> None:
    """The command docs/kubernetes.md gives, as written: how to make the App, the permission,
    the key Secret and its marking, and every field."""
    line = re.search(r"`(kubectl explain cpx\.spec\.credential\.githubApp)`", KUBERNETES_DOC)
    assert line
    explained = await kubectl.run(line.group(1))
    assert "Copilot Requests" in explained and "copilot-proxy.dev/app-key-for" in explained
    for field in ("appId", "clientId", "installationId", "privateKeySecretRef", "repositoryIds"):
        assert re.search(rf"^\s+{field}\s+<", explained, re.M), field


def _how_to(kind: str) -> list[str]:
    """The code blocks of docs/kubernetes.md's 'Organisation-billed: a GitHub App', in order."""
    start = KUBERNETES_DOC.index("## Organisation-billed: a GitHub App")
    section = KUBERNETES_DOC[start : KUBERNETES_DOC.index("\n## ", start + 5)]
    return re.findall(rf"```{kind}\n(.*?)```", section, re.S)


async def test_the_github_app_how_to_as_written(
    kubectl: Kubectl, cluster: KubeCluster, operator: KopfOperator, app: AppKeys
) -> None:
    """The docs' steps 5-7 with the real kubectl: mark the key Secret, apply the docs'
    CopilotProxy (only the App's ids are this fake's), and `kubectl get cpx -o wide` shows
    the organisation with nobody signing in. `kubectl create secret` itself is the one line
    not run: kubectl sends built-in kinds as protobuf, which the emulator does not read
    (docs/contracts.md); the Secret it would create is created here instead."""
    store, watch = _how_to("bash")[:2]
    (manifest,) = _how_to("yaml")
    create, annotate = store.strip().splitlines()
    assert re.fullmatch(
        r"kubectl -n default create secret generic copilot-app-key"
        r" --from-file=private-key\.pem=\S+",
        create,
    ), create
    cluster.create(key_secret(app.private_key_pem, marked_for=None, name="copilot-app-key"))
    assert await kubectl.run(annotate) == "secret/copilot-app-key annotated\n"
    ours = manifest.replace("Iv23liExample0000000", app.client_id)
    ours = ours.replace("7890123", str(app.installation_id))
    assert ours.count(app.client_id) == 1 and str(app.installation_id) in ours
    await kubectl.run("kubectl apply -f -", stdin=ours)
    await wait_for(lambda: token_of(cluster).startswith("ghs_"), timeout=15)
    get, describe = watch.strip().splitlines()
    await wait_for(lambda: "acme" in (cluster.get(CPX, NS, "copilot") or {}).get("status", {})
                   .get("credential", {}).get("account", ""), timeout=15)  # fmt: skip
    header, row = table(await kubectl.run(get))[:2]
    assert dict(zip(header, row, strict=False))["CREDENTIAL"] == "GitHubApp"
    assert dict(zip(header, row, strict=False))["ACCOUNT"] == "acme"
    described = await kubectl.run(describe)
    assert re.search(r"Normal\s+TokenRenewed\s", described), described
    assert app.private_key_pem.splitlines()[1] not in described
