"""The supervisor's loop, tick by tick, with a stand-in process instead of LiteLLM (fast).

The stand-in is a Python one-liner run exactly where and how the supervisor runs
LiteLLM (same arguments after the program, same environment, same working
directory); only the program differs, so these tests see what LiteLLM would see
at start-up without paying its 10 s. What the real LiteLLM does is
tests/local/test_run.py's and test_make_run.py's.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from copilot_proxy.core.spec import ProxySpec, parse_spec
from copilot_proxy.local import proxy_process as pp
from copilot_proxy.local.console import Console
from copilot_proxy.local.login_page import LocalStore, local_proxy
from copilot_proxy.local.placeholder import Placeholder
from copilot_proxy.local.ports import Addresses
from copilot_proxy.local.state import prepare
from copilot_proxy.local.supervisor import PORT_RETRY, Supervisor
from testkit.ports import free_port

SPEC = parse_spec("copilot", "local", {"models": [{"name": "gpt-5-mini"}]})
TOKEN = "gho_" + "L0calT0kenL0calT0kenL0calT0kenL0cal1"

# Opens what LiteLLM opens first: the --config file and the token file, from its own
# working directory; then exits as a broken LiteLLM would, with Python's last line.
OPENS_ITS_FILES = """
import os, sys
config = sys.argv[sys.argv.index("--config") + 1]
for path in (config, os.environ["GITHUB_COPILOT_ACCESS_TOKEN_FILE"]):
    open(path).close()
print("Exception: the stand-in proxy cannot serve", flush=True)
sys.exit(3)
"""


class StandIn(Supervisor):
    """The supervisor, with the stand-in program in the place of `litellm`."""

    def launch(self, spec: ProxySpec) -> tuple[list[str], dict[str, str]]:
        argv, env = super().launch(spec)
        return [sys.executable, "-c", OPENS_ITS_FILES, *argv[1:]], env


@pytest.fixture
def supervisor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """A supervisor as `copilot-proxy run` makes it, started from `tmp_path` with the
    default, relative state folder, signed in."""
    monkeypatch.chdir(tmp_path)
    state = prepare(Path(".copilot-proxy"))
    store = LocalStore(local_proxy(SPEC, state.root))
    store.write_token(store.ref, TOKEN, "octocat", datetime.now(UTC))
    manifest = Path("copilot.yaml")
    manifest.write_text("unused: the spec is given\n")
    port = free_port()
    sup = StandIn(
        manifest=manifest,
        spec=SPEC,
        load=lambda _: SPEC,
        state=state,
        store=store,
        master_key="sk-test",
        addresses=Addresses("127.0.0.1", port, free_port()),
        console=Console(),
        shown_proxy_url=f"http://localhost:{port}",
        login_url="http://localhost:4001/github",
        placeholder=Placeholder("127.0.0.1", port),
        environ={},
    )
    yield sup
    sup.stop_proxy()
    sup.placeholder.release()


def exited(sup: Supervisor) -> str:
    """Wait for the stand-in to end; what it wrote."""
    assert sup.proxy is not None and sup.proxy.proc is not None
    sup.proxy.proc.wait(10)
    return sup.proxy.log_text()


def test_a_relative_state_folder_names_files_the_proxy_can_open(supervisor: StandIn) -> None:
    # `make run` passes no --state-dir: the default `.copilot-proxy` is relative to where
    # it runs, and the proxy runs in that folder.
    supervisor.tick(now=0.0)
    log = exited(supervisor)
    assert "Exception: the stand-in proxy cannot serve" in log, log
    assert supervisor.proxy is not None
    argv = supervisor.proxy.argv
    config = Path(argv[argv.index("--config") + 1])
    assert config.is_absolute() and config == Path.cwd() / ".copilot-proxy" / "config.yaml"


def test_a_crashing_proxy_waits_as_the_console_says(
    supervisor: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor.tick(now=0.0)
    first = supervisor.proxy
    exited(supervisor)
    supervisor.tick(now=0.5)  # sees the crash
    console = capsys.readouterr().out
    assert "The proxy stopped by itself (exit code 3)" in console
    assert "Trying again in 2 s" in console
    # Until then, no new process; the page and clients on the port say why.
    supervisor.tick(now=1.0)
    assert supervisor.proxy is None
    page = supervisor.store.get_proxy(supervisor.store.ref)
    assert page is not None and page.ready == "False"
    assert page.status_message.startswith(
        "The proxy is crashing: Exception: the stand-in proxy cannot serve"
    )
    answer = httpx.get(supervisor.addr.proxy_url + "/v1/models", timeout=5)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "crashing"
    assert "Exception: the stand-in proxy cannot serve" in answer.json()["error"]["message"]
    assert "Next try in 2 s" in answer.json()["error"]["message"]

    supervisor.tick(now=2.6)  # the back-off is over: the second try
    assert supervisor.proxy is not None and supervisor.proxy is not first
    assert "Starting again after a crash" in supervisor.store.status_message
    exited(supervisor)
    supervisor.tick(now=3.0)
    assert "Trying again in 4 s" in capsys.readouterr().out  # the wait doubles
    supervisor.tick(now=6.0)
    assert supervisor.proxy is None
    supervisor.tick(now=7.1)
    assert supervisor.proxy is not None


def test_the_port_goes_to_the_proxy_and_back(supervisor: StandIn) -> None:
    supervisor.store.clear_token(supervisor.store.ref)
    supervisor.tick(now=0.0)
    url = supervisor.addr.proxy_url
    before = httpx.post(url + "/v1/messages", json={"model": "x"}, timeout=5)
    assert before.status_code == 503 and before.json()["error"]["type"] == "api_error"
    assert "not signed in" in before.json()["error"]["message"]

    supervisor.store.write_token(supervisor.store.ref, TOKEN, "octocat", datetime.now(UTC))
    supervisor.tick(now=1.0)  # starts the proxy: the placeholder let go of the port
    assert supervisor.proxy is not None and not supervisor.placeholder.holding
    exited(supervisor)
    supervisor.tick(now=1.5)  # it crashed: the placeholder holds the port again
    assert supervisor.placeholder.holding
    assert httpx.get(url + "/", timeout=5).json()["error"]["code"] == "crashing"


def test_a_port_another_program_took_meanwhile_is_waited_for(
    supervisor: StandIn, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor.tick(now=0.0)  # the port went to the proxy...
    port = supervisor.addr.proxy_port
    squatter = socket.create_server(("127.0.0.1", port))  # ...and another program took it
    exited(supervisor)
    for now in (0.5, 3.0, 3.5, 4.0):  # the crash, then the next try finds the port taken
        supervisor.tick(now=now)
    assert supervisor.proxy is None and not supervisor.placeholder.holding
    console = capsys.readouterr().out
    assert console.count(f"Port {port} is taken by another program") == 1
    assert "taken by another program" in supervisor.store.status_message
    squatter.close()
    supervisor.tick(now=4.5)  # the placeholder answers there again, then the proxy starts
    assert supervisor.placeholder.holding and supervisor.proxy is None
    supervisor.tick(now=3.0 + PORT_RETRY + 0.1)
    assert supervisor.proxy is not None


def test_the_stand_in_runs_where_litellm_would(supervisor: StandIn) -> None:
    # What the stand-in proves holds for the real command too: same arguments, same folder.
    argv, env = Supervisor.launch(supervisor, SPEC)
    assert Path(argv[0]).name == "litellm"
    assert argv[1:] == StandIn.launch(supervisor, SPEC)[0][3:]
    assert env[pp.TOKEN_FILE_ENV] == str(Path.cwd() / ".copilot-proxy" / "access-token")
