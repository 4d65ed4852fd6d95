"""Who may change a proxy's token, and how often: pure checks with an injected clock.

- Admin credential: the proxy's master key (unlocks that proxy) or the
  configured admin password (unlocks all). Typed once into the page, it
  becomes a server-side session behind an HttpOnly, SameSite=Strict cookie;
  scripts may send it as `Authorization: Bearer <credential>` instead.
- Cross-site requests: state-changing requests from a browser must be
  same-origin (Sec-Fetch-Site / Origin) and, with a cookie session, carry the
  session's CSRF token in `X-CSRF-Token`. A request replayed after the
  session ended finds no session.
- Rate limits: sliding windows per client and in total.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from copilot_proxy.auth.stores.protocol import ProxyRef

SESSION_COOKIE = "copilot_auth_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
        self._events.setdefault(key, deque()).append(now)


def redact(text: str, secrets_: Iterable[str]) -> str:
    """`text` with every occurrence of the given secrets replaced; for error messages."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
