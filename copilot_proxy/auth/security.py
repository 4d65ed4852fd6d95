"""Who may change a proxy's token, and how often: pure checks with an injected clock.

- Admin credential: the proxy's master key (unlocks that proxy) or the
  configured admin password (unlocks all). Typed once into the page, it
  becomes a server-side session behind an HttpOnly, SameSite=Strict cookie;
  scripts may send it as `Authorization: Bearer <credential>` instead.
- Cross-site requests: state-changing requests from a browser must be
  same-origin (Sec-Fetch-Site / Origin) and, with a cookie session, carry the
  session's CSRF token in `X-CSRF-Token`. A request replayed after the
  session ended finds no session.
- Wrong credentials: counted per client address and in total; past either
  limit every credential check waits a little (right or wrong alike, so the
  timing tells nothing) and wrong ones answer 429. The right credential is
  never refused: behind `kubectl port-forward` or an ingress every admin
  shares one address with whoever guesses.
- Host: the service answers only to the names it is reached by (localhost,
  its Service names, what the admin adds) and to IP addresses: a page on
  another site that rebinds its DNS name to this address gets nothing.
- Rate limits: sliding windows per client and in total.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from copilot_proxy.auth.stores.protocol import ProxyRef

SESSION_COOKIE = "copilot_auth_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The names the service always answers to, besides IP addresses.
DEFAULT_HOSTS = ("localhost",)
# On every answer: nothing is framed, sniffed or sent elsewhere.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}


@dataclass(frozen=True)
class Scope:
    """What a credential unlocks: every proxy, or the listed ones."""

    all: bool = False
    proxies: frozenset[ProxyRef] = frozenset()

    def allows(self, ref: ProxyRef) -> bool:
        return self.all or ref in self.proxies

    def __bool__(self) -> bool:
        return self.all or bool(self.proxies)


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected secret never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def credential_scope(
    credential: str, admin_password: str, master_keys: Mapping[ProxyRef, str]
) -> Scope:
    """What `credential` unlocks; an empty Scope when nothing."""
    if same_secret(credential, admin_password):
        return Scope(all=True)
    matched = [ref for ref, key in master_keys.items() if same_secret(credential, key)]
    return Scope(proxies=frozenset(matched))


def fingerprint(secret: str) -> str:
    """A stable, non-reversible name for a credential (rate-limit keys, never logs)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def cross_site_problem(method: str, headers: Mapping[str, str], host: str) -> str:
    """Why a request must be refused as cross-site; '' when it may proceed.

    Browsers send Sec-Fetch-Site and Origin on state-changing requests; a
    request without either is not from a browser (curl, scripts) and is left to
    the credential and CSRF checks.
    """
    if method.upper() in SAFE_METHODS:
        return ""
    site = headers.get("sec-fetch-site", "").lower()
    if site and site not in ("same-origin", "none"):
        return f"cross-site request refused (Sec-Fetch-Site: {site})"
    origin = headers.get("origin", "")
    if origin and (origin == "null" or urlsplit(origin).netloc.lower() != host.lower()):
        return "cross-site request refused (Origin does not match this page)"
    return ""


def host_name(host_header: str) -> str:
    """The name in a Host header, lower case, without port or trailing dot ('' if malformed)."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [v6 address]:port
        name, bracket, _ = host[1:].partition("]")
        return name if bracket else ""
    name, _, port = host.partition(":")
    if port and not port.isdigit():
        return ""
    return name.rstrip(".")


def host_allowed(host_header: str, allowed: Iterable[str]) -> bool:
    """Whether a request with this Host header may be answered.

    IP addresses always: DNS rebinding needs a name the attacker controls, and
    probes and scrapers address a pod by its IP. Names when listed; an entry
    `.example.com` allows example.com and every name below it; `*` allows all.
    """
    name = host_name(host_header)
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        pass
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if entry == "*" or name == entry:
            return True
        if entry.startswith(".") and (name == entry[1:] or name.endswith(entry)):
            return True
    return False


@dataclass
class Session:
    id: str = field(repr=False)
    csrf: str = field(repr=False)
    scope: Scope
    expires_at: float


class Sessions:
    """Server-side sessions: the cookie holds only a random id."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._by_id: dict[str, Session] = {}

    def create(self, scope: Scope, now: float) -> Session:
        self._prune(now)
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf=secrets.token_urlsafe(32),
            scope=scope,
            expires_at=now + self.ttl,
        )
        self._by_id[session.id] = session
        return session

    def get(self, session_id: str, now: float) -> Session | None:
        session = self._by_id.get(session_id) if session_id else None
        if session is None or session.expires_at <= now:
            return None
        return session

    def drop(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)

    def _prune(self, now: float) -> None:
        for sid in [s for s, v in self._by_id.items() if v.expires_at <= now]:
            del self._by_id[sid]


def csrf_ok(session: Session, header: str) -> bool:
    return same_secret(header, session.csrf)


MAX_KEYS = 10_000  # rate-limit keys kept before the expired ones are dropped


class RateLimiter:
    """At most `limit` events per `window` seconds per key (sliding window)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def retry_after(self, key: str, now: float) -> float:
        """0 when an event for `key` may happen now, else the seconds until it may."""
        events = self._events.get(key)
        if not events:
            return 0.0
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            return 0.0
        return max(events[0] + self.window - now, 0.001)

    def record(self, key: str, now: float) -> None:
        if len(self._events) > MAX_KEYS:  # many addresses: forget the quiet ones
            self._forget_before(now - self.window)
        self._events.setdefault(key, deque()).append(now)

    def _forget_before(self, cutoff: float) -> None:
        for key in [k for k, events in self._events.items() if not events or events[-1] <= cutoff]:
            del self._events[key]


def redact(text: str, secrets_: Iterable[str]) -> str:
    """`text` with every occurrence of the given secrets replaced; for error messages."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
