"""`serve()` as its own process: configuration from the environment, directory store, logs."""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from testkit.fake_github import FakeGitHub
from testkit.ports import free_port
from tests.auth.conftest import ADMIN_PASSWORD, MASTER_KEY


def test_serve_runs_the_service_on_a_token_directory(gh: FakeGitHub, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "master-key").write_text(MASTER_KEY)
    port = free_port()
    # The directory store as `--store directory` makes it, for a proxy named "copilot".
    code = (
        "from copilot_proxy.auth.app import serve; "
        "from copilot_proxy.auth.stores.directory import DirectoryStore; "
        f"serve(DirectoryStore.single({str(state)!r}, 'copilot'), host='127.0.0.1', port={port})"
    )
    env = {**os.environ, **gh.env(), "COPILOT_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD}
    log = tmp_path / "service.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=5) as c:
            for _ in range(200):
                with contextlib.suppress(httpx.TransportError):
                    if c.get("/healthz").status_code == 200:
                        break
                time.sleep(0.05)  # also after a non-200 answer: no busy loop
            else:
                raise AssertionError(log.read_text())
            assert "Copilot proxy sign-in" in c.get("/github").text
            [proxy] = c.get("/api/proxies").json()["proxies"]
            assert proxy["id"] == "local/copilot" and proxy["token"]["state"] == "missing"

            admin = {"authorization": f"Bearer {ADMIN_PASSWORD}"}
            started = c.post("/api/proxies/local/copilot/login", headers=admin)
            assert started.status_code == 202, started.text
            token = gh.approve(started.json()["userCode"], login="octocat")
            # The default 1 s floor on polling applies: the fake announced 0 s.
            for _ in range(100):
                login = c.get(f"/api/logins/{started.json()['id']}", headers=admin).json()
                if login["phase"] != "waiting" and login["phase"] != "verifying":
                    break
                time.sleep(0.1)
            assert login["phase"] == "connected", login
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    assert (state / "access-token").read_text() == token
    assert stat.S_IMODE((state / "access-token").stat().st_mode) == 0o600
    text = log.read_text()
    assert "connected as octocat" in text  # the service logs what happened...
    assert token not in text  # ...never the token
