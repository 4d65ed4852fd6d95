"""Run the real `litellm` proxy with the config the operator renders, as its Deployment would.

Command, environment and the process itself come from the local mode
(`copilot_proxy.local.proxy_process`), which reads them off the proxy
container of `copilot_proxy.core.manifests.deployment()`: the config file rendered
from a CopilotProxy spec, the GitHub token in a read-only file named by
GITHUB_COPILOT_ACCESS_TOKEN_FILE, a fresh GITHUB_COPILOT_TOKEN_DIR for
LiteLLM's Copilot key, a generated LITELLM_MASTER_KEY and
LITELLM_LOCAL_MODEL_COST_MAP. What the tests add: loopback host and a free
port, every GitHub URL on one upstream (a FakeGitHub, or any upstream URL), a
throw-away folder, and an environment without the developer's GITHUB_*,
LITELLM_*, OPENAI_* and ANTHROPIC_* variables.

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
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot_proxy.core import manifests, names
from copilot_proxy.core.render import config_yaml, render_config
from copilot_proxy.core.spec import ProxySpec, parse_spec
from copilot_proxy.local import proxy_process as pp
from testkit.ports import HOST, free_port

START_TIMEOUT = 90.0


def rebased_github_urls(spec: ProxySpec, base_url: str) -> dict[str, str]:
    """Every GitHub URL of the proxy moved onto `base_url` (one fake or mirror of GitHub)."""
    bases = sorted({spec.github.web_base, spec.github.api_base}, key=len, reverse=True)
    urls: dict[str, str] = {}
    for item in manifests.github_env(spec):
        value = item["value"]
        for base in bases:
            if value.startswith(base):
                value = base_url.rstrip("/") + value[len(base) :]
                break
        urls[item["name"]] = value
    return urls


# The developer's settings that would change what LiteLLM does (or whom it asks).
FOREIGN_ENV = ("GITHUB_", "LITELLM_", "OPENAI_", "ANTHROPIC_")


def host_environment(drop: tuple[str, ...] = FOREIGN_ENV) -> dict[str, str]:
    """This machine's environment without the variables starting with `drop`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


class ProxyExited(RuntimeError):
    """The proxy process ended by itself; the message ends with its last log lines."""


def wait_ready(process: pp.ProxyProcess, timeout: float = pp.START_TIMEOUT) -> bool:
    """Block until `process` is live (True), or raise ProxyExited/TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.exited()
        if code is not None:
            raise ProxyExited(f"litellm exited with code {code}:\n{process.log_tail()}")
        if process.is_live():
            return True
        time.sleep(0.25)
    raise TimeoutError(f"litellm was not live after {timeout:g} s:\n{process.log_tail()}")


def start_live(process: pp.ProxyProcess, timeout: float, stop: Callable[[], None]) -> None:
    """Start `process` and wait until it is live; on any failure call `stop`, re-raise."""
    try:
        process.start()
        wait_ready(process, timeout)
    except BaseException:
        stop()
        raise


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
        self.process: pp.ProxyProcess | None = None
        self.start_seconds = 0.0

    @property
    def url(self) -> str:
        return pp.local_url(HOST, self.port)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.master_key}"}

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        """The running `litellm` process (None before start() and after stop())."""
        return self.process.proc if self.process is not None else None

    def _write_files(self) -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(config_yaml(self.config))
        pp.fresh_token_dir(self.token_dir)
        self.secret_dir.mkdir(parents=True, exist_ok=True)
        self.token_file.write_text(self.token or "")
        # A Secret volume: the proxy can read the token but never write it.
        self.token_file.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        self.secret_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)

    def command(self) -> list[str]:
        argv = pp.command(self.spec, config_path=self.config_path, host=HOST, port=self.port)
        return [*argv, *self.extra_args]

    def env(self) -> dict[str, str]:
        env = host_environment()
        env.update(
            pp.environment(
                self.spec,
                token_file=self.token_file,
                token_dir=self.token_dir,
                master_key=self.master_key,
                home=self.workdir,
                github_urls=rebased_github_urls(self.spec, self.upstream),
            )
        )
        env["PYTHONUNBUFFERED"] = "1"
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = START_TIMEOUT) -> LiteLLMProxy:
        self._write_files()
        self.process = pp.ProxyProcess(
            argv=self.command(),
            env=self.env(),
            url=self.url,
            log_path=self.log_path,
            cwd=self.workdir,
            probe_path=pp.liveness_path(self.spec),
        )
        began = time.monotonic()
        start_live(self.process, timeout, self.stop)
        self.start_seconds = time.monotonic() - began
        return self

    def log_text(self) -> str:
        return self.process.log_text() if self.process is not None else ""

    def request_log_line(self, needle: str, timeout: float = 5.0) -> str:
        """The newest request log line (litellm/request_line.py) that contains `needle`.

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
        return self.process.log_tail(lines) if self.process is not None else ""

    def stop(self, grace: float | None = pp.STOP_GRACE) -> None:
        """Stop the proxy: SIGKILL after `grace` seconds (None: when its own graceful
        shutdown would end, as the local mode waits; tests that drain pass None)."""
        if self.process is not None:
            self.process.stop(grace)  # keeps the process object: log_text() still reads the log
        if self._own_workdir and not os.environ.get("KEEP_PROXY_WORKDIR"):
            with contextlib.suppress(FileNotFoundError):
                self.secret_dir.chmod(stat.S_IRWXU)
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LiteLLMProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
