"""Run the real `litellm` proxy with the config the operator renders, as its Deployment would.

The process gets the same command, environment and token layout as the proxy
container in `copilot_proxy.manifests.deployment()`: the config file rendered
from a CopilotProxy spec, the GitHub token in a read-only file named by
GITHUB_COPILOT_ACCESS_TOKEN_FILE, a writable GITHUB_COPILOT_TOKEN_DIR for
LiteLLM's Copilot key, a generated LITELLM_MASTER_KEY and
LITELLM_LOCAL_MODEL_COST_MAP. Only the host, the port and the GitHub URLs
differ: they point at loopback (a FakeGitHub, or any upstream URL).

Usage (pytest fixtures in tests/proxy/plugin.py use the same class)::

    with FakeGitHub() as gh, LiteLLMProxy({"models": [...]}, upstream=gh.url,
                                          token=gh.default_token) as proxy:
        proxy.url, proxy.master_key, proxy.auth_headers, proxy.log_text()
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from copilot_proxy import manifests, names
from copilot_proxy.render import config_yaml, render_config
from copilot_proxy.spec import ProxySpec, parse_spec

START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _container(spec: ProxySpec) -> dict[str, Any]:
    deployment = manifests.deployment(
        spec, image="copilot-proxy:test", replicas=1, pod_annotations={}, owner=None
    )
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def proxy_command(
    spec: ProxySpec, config_path: Path, port: int, host: str = "127.0.0.1"
) -> list[str]:
    """The container's command and args, with the local config path, host and port."""
    c = _container(spec)
    argv = [*c["command"], *c["args"]]
    fixed = {"--config": str(config_path), "--port": str(port), "--host": host}
    for i, arg in enumerate(argv[:-1]):
        if arg in fixed:
            argv[i + 1] = fixed[arg]
    # The container's `litellm` is the one of this virtualenv.
    argv[0] = str(Path(sys.executable).with_name(argv[0]))
    return argv


def proxy_env(
    spec: ProxySpec,
    *,
    upstream: str,
    token_file: Path,
    token_dir: Path,
    master_key: str,
    home: Path,
) -> dict[str, str]:
    """The container's environment, with paths in `home` and GitHub URLs on `upstream`."""
    c = _container(spec)
    bases = sorted({spec.github.web_base, spec.github.api_base}, key=len, reverse=True)
    paths = {
        "GITHUB_COPILOT_TOKEN_DIR": str(token_dir),
        "GITHUB_COPILOT_ACCESS_TOKEN_FILE": str(token_file),
        "HOME": str(home),
    }
    env: dict[str, str] = {}
    for item in c["env"]:
        name = item["name"]
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            if ref["key"] != names.MASTER_KEY_KEY:
                raise AssertionError(f"unexpected secret env {name}: {ref}")
            env[name] = master_key
            continue
        value = paths.get(name, item["value"])
        for base in bases:
            if value.startswith(base):
                value = upstream.rstrip("/") + value[len(base) :]
        env[name] = value
    return env


class LiteLLMProxy:
    """One `litellm` proxy process; start()/stop() or a context manager."""

    def __init__(
        self,
        spec: ProxySpec | dict[str, Any],
        *,
        upstream: str,
        token: str | None,
        name: str = "test",
        namespace: str = "default",
        config: dict[str, Any] | None = None,
        extra_env: dict[str, str] | None = None,
        workdir: Path | None = None,
        port: int | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        """`config` replaces the rendered config (to compare with another config);
        `token` None leaves the token file empty, as before anyone logs in;
        `extra_args` are added to the litellm command line (e.g. --num_workers 2)."""
        self.spec = spec if isinstance(spec, ProxySpec) else parse_spec(name, namespace, spec)
        self.config = config if config is not None else render_config(self.spec)
        self.upstream = upstream
        self.token = token
        self.extra_env = dict(extra_env or {})
        self.extra_args = list(extra_args or [])
        self.port = port or free_port()
        self.master_key = "sk-" + secrets.token_urlsafe(36)[:48]
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="litellm-proxy-"))
        self.config_path = self.workdir / "config" / names.CONFIG_KEY
        self.secret_dir = self.workdir / "secret"
        self.token_file = self.secret_dir / names.TOKEN_KEY
        self.token_dir = self.workdir / "github_copilot"
        self.log_path = self.workdir / "proxy.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.master_key}"}

    def _write_files(self) -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(config_yaml(self.config))
        self.token_dir.mkdir(parents=True, exist_ok=True)
        self.secret_dir.mkdir(parents=True, exist_ok=True)
        self.token_file.write_text(self.token or "")
        # A Secret volume: the proxy can read the token but never write it.
        self.token_file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        self.secret_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "LITELLM_", "OPENAI_", "ANTHROPIC_"))
        }
        env.update(
            proxy_env(
                self.spec,
                upstream=self.upstream,
                token_file=self.token_file,
                token_dir=self.token_dir,
                master_key=self.master_key,
                home=self.workdir,
            )
        )
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = START_TIMEOUT) -> LiteLLMProxy:
        self._write_files()
        argv = [*proxy_command(self.spec, self.config_path, self.port), *self.extra_args]
        began = time.monotonic()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self._wait_ready(began + timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, deadline: float) -> None:
        assert self.proc is not None
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"litellm exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/health/liveliness").status_code == 200:
                        return
                time.sleep(0.2)
        raise TimeoutError(f"litellm not live after {START_TIMEOUT}s:\n{self.log_tail()}")

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def request_log_line(self, needle: str, timeout: float = 5.0) -> str:
        """The newest line of the request log (proxy_log.py) that contains `needle`.

        The line is written by a callback after the answer, so wait a little for it.
        """
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_text().splitlines()
            hits = [ln for ln in lines if "copilot_proxy.requests" in ln and needle in ln]
            if hits:
                return hits[-1]
            if time.monotonic() > deadline:
                raise AssertionError(f"no request log line with {needle!r}:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if self._own_workdir and not os.environ.get("KEEP_PROXY_WORKDIR"):
            with contextlib.suppress(FileNotFoundError):
                self.secret_dir.chmod(stat.S_IRWXU)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LiteLLMProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
