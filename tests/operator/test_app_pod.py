"""A GitHub App-backed proxy end to end, as in a cluster: the operator (real kopf, the
emulated API server) mints installation tokens into the proxy's token Secret, a kubelet
(testkit.kube.kubelet) projects that Secret into a volume the way kubelet does (symlinks
swapped in place) and runs the real LiteLLM proxy from the operator's pod template.

With 6 s installation tokens (renewed every ~3 s), clients stream and send for ~18 s:
nothing fails, the pod is never replaced (same process, same template), and the proxy
brings each new token to Copilot's key exchange.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from copilot_proxy.core.spec import parse_spec
from testkit import client_load
from testkit.client_load import Load, proxy_key_exchanges
from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys
from testkit.kube import KubeCluster
from testkit.kube.kopf_runner import KopfOperator
from testkit.kube.kubelet import Kubelet
from testkit.proxy_harness import rebased_github_urls
from testkit.waiting import wait_for_sync
from tests.operator.conftest import CPX, app_proxy, key_secret, master_key, token_of

pytestmark = pytest.mark.slow

NS = "default"
LIFETIME = 10  # seconds an installation token lives: the operator renews at half life
# (a key of a 6 s token had under a second left in flight on a saturated 2-core machine)
MODELS = ["claude-opus-4.6", "gpt-5-mini"]
LOAD_SECONDS = 26.0


@pytest.fixture
def pod(
    cluster: KubeCluster, operator: KopfOperator, fake_github: FakeGitHub, app: AppKeys
) -> Iterator[Kubelet]:
    """The App-backed proxy's one pod, once the operator has minted its first token."""
    fake_github.apps.token_lifetime = LIFETIME
    cluster.create(key_secret(app.private_key_pem))
    cluster.create(app_proxy("copilot", app, models=[{"name": m} for m in MODELS]))
    wait_for_sync(lambda: token_of(cluster).startswith("ghs_"), timeout=15)
    wait_for_sync(
        lambda: (cluster.get("Deployment", NS, "copilot-litellm") or {})["spec"]["replicas"] == 1
    )
    cpx = cluster.get(CPX, NS, "copilot") or {}
    urls = rebased_github_urls(parse_spec("copilot", NS, cpx["spec"]), fake_github.url)
    with Kubelet(cluster, NS, "copilot-litellm", env=urls) as kubelet:
        yield kubelet


def test_rotations_reach_the_running_pod_and_fail_no_request(
    cluster: KubeCluster, fake_github: FakeGitHub, pod: Kubelet, capsys: pytest.CaptureFixture[str]
) -> None:
    key = master_key(cluster, NS, "copilot")
    assert not [r for r in fake_github.requests if r.path.startswith("/login/")], "a sign-in"
    # LiteLLM's first answer of each kind takes seconds (imports, clients): not counted.
    warm = client_load.load(pod.url, key, MODELS, 0.5)
    assert warm.ok > 0 and not warm.failed, warm.failed
    assert pod.process is not None
    pid = pod.process.pid
    token = pod.projected["github-token"]
    swaps, used_before = token.swaps, set(proxy_key_exchanges(fake_github))
    minted_before = len(fake_github.apps.tokens)

    fake_github.pace(MODELS[0], 0.05)  # streams last across a rotation
    with Load(pod.url, key, MODELS) as running:
        time.sleep(LOAD_SECONDS)
    fake_github.clear(MODELS[0])

    tally = running.tally
    swapped = token.swaps - swaps
    minted = len(fake_github.apps.tokens) - minted_before
    used = set(proxy_key_exchanges(fake_github)) - used_before
    with capsys.disabled():
        print(
            f"\n[app pod] {tally.ok} requests ok, {len(tally.failed)} failed; {minted} tokens"
            f" minted, {swapped} volume swaps, {len(used)} new tokens at the proxy's key exchange"
        )
    assert not tally.failed, tally.failed[:5]
    assert tally.ok > 0
    assert swapped >= 4, "the operator's renewals reached the volume"
    assert len(used) >= 4 and all(t.startswith("ghs_") for t in used)
    assert pod.process.exited() is None and pod.process.pid == pid, pod.log_tail()
    assert pod.template_changes == [], "a rotation must not roll the pod"
    assert not pod.errors, pod.errors
    # The volume kept kubelet's shape: the key is a link through ..data, one data folder.
    folder = pod.volume("github-token")
    assert (folder / "access-token").readlink().as_posix() == "..data/access-token"
    assert len([p for p in folder.iterdir() if p.name.startswith("..2")]) == 1
    wait_for_sync(lambda: (folder / "access-token").read_text() == token_of(cluster))
