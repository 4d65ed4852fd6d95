"""Run the real `litellm` proxy on this machine exactly as the Deployment's container runs it.

Command and environment are read off `manifests.deployment()`'s proxy
container, so the local mode (and the tests) cannot drift from what the
operator deploys. Only what a machine needs differs:
- `--config`, `--host`, `--port`: the local config file and the chosen address;
- GITHUB_COPILOT_ACCESS_TOKEN_FILE: the GitHub token file (in Kubernetes a
  read-only Secret mount), which the proxy only reads;
- GITHUB_COPILOT_TOKEN_DIR: a writable folder for LiteLLM's short-lived
  Copilot key (in Kubernetes an emptyDir: emptied before every start here too,
  so a new token never meets the key of the old one);
- LITELLM_MASTER_KEY: the value itself instead of a Secret reference;
- HOME: the caller's, unless one is given;
- the GITHUB_COPILOT_*_URL values, when the caller overrides them.

stop() lets the proxy finish the requests and streams it serves: SIGTERM,
then as long as its graceful shutdown may take (GRACEFUL_SHUTDOWN_TIMEOUT,
from the container: the router timeout) before SIGKILL.

The process runs in its own process group (a terminal's Ctrl-C reaches the
supervisor only, which stops the proxy in order) and, on Linux, receives
SIGTERM if the thread that started it dies, so a killed supervisor leaves no
proxy behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

from copilot_proxy.core import manifests, names
from copilot_proxy.core.spec import ProxySpec

TOKEN_DIR_ENV = "GITHUB_COPILOT_TOKEN_DIR"
TOKEN_FILE_ENV = "GITHUB_COPILOT_ACCESS_TOKEN_FILE"
START_TIMEOUT = 120.0
STOP_GRACE = 10.0  # for a process that serves nothing (crashed, still starting)
LITELLM_GRACEFUL_DEFAULT = 30.0  # LiteLLM's own, without GRACEFUL_SHUTDOWN_TIMEOUT

Obj = dict[str, Any]


def container(spec: ProxySpec) -> Obj:
    """The proxy container the operator would deploy for `spec`."""
    deployment = manifests.deployment(
        spec, image="copilot-proxy:local", replicas=1, pod_annotations={}, owner=None
    )
    found: Obj = deployment["spec"]["template"]["spec"]["containers"][0]
    return found


def liveness_path(spec: ProxySpec) -> str:
    """The path the Deployment's startup probe waits on (cheap; never `/health`)."""
    path: str = container(spec)["startupProbe"]["httpGet"]["path"]
    return path


def github_url_names(spec: ProxySpec) -> tuple[str, ...]:
    """The GITHUB_COPILOT_*_URL variables the container derives from `spec.github`."""
    return tuple(item["name"] for item in manifests.github_env(spec))


def command(spec: ProxySpec, *, config_path: Path, host: str, port: int) -> list[str]:
    """The container's command and args, with this machine's config path, host and port."""
    c = container(spec)
    argv: list[str] = [*c["command"], *c["args"]]
    # Absolute: the process runs in another working directory than ours.
    fixed = {"--config": os.path.abspath(config_path), "--host": host, "--port": str(port)}
    for i, arg in enumerate(argv[:-1]):
        if arg in fixed:
            argv[i + 1] = fixed[arg]
    argv[0] = executable(argv[0])
    return argv


def executable(name: str) -> str:
    # The image's `litellm` is the one installed next to this Python.
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return os.path.abspath(beside)
    found = shutil.which(name)  # a relative PATH entry finds a relative path
    return os.path.abspath(found) if found else name


def environment(
    spec: ProxySpec,
    *,
    token_file: Path,
    token_dir: Path,
    master_key: str,
    home: Path | None = None,
    github_urls: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The container's environment with local paths and the master key's value.

    `github_urls` replaces some GITHUB_COPILOT_*_URL values (names outside the
    container's are refused: a typo must not pass silently).
    """
    overrides = dict(github_urls or {})
    unknown = set(overrides) - set(github_url_names(spec))
    if unknown:
        raise ValueError(f"not a GitHub URL variable of the proxy: {', '.join(sorted(unknown))}")
    # Absolute: the process runs in another working directory than ours.
    paths = {TOKEN_DIR_ENV: os.path.abspath(token_dir), TOKEN_FILE_ENV: os.path.abspath(token_file)}
    env: dict[str, str] = {}
    for item in container(spec)["env"]:
        name = item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            if ref["key"] != names.MASTER_KEY_KEY:
                raise ValueError(f"the proxy container reads an unknown Secret key: {name}")
            env[name] = master_key
        elif name == "HOME":
            if home is not None:
                env[name] = os.path.abspath(home)
        else:
            env[name] = overrides.get(name, paths.get(name, item["value"]))
    return env


def drain_seconds(env: Mapping[str, str]) -> float:
    """How long a proxy started with `env` may take to stop after SIGTERM: its graceful
    wait for requests in flight, then its teardown (as terminationGracePeriodSeconds)."""
    try:
        wait = float(env.get(manifests.GRACEFUL_SHUTDOWN_ENV, LITELLM_GRACEFUL_DEFAULT))
    except ValueError:
        wait = LITELLM_GRACEFUL_DEFAULT
    return wait + manifests.TEARDOWN_SECONDS


def local_url(host: str, port: int) -> str:
    """Where a client on this machine reaches a server listening on `host`."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - mapping a wildcard to loopback
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def fresh_token_dir(path: Path) -> None:
    """An empty, private, writable folder, like a new pod's emptyDir."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(mode=0o700, parents=True)


# -- the process --------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_libc: Any = None
if sys.platform.startswith("linux"):
    with contextlib.suppress(OSError):
        # Loaded before any fork: the child only makes the call.
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _child_setup(parent: int) -> None:
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before prctl: nobody would stop us
        os._exit(1)


@dataclass
class ProxyProcess:
    """One `litellm` process: start(), is_live(), stop()."""

    argv: list[str]
    env: dict[str, str]
    url: str  # where this machine reaches it, for the liveness probe
    log_path: Path
    cwd: Path
    probe_path: str = "/health/liveliness"

    def __post_init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Start the process (non-blocking); its output is appended to `log_path`."""
        if self.proc is not None:
            raise RuntimeError("the proxy is already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._log_start = self._log.tell()
        parent = os.getpid()
        # preexec_fn after fork in a threaded process: it only makes one system call.
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: _child_setup(parent),
        )

    def exited(self) -> int | None:
        """The exit code once the process ended by itself or was stopped; None while it runs."""
        return None if self.proc is None else self.proc.poll()

    def is_live(self, timeout: float = 1.0) -> bool:
        """One liveness probe, as the Deployment's startup probe sends it."""
        try:
            answer = httpx.get(self.url + self.probe_path, timeout=timeout)
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    def stop(
        self, grace: float | None = None, say: Callable[[str], None] | None = None
    ) -> int | None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds; the exit code.

        By default the grace is the proxy's own drain (drain_seconds): the requests
        and streams it serves finish first, and `say` is told when that takes a while.
        An idle proxy exits at once either way.
        """
        proc = self.proc
        if proc is None:
            return None
        group = proc.pid  # start_new_session: the group id is the leader's pid
        try:
            if proc.poll() is None:
                _signal_group(group, signal.SIGTERM)
                grace = drain_seconds(self.env) if grace is None else grace
                if say is not None and not _ended(proc, min(grace, 1.0)):
                    say(f"The proxy finishes the requests in flight first (at most {grace:g} s)…")
                if not _ended(proc, grace):
                    _signal_group(group, signal.SIGKILL)
                    proc.wait(STOP_GRACE)
        finally:
            # Anything the proxy started and left in its group goes with it.
            _signal_group(group, signal.SIGKILL)
            self.proc = None
            if self._log is not None:
                self._log.close()
                self._log = None
        return proc.returncode

    def kill(self) -> None:
        """SIGKILL to the process group at once (a second Ctrl-C); stop() still reaps it."""
        if self.proc is not None:
            _signal_group(self.proc.pid, signal.SIGKILL)

    def log_text(self) -> str:
        """What the process wrote since this start()."""
        try:
            with self.log_path.open("rb") as f:
                f.seek(self._log_start)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


def _ended(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return False
    return True


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)
