"""The login service as its own process, as the chart runs it: `copilot-proxy auth-service`.

The directory store (a state folder with a master key, proxy `local/local`),
GitHub on a FakeGitHub, the log in a file. What an attacker can measure from
outside is here too: the process's peak memory and a raw HTTP/1.1 sender.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from testkit.fake_github import FakeGitHub
from testkit.ports import HOST, free_port

CLI = str(Path(sys.executable).with_name("copilot-proxy"))
MASTER_KEY = "sk-security-master-key-0123456789abcdefghijklmnop"
PROXY = "local/local"  # what `--store directory` serves


@dataclass
class LoginService:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def peak_rss_mib(self) -> float:
        """The most memory the process has held so far (VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM in /proc")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def login_service(
    gh: FakeGitHub, tmp: Path, env: dict[str, str] | None = None
) -> Iterator[LoginService]:
    state = tmp / "state"
    state.mkdir(mode=0o700)
    (state / "master-key").write_text(MASTER_KEY)
    port = free_port()
    command = [CLI, "auth-service", "--host", HOST, "--port", str(port)]
    command += ["--store", "directory", "--token-dir", str(state)]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "COPILOT_"))}
    log = tmp / "service.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env={**clean, **gh.env(), **(env or {})}, stdout=out, stderr=out
        )
    service = LoginService(f"http://{HOST}:{port}", port, proc, log)
    try:
        _wait_healthy(service)
        yield service
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_healthy(service: LoginService) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service.proc.poll() is not None:
            raise AssertionError(f"the login service exited:\n{service.log_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(service.url + "/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"the login service did not start:\n{service.log_text()}")


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: the connection closed without an answer
    body: bytes
    sent: int  # body bytes the server took before it answered or closed


def post_huge_body(port: int, path: str, size: int, *, chunked: bool) -> Answer:
    """POST `size` bytes as an attacker does: announced by Content-Length, or
    chunked without a length; stops sending once the server answers or closes."""
    sock = socket.create_connection((HOST, port), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = f"POST {path} HTTP/1.1\r\nHost: localhost:{port}\r\n"
    head += f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    piece = b'{"credential": "' + b"x" * (1 << 20)
    sent = 0
    with sock:
        sock.sendall(head.encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            while sent < size and not _readable(sock, 0.05 if sent else 0.5):
                data = piece[: size - sent]
                sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                sent += len(data)
            if chunked and sent >= size:
                sock.sendall(b"0\r\n\r\n")
        return _read_answer(sock, sent)


def _readable(sock: socket.socket, timeout: float) -> bool:
    return bool(select.select([sock], [], [], timeout)[0])


def _read_answer(sock: socket.socket, sent: int) -> Answer:
    data = b""
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while b"\r\n\r\n" not in data or len(data) < _expected(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data.startswith(b"HTTP/1.1 "):
        return Answer(None, b"", sent)
    head, _, body = data.partition(b"\r\n\r\n")
    return Answer(int(head.split()[1]), body, sent)


def _expected(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(data)
