"""Listening ports of the local mode, and messages that say how to pick another one."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from copilot_proxy.local.proxy_process import local_url


@dataclass(frozen=True)
class Addresses:
    """Where the local mode listens: the proxy's port and the login page's, on one host."""

    host: str
    proxy_port: int
    auth_port: int

    @property
    def proxy_url(self) -> str:
        return local_url(self.host, self.proxy_port)


class PortError(Exception):
    """A port the local mode cannot listen on; the message says what to do."""


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (SO_REUSEADDR, as uvicorn and LiteLLM bind)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def is_free(host: str, port: int) -> bool:
    try:
        listen_socket(host, port).close()
    except OSError:
        return False
    return True


def suggest(host: str, port: int, taken: set[int]) -> int | None:
    """A nearby free port to propose instead of `port`."""
    for candidate in range(port + 1, port + 100):
        if candidate not in taken and candidate < 65536 and is_free(host, candidate):
            return candidate
    return None


def claim(host: str, port: int, what: str, flag: str, taken: set[int]) -> socket.socket:
    """Bind host:port for `what` ("the login page"), or raise PortError naming `flag`."""
    try:
        return listen_socket(host, port)
    except OSError as error:
        raise PortError(describe(error, host, port, what, flag, taken)) from None


def describe(error: OSError, host: str, port: int, what: str, flag: str, taken: set[int]) -> str:
    if error.errno == errno.EADDRINUSE:
        other = suggest(host, port, taken | {port})
        pick = f"{flag} {other}" if other else f"{flag} <port>"
        return (
            f"port {port} ({what}) is already in use on {host}.\n"
            f"  Stop the program that uses it, or pick another port: {pick}"
        )
    if error.errno == errno.EACCES:
        return (
            f"not allowed to listen on port {port} ({what}); pick one above 1023 with {flag} <port>"
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}: no such address on this machine (see --host)"
    return f"cannot listen on {host}:{port} ({what}): {error.strerror}"
