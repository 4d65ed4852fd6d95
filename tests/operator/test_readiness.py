"""`copilot-proxy operator` as the chart runs it: alive on /healthz at once, ready on /readyz only
once kopf watches and has handed every existing CopilotProxy to the handlers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from testkit.kube import KubeCluster
from testkit.ports import free_port
from testkit.waiting import wait_for_sync
from tests.operator.conftest import CPX, IMAGE, condition, proxy

CLI = str(Path(sys.executable).with_name("copilot-proxy"))


def status(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def test_ready_only_once_kopf_watches(kube_api: KubeCluster, tmp_path: Path) -> None:
    kube_api.create(proxy("copilot"))
    # kopf's first list of CopilotProxies takes a while to answer (a big cluster).
    slow = kube_api.fail("list", CPX, status=None, delay=4, agent="kopf")
    health = free_port()
    env = {
        **os.environ,
        "COPILOT_PROXY_KUBE_API": kube_api.url,
        "COPILOT_PROXY_IMAGE": IMAGE,
    }
    args = ["operator", "--health-port", str(health), "--metrics-port", str(free_port())]
    log = (tmp_path / "operator.log").open("w")
    process = subprocess.Popen([CLI, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    seen: list[tuple[int, int]] = []  # (healthz, readyz) over time
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            seen.append(
                (
                    status(f"http://127.0.0.1:{health}/healthz"),
                    status(f"http://127.0.0.1:{health}/readyz"),
                )
            )
            if seen[-1][1] == 200:
                break
            time.sleep(0.2)
        # And it works: the proxy that was there is reconciled.
        wait_for_sync(lambda: condition(kube_api.get(CPX, "default", "copilot"), "Ready"))
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    text = (tmp_path / "operator.log").read_text()
    assert seen and seen[-1] == (200, 200), f"{seen[-5:]}\n{text[-2000:]}"
    assert (200, 503) in seen, "alive but not ready while kopf's list was pending"
    assert slow.hits == 1
