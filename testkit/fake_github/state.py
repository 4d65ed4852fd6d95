"""What the fake GitHub remembers and what tests switch: accounts, Copilot keys, device
codes, models, per-model failures, quota, GitHub Apps (`apps`) and the requests it received.
Every route reads and changes this state under `lock` (the server runs in a thread of its
own; tests change it from theirs).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from testkit.fake_github.apps import AppRegistry
from testkit.fake_github.billing import Bill, PromptCache, Tokens, nano_aiu
from testkit.fake_github.catalog import ModelInfo, default_models, default_quota, next_month

DEFAULT_CLIENT_ID = "Iv1.b507a08c87ecfe98"
DEFAULT_TOKEN = "gho_fakeDefaultToken0000000000000000000"
DEFAULT_LOGIN = "octocat"


@dataclass
class Account:
    token: str
    login: str = DEFAULT_LOGIN
    copilot: str = "ok"  # ok | no_access | suspended | not_found
    plan: str = "individual"


@dataclass
class Device:
    device_code: str
    user_code: str
    client_id: str
    scope: str
    created: float
    expires_in: int
    interval: int
    script: list[str] = field(default_factory=list)
    state: str = "pending"  # pending | approved | denied
    login: str = DEFAULT_LOGIN
    token: str = ""
    polls: int = 0
    last_poll: float = 0.0


@dataclass
class Switch:
    status: int | None = None
    code: str | None = None
    times: int | None = None  # None: every request
    delay: float = 0.0
    drop_after: int | None = None  # SSE events before the connection drops
    retry_after: int | None = None  # the wait a 429 states (header or text, by its code)
    gap: float = 0.0  # seconds between SSE events (a slow stream)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, a form dict, or None
    model: str | None
    status: int = 0

    @property
    def initiator(self) -> str | None:
        """The X-Initiator it carried (None: none, which Copilot bills as `user`)."""
        return self.headers.get("x-initiator")

    @property
    def interaction_type(self) -> str | None:
        return self.headers.get("x-interaction-type")


class GitHubState:
    """The state behind every route, and the switches tests turn (see the package's docstring)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.lock = threading.RLock()
        self._init_state(full=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Copilot API base (`endpoints.api`); the same server."""
        return self.url

    def _init_state(self, full: bool) -> None:
        with self.lock:
            if full:
                self.accounts: dict[str, Account] = {}
                # Copilot key -> (expires_at, GitHub token)
                self.keys: dict[str, tuple[float, str]] = {}
                self.default_token = DEFAULT_TOKEN
                self.accounts[DEFAULT_TOKEN] = Account(DEFAULT_TOKEN)
                self.apps = AppRegistry(self.lock)  # GitHub Apps (apps.py, app_api.py)
            self.apps.reset()
            self.client_id = DEFAULT_CLIENT_ID
            self.device_interval = 5
            self.device_expires_in = 900
            self.device_script: list[str] = []
            self.enforce_interval = False
            self.devices: dict[str, Device] = {}
            self.token_error: tuple[int, str | None] | None = None
            self.key_ttl = 1800.0
            self.token_calls = 0
            self.models: dict[str, ModelInfo] = default_models()
            self.catalogue_calls = 0  # GET /models answered
            self.catalogue_error: int | None = None  # the status GET /models answers instead
            self.switches: dict[str, Switch] = {}
            self.quota = default_quota()
            self.quota_reset_date = next_month()
            self.token_based_billing = False  # True: a monthly plan, counted in AI credits
            self.requests_: list[Recorded] = []
            self.recording = True  # False for benchmarks: no per-request memory
            self.require_editor_version = True
            # tool name -> the arguments the fake model calls it with (else samples)
            self.tool_args: dict[str, dict[str, Any]] = {}
            self.prompt_cache = PromptCache()
            self.bills_: list[Bill] = []  # every answered model request, as GitHub bills it
            self.premium_total = 0  # kept while recording is off too
            self.nano_aiu_total = 0

    def reset(self, full: bool = False) -> None:
        """Fresh switches, records and counters; with full=True also new accounts and keys."""
        self._init_state(full)

    # ----- accounts and Copilot keys ---------------------------------------------

    def add_account(
        self,
        token: str | None = None,
        login: str = DEFAULT_LOGIN,
        copilot: str = "ok",
        plan: str = "individual",
    ) -> str:
        token = token or "gho_" + secrets.token_urlsafe(27)
        with self.lock:
            self.accounts[token] = Account(token, login, copilot, plan)
        return token

    def fail_token_exchange(self, status: int | None, message: str | None = None) -> None:
        with self.lock:
            self.token_error = None if status is None else (status, message)

    def expire_keys(self) -> None:
        with self.lock:
            self.keys = {k: (0.0, gh) for k, (_, gh) in self.keys.items()}

    # ----- per-model switches ----------------------------------------------------

    def fail(
        self,
        model: str,
        status: int,
        times: int | None = None,
        code: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        with self.lock:
            sw = self.switches.setdefault(model, Switch())
            sw.status, sw.code, sw.times, sw.retry_after = status, code, times, retry_after

    def delay(self, model: str, seconds: float) -> None:
        with self.lock:
            self.switches.setdefault(model, Switch()).delay = seconds

    def pace(self, model: str, gap: float) -> None:
        """Stream the model's answers slowly: `gap` seconds between SSE events."""
        with self.lock:
            self.switches.setdefault(model, Switch()).gap = gap

    def drop_stream(self, model: str, after: int = 2) -> None:
        with self.lock:
            self.switches.setdefault(model, Switch()).drop_after = after

    def clear(self, model: str | None = None) -> None:
        with self.lock:
            if model is None:
                self.switches.clear()
            else:
                self.switches.pop(model, None)

    # ----- device codes ----------------------------------------------------------

    def _find_device(self, code: str) -> Device:
        with self.lock:
            for d in self.devices.values():
                if code in (d.user_code, d.device_code):
                    return d
        raise KeyError(f"no device code {code!r}")

    def last_device(self) -> Device:
        with self.lock:
            if not self.devices:
                raise KeyError("no device code was requested")
            return list(self.devices.values())[-1]

    def script(self, code: str, steps: list[str]) -> None:
        with self.lock:
            self._find_device(code).script = list(steps)

    def approve(self, code: str, login: str = DEFAULT_LOGIN, copilot: str = "ok") -> str:
        with self.lock:
            d = self._find_device(code)
            d.state, d.login = "approved", login
            d.token = d.token or self.add_account(login=login, copilot=copilot)
            return d.token

    def deny(self, code: str) -> None:
        with self.lock:
            self._find_device(code).state = "denied"

    def expire(self, code: str) -> None:
        with self.lock:
            self._find_device(code).created = 0.0

    # ----- records ---------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        with self.lock:
            return list(self.requests_)

    def copilot_requests(self, path: str | None = None) -> list[Recorded]:
        """Requests to the Copilot API (those that name a model), optionally for one path."""
        return [
            r for r in self.requests if r.model is not None and (path is None or r.path == path)
        ]

    @property
    def bills(self) -> list[Bill]:
        with self.lock:
            return list(self.bills_)

    def premium_requests(self) -> int:
        """Answered requests Copilot counts as premium requests (X-Initiator not `agent`)."""
        with self.lock:
            return self.premium_total

    def credits(self) -> float:
        """The AI credits the answered requests cost."""
        with self.lock:
            return self.nano_aiu_total / 1e9

    def charge(self, rec: Recorded, model: str, tokens: Tokens) -> dict[str, Any]:
        """Bill an answer; its `copilot_usage` field."""
        key = rec.headers.get("authorization", "").partition(" ")[2].strip()
        with self.lock:  # who pays: the account, or the org of an App's installation
            payer = self.apps.payer(self.keys.get(key, (0.0, ""))[1], self.accounts)
        bill = Bill(model, rec.initiator or "", tokens, nano_aiu(model, tokens), *payer)
        with self.lock:
            self.premium_total += bill.premium
            self.nano_aiu_total += bill.nano_aiu
            if self.recording:
                self.bills_.append(bill)
        return {"total_nano_aiu": bill.nano_aiu}

    def models_tried(self, path: str | None = None) -> list[str]:
        return [r.model for r in self.copilot_requests(path) if r.model is not None]

    async def record(self, request: web.Request) -> Recorded:
        """Read and parse a request's body; keep it in `requests` unless recording is off."""
        raw = await request.read()
        body: Any = None
        if raw:
            ctype = request.headers.get("content-type", "")
            try:
                if "json" in ctype or raw[:1] in (b"{", b"["):
                    body = json.loads(raw)
                else:
                    body = dict(parse_qsl(raw.decode()))
            except (ValueError, UnicodeDecodeError):
                body = raw.decode(errors="replace")
        model = body.get("model") if isinstance(body, dict) else None
        rec = Recorded(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            model=model if isinstance(model, str) else None,
        )
        if self.recording:
            with self.lock:
                self.requests_.append(rec)
        return rec
