"""A GitHub App-backed proxy: `copilot-proxy run --github-app-key` runs the real LiteLLM proxy
against the fake GitHub, whose App endpoints verify the JWTs (RS256) it is sent.

One local run for the module (LiteLLM takes ~10 s to start); the tests walk one story:
it comes up with nobody signing in (its login page shows the App, the organisation and the
next renewal, and refuses a sign-in); with 6 s installation tokens, several clients
(chat stream, /v1/messages stream, chat) send continuously across rotations with no
failure and no restart; a revoked token is replaced; the org's policy off is one 503
no client retries, and the login page says why until the policy is back on; the key and
the tokens are in no console line or log.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from testkit import client_load
from testkit.client_load import Load, Tally, proxy_key_exchanges
from testkit.fake_github import FakeGitHub
from testkit.fake_github.apps import AppKeys, new_app
from testkit.ports import free_port
from tests.local.helpers import CLI, LocalRun, descendants, write_manifest
from tests.local.test_run import run_env

pytestmark = pytest.mark.slow

LIFETIME = 6  # seconds an installation token lives: renewed every 3 s
MODELS = ["claude-opus-4.6", "gpt-5-mini"]


@pytest.fixture(scope="module")
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="module")
def app(gh: FakeGitHub) -> AppKeys:
    return new_app(gh)


@dataclass
class Run:
    local: LocalRun
    key: str  # the proxy's master key
    port: int
    state: Path
    pem: str


@pytest.fixture(scope="module")
def run(gh: FakeGitHub, app: AppKeys, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    work = tmp_path_factory.mktemp("app-run")
    manifest, key_file, state = work / "cr.yaml", work / "app.pem", work / "state"
    key_file.write_text(app.private_key_pem)
    github_app = {
        "clientId": app.client_id,
        "installationId": app.installation_id,
        "privateKeySecretRef": {"name": "ignored-locally"},
    }
    write_manifest(manifest, MODELS, credential={"githubApp": github_app})
    gh.apps.token_lifetime = LIFETIME
    port, auth_port = free_port(), free_port()
    command = [
        *(CLI, "run", "-f", str(manifest), "--state-dir", str(state)),
        *("--proxy-port", str(port), "--auth-port", str(auth_port)),
        *("--github-app-key", str(key_file)),
    ]
    local = LocalRun(
        None, None, proxy_port=port, auth_port=auth_port, env=run_env(gh), command=command
    )
    try:
        local.wait_for(r"Proxy ready: ", timeout=120)
        # LiteLLM's first answer of each kind can take seconds (imports, clients): longer than
        # a 6 s token leaves its key. Not counted; real tokens live an hour.
        key = (state / "master-key").read_text().strip()
        warm = Run(local, key, port, state, app.private_key_pem)
        load(warm, 0.5)
        yield Run(
            local, (state / "master-key").read_text().strip(), port, state, app.private_key_pem
        )
    finally:
        local.kill()


def page(run: Run, method: str = "GET", path: str = "") -> httpx.Response:
    """The local login page's API for the run's proxy, unlocked with the master key."""
    return httpx.request(
        method,
        f"http://127.0.0.1:{run.local.auth_port}/api/proxies/local/copilot{path}",
        headers={"Authorization": f"Bearer {run.key}"},
        timeout=10,
    )


def page_credential(run: Run, ready: bool, timeout: float = 20.0) -> dict[str, Any]:
    """The page's credential once its `ready` is `ready` (the run reports it as it learns)."""
    deadline = time.monotonic() + timeout
    while True:
        seen: dict[str, Any] = page(run).json()["credential"]
        if seen["ready"] is ready or time.monotonic() > deadline:
            return seen
        time.sleep(0.2)


def litellm_pids(run: Run) -> list[int]:
    return [
        pid
        for pid in descendants(run.local.proc.pid)
        if "litellm" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    ]


def base(run: Run) -> str:
    return f"http://127.0.0.1:{run.port}"


def load(run: Run, seconds: float) -> Tally:
    return client_load.load(base(run), run.key, MODELS, seconds)


def test_an_app_proxy_serves_with_nobody_signing_in(run: Run, gh: FakeGitHub, app: AppKeys) -> None:
    shown = re.search(
        rf"GitHub App {app.client_id} on acme: token expires \d\d:\d\d:\d\d, "
        r"renews \d\d:\d\d:\d\d",
        run.local.output,
    )
    assert shown, run.local.output
    assert not [r for r in gh.requests if r.path.startswith("/login/")]  # no device flow
    assert "Not signed in" not in run.local.output
    tally = load(run, 1.0)
    assert tally.ok > 0 and not tally.failed, tally.failed


def test_the_login_page_shows_the_app_and_refuses_a_sign_in(
    run: Run, gh: FakeGitHub, app: AppKeys
) -> None:
    view = page(run).json()
    credential = view["credential"]
    assert credential["kind"] == "GitHubApp", credential
    assert (credential["issuer"], credential["installationId"]) == (
        app.client_id,
        app.installation_id,
    )
    assert credential["account"] == "acme"  # the organisation billed, from GitHub
    assert (credential["ready"], credential["reason"]) == (True, "Minted"), credential
    expires = datetime.fromisoformat(credential["expiresAt"])
    renew = datetime.fromisoformat(credential["renewAt"])
    # Half way through a token's life (6 s): the next one is minted before this one expires.
    assert expires - timedelta(seconds=LIFETIME) < renew < expires, credential
    assert view["token"]["state"] == "present" and view["token"]["login"] == "acme"
    assert view["copilot"]["billedTo"] == "acme"
    for method, path in (("POST", "/login"), ("DELETE", "/token")):
        refused = page(run, method, path)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "credential_managed"
        assert (
            f"GitHub App {app.client_id}, installation {app.installation_id}"
            in (refused.json()["message"])
        )
        assert "copilot-proxy run mints and renews it" in refused.json()["message"]
    assert not [r for r in gh.requests if r.path.startswith("/login/")]  # no device code
    assert (run.state / "access-token").read_text().startswith("ghs_")  # nothing cleared


def test_rotations_under_load_fail_no_request_and_restart_nothing(
    run: Run, gh: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.pace(MODELS[0], 0.05)  # streams last across a rotation
    pids = litellm_pids(run)
    assert pids
    before = set(proxy_key_exchanges(gh))
    rotations_before = run.local.output.count(": token expires ")
    tally = load(run, 4 * LIFETIME / 2 + 4)  # at least 4 renewals
    gh.clear(MODELS[0])
    rotations = run.local.output.count(": token expires ") - rotations_before
    used = set(proxy_key_exchanges(gh)) - before
    with capsys.disabled():
        print(
            f"\n[rotations] {rotations} renewals, {len(used)} new installation tokens at the"
            f" proxy's key exchange, {tally.ok} requests ok, {len(tally.failed)} failed"
        )
    assert rotations >= 4
    assert len(used) >= 3
    assert all(t.startswith("ghs_") for t in used)
    assert not tally.failed, tally.failed[:5]
    assert litellm_pids(run) == pids  # the same process served it all
    assert "Restarting the proxy" not in run.local.output


def test_a_revoked_token_is_replaced(
    run: Run, gh: FakeGitHub, app: AppKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    gh.apps.token_lifetime = 3600  # renewals far away: only the refusal brings a new token
    run.local.wait_for(": token expires ", after=len(run.local.lines))
    with Load(base(run), run.key, MODELS) as running:
        time.sleep(1.0)
        gh.apps.revoke(app.installation_id)
        gh.expire_keys()  # Copilot stops taking the keys made from it
        mark = len(run.local.lines)
        run.local.wait_for(": token expires ", after=mark, timeout=15)
        time.sleep(2.0)
    tally = running.tally
    with capsys.disabled():
        print(f"\n[revoked] {tally.ok} requests ok, {len(tally.failed)} failed: {tally.failed[:3]}")
    assert tally.ok > 0
    # Measured: the requests in flight on the chain's last model when Copilot stopped taking
    # the key (no hop left to retry with the new token); every later request is served.
    assert len(tally.failed) <= 2, tally.failed
    # (a 401 from Copilot, or the retryable 503 when the new token came during the request)
    assert all("401" in f or "send the request again" in f for f in tally.failed), tally.failed
    again = load(run, 1.0)
    assert again.ok > 0 and not again.failed, again.failed


def test_org_policy_off_is_one_503_no_client_retries(run: Run, gh: FakeGitHub) -> None:
    mark = len(run.local.lines)
    gh.apps.set_policy(False, org="acme")
    gh.expire_keys()  # the proxy must exchange again
    try:
        answer = httpx.post(
            f"http://127.0.0.1:{run.port}/v1/chat/completions",
            json={"model": MODELS[0], "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {run.key}"},
            timeout=30,
        )
        assert answer.status_code == 503, answer.text
        assert answer.headers.get("x-should-retry") == "false"
        text = answer.json()["error"]["message"]
        assert (
            "GitHub refused this proxy's GitHub credential (403: Copilot requests from GitHub"
            in text
        )
        assert "kubectl describe cpx copilot" in text
        run.local.wait_for(r"CopilotRequestsDisabled", timeout=15)
        refused = page_credential(run, ready=False)
        assert refused["reason"] == "CopilotRequestsDisabled", refused
        assert "Copilot requests from GitHub App" in refused["message"], refused
        assert refused["account"] == "acme"
    finally:
        gh.apps.set_policy(True, org="acme")
    # Back on: the run asks the key exchange again (every 10 s) and the page says so.
    again = page_credential(run, ready=True)
    assert (again["ready"], again["reason"]) == (True, "Minted"), again
    run.local.wait_for("GitHub takes its token again", after=mark, timeout=5)


def test_the_key_and_the_tokens_are_in_no_output(run: Run, gh: FakeGitHub) -> None:
    minted = [t for t in gh.apps.tokens]
    assert len(minted) >= 5
    body = run.pem.split("-----")[2].strip().splitlines()[1]  # a line of the key itself
    logs = [run.local.output] + [
        p.read_text(errors="replace") for p in run.state.rglob("*.log*") if p.is_file()
    ]
    for text in logs:
        assert body not in text
        assert "ghs_" not in text
        assert not any(t in text for t in minted)
