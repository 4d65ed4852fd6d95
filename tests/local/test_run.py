"""End to end: `copilot-proxy run` against the fake GitHub and Copilot, as a user runs it.

One real `copilot-proxy run` process per test (LiteLLM takes ~10 s per start,
so each test walks a whole story):
- first run: no token, so no proxy and the console points at the login page;
  the proxy's port answers 503 with the login page's URL; sign in through the
  login service's API; the proxy starts by itself and serves the chain; an
  edited manifest restarts it with the new chain; a broken manifest is
  refused and the proxy keeps serving; a new sign-in restarts it with the new
  token; a proxy that dies is started again after its back-off, and meanwhile
  the port says it crashed; Ctrl-C leaves no process behind;
- a later run (a state folder with a key and a token): the proxy starts at
  once and the master key is not shown again; Ctrl-C during the proxy's
  start-up leaves no process behind either.
"""

from __future__ import annotations

import os
import signal
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openai import OpenAI

from copilot_proxy.auth.stores.directory import DirectoryStore, write_private
from testkit.fake_github import FakeGitHub
from testkit.ports import free_port
from tests.local.helpers import (
    LocalRun,
    descendants,
    listening,
    sign_in,
    wait_gone,
    write_manifest,
)

pytestmark = pytest.mark.slow

READY = r"Proxy ready: http://localhost:{port} "
# A dated name Claude Code sends by default: the catch-all sends it through the chain.
ANY_MODEL = "claude-sonnet-4-5-20250929"


@pytest.fixture(scope="module")
def gh() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("local-run")


def run_env(gh: FakeGitHub) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "LITELLM_"))}
    env.pop("COPILOT_AUTH_ADMIN_PASSWORD", None)
    return {**env, **gh.env()}


def chat(port: int, key: str) -> tuple[str, str]:
    """(the deployment that served, the reply) for one chat request from the openai SDK."""
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model=ANY_MODEL, messages=[{"role": "user", "content": "Say hello"}]
    )
    reply = raw.parse().choices[0].message.content or ""
    return raw.headers["x-litellm-model-name"], reply


def first_answer(url: str, within: float = 1.5) -> httpx.Response:
    """The first answer from `url`; the port may take a moment to change hands."""
    deadline = time.monotonic() + within
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_first_run_sign_in_edit_and_stop(gh: FakeGitHub, workdir: Path) -> None:
    gh.reset()
    gh.device_interval = 0
    manifest, state = workdir / "copilot.yaml", workdir / "state"
    write_manifest(manifest, ["claude-opus-4.6", "gpt-5-mini"])
    proxy_port, auth_port = free_port(), free_port()
    run = LocalRun(manifest, state, proxy_port=proxy_port, auth_port=auth_port, env=run_env(gh))
    try:
        # No token yet: the console says where to sign in, and no proxy runs.
        at = run.wait_for(rf"Not signed in to GitHub yet: open http://localhost:{auth_port}/github")
        key_line = run.wait_for(r"New master key \(shown only now")
        key = run.lines[key_line + 1].strip()
        assert key.startswith("sk-") and len(key) == 51
        assert f"export ANTHROPIC_BASE_URL=http://localhost:{proxy_port}" in run.output
        assert f"export ANTHROPIC_AUTH_TOKEN={key}" in run.output
        assert (state / "master-key").read_text().strip() == key
        assert stat.S_IMODE((state / "master-key").stat().st_mode) == 0o600
        assert stat.S_IMODE(state.stat().st_mode) == 0o700
        assert descendants(run.proc.pid) == []
        # The proxy's port answers already: clients are told to sign in, and where.
        early = httpx.post(f"http://127.0.0.1:{proxy_port}/v1/chat/completions", json={})
        assert early.status_code == 503 and early.json()["error"]["code"] == "not_signed_in"
        assert f"http://localhost:{auth_port}/github" in early.json()["error"]["message"]

        # A sign-in refused on GitHub is said on the console too (the page says it as well).
        started = httpx.post(
            f"http://127.0.0.1:{auth_port}/api/proxies/local/copilot/login",
            headers={"Authorization": f"Bearer {key}"},
        )
        gh.deny(started.json()["userCode"])
        at = run.wait_for(
            r"login page: GitHub sign-in for local/copilot failed: The sign-in was cancelled "
            "on GitHub",
            after=at,
        )

        # Sign in: the proxy starts by itself and serves the chain's primary.
        sign_in(gh, auth_port, key, login="octocat")
        at = run.wait_for(r"Signed in to GitHub as @octocat", after=at)
        at = run.wait_for(READY.format(port=proxy_port), after=at)
        assert stat.S_IMODE((state / "access-token").stat().st_mode) == 0o600
        first = descendants(run.proc.pid)
        assert first
        served, reply = chat(proxy_port, key)
        assert served == "github_copilot/claude-opus-4.6"
        assert reply.startswith("Hello from claude-opus-4.6")
        at = run.wait_for(rf"request: .*asked={ANY_MODEL} .*upstream=claude-opus-4.6", after=at)
        # Copilot's weekly limit: the next model answers, the console says for how long.
        gh.fail("claude-opus-4.6", 429, times=1, code="user_weekly_rate_limited", retry_after=7200)
        assert chat(proxy_port, key)[0] == "github_copilot/gpt-5-mini"
        at = run.wait_for(
            r" cooldown: model=claude-opus-4.6 reason=user_weekly_rate_limited seconds=7200 ",
            after=at,
        )
        page = httpx.get(
            f"http://127.0.0.1:{auth_port}/api/proxies/local/copilot",
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert page["token"]["login"] == "octocat" and page["ready"] is True

        # A new primary model in the manifest: a new proxy process with the new chain.
        write_manifest(manifest, ["gemini-3-pro-preview", "gpt-5-mini"])
        at = run.wait_for(r"Restarting the proxy \(the manifest changed\)", after=at)
        at = run.wait_for(READY.format(port=proxy_port), after=at)
        assert wait_gone(first) == []
        second = descendants(run.proc.pid)
        assert second and not set(second) & set(first)
        served, reply = chat(proxy_port, key)
        assert served == "github_copilot/gemini-3-pro-preview"
        assert gh.models_tried()[-1] == "gemini-3-pro-preview"

        # A broken manifest is refused with file and field; the proxy keeps serving.
        manifest.write_text(manifest.read_text().replace("gemini-3-pro-preview", "Gemini 3"))
        at = run.wait_for(r"Manifest not applied \(the proxy keeps its last good", after=at)
        assert f"{manifest}: spec.models[0].name" in run.lines[at + 1]
        assert descendants(run.proc.pid) == second
        assert chat(proxy_port, key)[0] == "github_copilot/gemini-3-pro-preview"

        # Signing in again (another account) restarts the proxy with the new token.
        token = sign_in(gh, auth_port, key, login="hubot")
        at = run.wait_for(r"New GitHub token \(signed in as @hubot\)", after=at)
        at = run.wait_for(r"Restarting the proxy \(a new GitHub token\)", after=at)
        at = run.wait_for(READY.format(port=proxy_port), after=at)
        assert wait_gone(second) == []
        third = descendants(run.proc.pid)
        served, _ = chat(proxy_port, key)
        assert served == "github_copilot/gemini-3-pro-preview"  # still the last good chain
        copilot_key = gh.copilot_requests()[-1].headers["authorization"].split()[1]
        assert gh.keys[copilot_key][1] == token  # the proxy exchanged hubot's token

        # A proxy that dies is reported with its last log lines and started again.
        os.kill(third[0], signal.SIGKILL)
        at = run.wait_for(r"The proxy stopped by itself \(killed by signal 9\)", after=at)
        run.wait_for(r"Trying again in 2 s", after=at)
        down = first_answer(f"http://127.0.0.1:{proxy_port}/v1/models")
        assert down.status_code == 503 and down.json()["error"]["code"] == "crashing"
        at = run.wait_for(READY.format(port=proxy_port), after=at)
        fourth = descendants(run.proc.pid)
        assert chat(proxy_port, key)[0] == "github_copilot/gemini-3-pro-preview"

        # Ctrl-C: both stop, nothing is left behind, the ports are free again.
        assert run.interrupt() == 0
        assert run.lines[-1].endswith("Stopped.")
        assert wait_gone(third + fourth) == []
        assert not listening(proxy_port) and not listening(auth_port)
        # Nothing secret on the console but the one-time key display.
        assert token not in run.output
    finally:
        run.kill()


def test_later_run_starts_at_once_and_stops_mid_start(gh: FakeGitHub, workdir: Path) -> None:
    # A state folder as an earlier run left it: a master key, and a token from the login page.
    manifest, state = workdir / "later.yaml", workdir / "later-state"
    write_private(state / "master-key", "sk-" + "k" * 48 + "\n")
    store = DirectoryStore.single(state, "copilot")
    store.write_token(store.list_proxies()[0].ref, gh.default_token, "octocat", datetime.now(UTC))
    write_manifest(manifest, ["claude-opus-4.6", "grok-code-fast-1", "gpt-5-mini"])
    proxy_port, auth_port = free_port(), free_port()
    run = LocalRun(manifest, state, proxy_port=proxy_port, auth_port=auth_port, env=run_env(gh))
    try:
        at = run.wait_for(r"GitHub token found \(signed in as @octocat\)")
        # The account's catalogue, read before the proxy starts: what is not enabled, where.
        at = run.wait_for(
            r"Models: grok-code-fast-1 is not enabled for this account: enable it at"
            r" https://github.com/settings/copilot/features\.",
            after=at,
        )
        run.wait_for(r"Starting the proxy", after=at)
        config = (state / "config.yaml").read_text()
        assert "max_input_tokens: 128000" in config  # the catalogue's windows
        assert "New master key" not in run.output
        assert "sk-kkkk" not in run.output
        assert f"Master key: in {state / 'master-key'}" in run.output
        starting = descendants(run.proc.pid)
        assert starting
        assert not listening(proxy_port)  # LiteLLM is still starting

        assert run.interrupt() == 0
        assert wait_gone(starting) == []
        assert not listening(auth_port)
    finally:
        run.kill()
