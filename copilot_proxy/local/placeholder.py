"""Who answers on the proxy's port while LiteLLM does not: a 503 that says why and what to do.

Before sign-in, after a crash (during the back-off) or with `spec.replicas: 0`,
a client that calls the proxy gets an error it can show instead of "connection
refused": JSON in the error shape the client reads (Anthropic's for
`/v1/messages`, OpenAI's for everything else), saying what is wrong and where
the login page is. `x-should-retry: false` (honoured by the openai and
anthropic SDKs and Claude Code, docs/upstream.md) stops clients from retrying
what only the user can fix.

The supervisor hands the port to LiteLLM right before starting it (`release`)
and takes it back when the proxy stops (`hold`). LiteLLM binds its port only
at the end of its start-up and Linux lets one listening socket own a port, so
while LiteLLM starts (about 10 s) the port refuses connections; clients retry
those.

`answer()` is the pure part: what to send for a path and a `Reason` (idle.py).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading

from copilot_proxy.local import ports
from copilot_proxy.local.idle import STARTING, Reason

STATUS = 503
_MAX_BODY = 64 * 1024 * 1024  # read and dropped, so the client sees the answer, not a reset
_READ_TIMEOUT = 10.0


def answer(path: str, reason: Reason) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the answer to a request for `path`."""
    route = path.split("?", 1)[0].rstrip("/")
    if route.endswith("/messages") or "/messages/" in route:  # Anthropic's Messages API
        body: dict[str, object] = {
            "type": "error",
            "error": {"type": "api_error", "message": reason.message},
        }
    else:
        body = {
            "error": {
                "message": reason.message,
                "type": "service_unavailable",
                "param": None,
                "code": reason.code,
            }
        }
    headers = {
        "content-type": "application/json",
        "cache-control": "no-store",
        # Every answer closes its connection: a kept-alive one would still reach us
        # after the port went to LiteLLM.
        "connection": "close",
    }
    if reason.retry:
        headers["retry-after"] = "5"
    else:
        headers["x-should-retry"] = "false"
    return STATUS, headers, json.dumps(body).encode()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version, sys_version = "copilot-proxy", ""
    server: _Server

    def _reply(self) -> None:
        self.connection.settimeout(_READ_TIMEOUT)
        with contextlib.suppress(OSError, ValueError):
            _drain(self)
        status, headers, body = answer(self.path, self.server.reason)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True
        self.server.answered += 1

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _reply

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the console is for people, and clients get the message themselves."""


def _drain(handler: http.server.BaseHTTPRequestHandler) -> None:
    """Read the request's body (Content-Length or chunked), up to _MAX_BODY."""
    length = int(handler.headers.get("content-length") or 0)
    if length:
        _read(handler, min(length, _MAX_BODY))
    elif "chunked" in (handler.headers.get("transfer-encoding") or "").lower():
        total = 0
        while total <= _MAX_BODY:
            size = int(handler.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline(1024)
                return
            _read(handler, size + 2)
            total += size


def _read(handler: http.server.BaseHTTPRequestHandler, size: int) -> None:
    while size > 0:
        chunk = handler.rfile.read(min(size, 65536))
        if not chunk:
            return
        size -= len(chunk)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    reason = STARTING
    answered = 0


class Placeholder:
    """The 503 server on the proxy's port, in a thread; `hold()` and `release()` move the port."""

    def __init__(self, host: str, port: int, sock: socket.socket | None = None) -> None:
        self.host, self.port = host, port
        self.reason = STARTING
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if sock is not None:
            self._serve(sock)

    @property
    def holding(self) -> bool:
        return self._server is not None

    @property
    def answered(self) -> int:
        """Requests answered since the port was last taken (0 while released)."""
        return self._server.answered if self._server is not None else 0

    def say(self, reason: Reason) -> None:
        """What the next answers say."""
        self.reason = reason
        if self._server is not None:
            self._server.reason = reason

    def hold(self) -> bool:
        """Listen on the port again; False when another program has it."""
        if self._server is None:
            try:
                self._serve(ports.listen_socket(self.host, self.port))
            except OSError:
                return False
        return True

    def release(self) -> None:
        """Stop answering and free the port (for LiteLLM)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None and thread is not None:
            server.shutdown()
            thread.join(5)
            server.server_close()

    def _serve(self, sock: socket.socket) -> None:
        server = _Server(sock.getsockname()[:2], _Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = sock
        sock.listen(64)
        server.reason = self.reason
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.name = "proxy-placeholder"
        thread.start()
        self._server, self._thread = server, thread
