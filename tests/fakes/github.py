"""A fake GitHub + Copilot upstream: one aiohttp server on 127.0.0.1, in its own thread.

It speaks the protocols the project talks to (see ../shared/notes/copilot-and-litellm.md),
errors included, so real clients (LiteLLM's `github_copilot/` provider, the auth
service, a browser) can run against it unchanged. All GitHub and Copilot paths
are served by the same server; `endpoints.api` in the Copilot token answer points
back at it.

Usage::

    with FakeGitHub() as gh:
        gh.url                      # http://127.0.0.1:PORT (GitHub web, api and Copilot api)
        gh.default_token            # a GitHub OAuth token that already has Copilot access
        gh.env()                    # GITHUB_COPILOT_*_URL / GITHUB_*_URL variables for clients

pytest fixtures (tests/fakes/plugin.py): `fake_github` (fresh per test),
`fake_github_module`, `fake_github_session` (shared: call `gh.reset()` first).

Device flow (`POST /login/device/code`, `POST /login/oauth/access_token`)::

    gh.device_interval = 0          # interval told to clients (default 5)
    gh.device_script = ["pending", "slow_down", "ok"]   # default script for new codes
    gh.script(user_code, ["pending", "denied"])          # per code (user or device code)
    gh.approve(user_code, login="octocat") -> str        # the access token the next poll gets
    gh.deny(user_code); gh.expire(user_code)
    gh.last_device() -> Device                           # the newest device code
    Script steps: "pending", "slow_down", "ok", "expired", "denied", "bad_client",
    "unsupported_grant". Without a script (or once it is used up, unless its last
    step was "ok") the code waits for approve()/deny(), and expires after
    `device_expires_in` seconds. Answers are JSON when the client sends
    `Accept: application/json`, form-encoded otherwise, like github.com.
    `GET /login/device` is the verification page (a form a browser can submit).

Accounts and Copilot keys (`GET /copilot_internal/v2/token`, `/copilot_internal/user`, `/user`)::

    gh.add_account(token=None, login="octocat", copilot="ok"|"no_access"|"suspended"|"not_found")
    gh.fail_token_exchange(401|403|404|500, message=None)   # every exchange; None to clear
    gh.key_ttl = 1800              # seconds until an issued Copilot key expires (expires_at)
    gh.token_calls                 # how many times the token endpoint was called
    gh.expire_keys()               # every issued key answers 401 from now on
    gh.quota["premium_interactions"]["remaining"] = 0   # usage shown by /copilot_internal/user

Copilot API (Bearer <Copilot key>): `/chat/completions`, `/v1/messages`
(+ `/count_tokens`), `/responses`, `/embeddings`, `/models`. Replies name the
model that served them: "Hello from <model>."; the model calls a tool when the
last user message names it (or `tool_choice` forces one). Per-model switches::

    gh.fail(model, 402|429|500|400|..., times=None, code=None)  # quota_exceeded, rate_limited, ...
    gh.delay(model, seconds); gh.drop_stream(model, after=2)    # drop after N SSE events
    gh.clear(model)
    gh.models                      # id -> ModelInfo; unknown ids get 400 model_not_supported

Copilot API calls without an `editor-version` header get Copilot's 400
(`gh.require_editor_version = False` turns that off).

Records: `gh.requests` (every request, as `Recorded`), `gh.copilot_requests(path=None)`,
`gh.models_tried(path=None)`; `gh.recording = False` stops recording (benchmarks).
`gh.reset()` clears switches, records, counters and device codes but keeps
accounts and issued keys (a running proxy keeps working); `gh.reset(full=True)`
forgets those too.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

DEFAULT_CLIENT_ID = "Iv1.b507a08c87ecfe98"
DEFAULT_TOKEN = "gho_fakeDefaultToken0000000000000000000"
DEFAULT_LOGIN = "octocat"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

# Copilot error codes by HTTP status, as Copilot spells them.
_ERROR_CODES = {
    400: "model_not_supported",
    401: "unauthorized",
    402: "quota_exceeded",
    403: "forbidden",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
_ERROR_MESSAGES = {
    "model_not_supported": "The requested model is not supported.",
    "quota_exceeded": "You have no quota left for this model. It resets on the first of the month.",
    "rate_limited": "Sorry, you have been rate-limited. Please wait a moment before trying again.",
    "user_weekly_rate_limited": "You have reached your weekly rate limit.",
    "internal_error": "Internal server error.",
    "service_unavailable": "Service temporarily unavailable.",
    "unauthorized": "unauthorized: token expired",
    "forbidden": "Forbidden.",
    "unsupported_api_for_model": "This model does not support this API.",
    "model_max_prompt_tokens_exceeded": "prompt token count exceeds the limit",
}


@dataclass
class ModelInfo:
    id: str
    vendor: str = "OpenAI"
    kind: str = "chat"  # chat | embeddings
    endpoints: tuple[str, ...] = ("/chat/completions",)

    @property
    def is_claude(self) -> bool:
        return self.id.startswith("claude")


def _default_models() -> dict[str, ModelInfo]:
    claude = ("/chat/completions", "/v1/messages")
    gpt5 = ("/chat/completions", "/responses")
    models = [
        ModelInfo("claude-opus-4.6", "Anthropic", endpoints=claude),
        ModelInfo("claude-opus-4.5", "Anthropic", endpoints=claude),
        ModelInfo("claude-opus-4.1", "Anthropic", endpoints=claude),
        ModelInfo("claude-sonnet-4.5", "Anthropic", endpoints=claude),
        ModelInfo("claude-sonnet-4", "Anthropic", endpoints=claude),
        ModelInfo("claude-haiku-4.5", "Anthropic", endpoints=claude),
        ModelInfo("gemini-3-pro-preview", "Google"),
        ModelInfo("gemini-2.5-pro", "Google"),
        ModelInfo("gpt-5-mini", endpoints=gpt5),
        ModelInfo("gpt-5", endpoints=gpt5),
        ModelInfo("gpt-5.3-codex", endpoints=("/responses",)),
        ModelInfo("gpt-4.1"),
        ModelInfo("gpt-4o"),
        ModelInfo("text-embedding-3-small", kind="embeddings", endpoints=("/embeddings",)),
    ]
    return {m.id: m for m in models}


def _default_quota() -> dict[str, dict[str, Any]]:
    def snap(entitlement: int, remaining: int, unlimited: bool = False) -> dict[str, Any]:
        pct = 100.0 if unlimited else round(100.0 * remaining / entitlement, 1)
        return {
            "entitlement": entitlement,
            "remaining": remaining,
            "percent_remaining": pct,
            "unlimited": unlimited,
            "overage_count": 0,
            "overage_permitted": False,
        }

    return {
        "chat": snap(0, 0, unlimited=True),
        "completions": snap(0, 0, unlimited=True),
        "premium_interactions": snap(300, 240),
    }


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


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, a form dict, or None
    model: str | None
    status: int = 0


class FakeGitHub:
    """The fake server; a context manager, or call start()/stop()."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._init_state(full=True)

    # ----- lifecycle -------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """The Copilot API base (`endpoints.api`); the same server."""
        return self.url

    def start(self) -> FakeGitHub:
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as e:  # surfaced to start()'s caller
                errors.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-github", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise RuntimeError("fake GitHub did not start") from errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        r = app.router
        r.add_post("/login/device/code", self._device_code)
        r.add_post("/login/oauth/access_token", self._access_token)
        r.add_get("/login/device", self._device_page)
        r.add_post("/login/device", self._device_page_submit)
        r.add_get("/copilot_internal/v2/token", self._copilot_token)
        r.add_get("/copilot_internal/user", self._copilot_user)
        r.add_get("/user", self._user)
        r.add_post("/chat/completions", self._chat)
        r.add_post("/v1/messages", self._messages)
        r.add_post("/v1/messages/count_tokens", self._count_tokens)
        r.add_post("/responses", self._responses)
        r.add_post("/embeddings", self._embeddings)
        r.add_get("/models", self._models)
        # access_log=None: logging every request would cost more than the answer.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ----- state and switches ----------------------------------------------------

    def _init_state(self, full: bool) -> None:
        with self._lock:
            if full:
                self.accounts: dict[str, Account] = {}
                # Copilot key -> (expires_at, GitHub token)
                self.keys: dict[str, tuple[float, str]] = {}
                self.default_token = DEFAULT_TOKEN
                self.accounts[DEFAULT_TOKEN] = Account(DEFAULT_TOKEN)
            self.client_id = DEFAULT_CLIENT_ID
            self.device_interval = 5
            self.device_expires_in = 900
            self.device_script: list[str] = []
            self.enforce_interval = False
            self.devices: dict[str, Device] = {}
            self.token_error: tuple[int, str | None] | None = None
            self.key_ttl = 1800.0
            self.token_calls = 0
            self.models: dict[str, ModelInfo] = _default_models()
            self.switches: dict[str, Switch] = {}
            self.quota = _default_quota()
            self.quota_reset_date = "2026-12-01"
            self.requests_: list[Recorded] = []
            self.recording = True  # False for benchmarks: no per-request memory
            self.require_editor_version = True

    def reset(self, full: bool = False) -> None:
        """Fresh switches, records and counters; with full=True also new accounts and keys."""
        self._init_state(full)

    def add_account(
        self,
        token: str | None = None,
        login: str = DEFAULT_LOGIN,
        copilot: str = "ok",
        plan: str = "individual",
    ) -> str:
        token = token or "gho_" + secrets.token_urlsafe(27)
        with self._lock:
            self.accounts[token] = Account(token, login, copilot, plan)
        return token

    def fail_token_exchange(self, status: int | None, message: str | None = None) -> None:
        with self._lock:
            self.token_error = None if status is None else (status, message)

    def expire_keys(self) -> None:
        with self._lock:
            self.keys = {k: (0.0, gh) for k, (_, gh) in self.keys.items()}

    def fail(
        self, model: str, status: int, times: int | None = None, code: str | None = None
    ) -> None:
        with self._lock:
            sw = self.switches.setdefault(model, Switch())
            sw.status, sw.code, sw.times = status, code, times

    def delay(self, model: str, seconds: float) -> None:
        with self._lock:
            self.switches.setdefault(model, Switch()).delay = seconds

    def drop_stream(self, model: str, after: int = 2) -> None:
        with self._lock:
            self.switches.setdefault(model, Switch()).drop_after = after

    def clear(self, model: str | None = None) -> None:
        with self._lock:
            if model is None:
                self.switches.clear()
            else:
                self.switches.pop(model, None)

    def env(self) -> dict[str, str]:
        """Environment that points LiteLLM and the auth service at this fake."""
        return {
            "GITHUB_COPILOT_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_COPILOT_ACCESS_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_COPILOT_API_KEY_URL": f"{self.url}/copilot_internal/v2/token",
            "GITHUB_COPILOT_API_BASE": self.api_url,
            "GITHUB_DEVICE_CODE_URL": f"{self.url}/login/device/code",
            "GITHUB_ACCESS_TOKEN_URL": f"{self.url}/login/oauth/access_token",
            "GITHUB_COPILOT_USER_URL": f"{self.url}/copilot_internal/user",
        }

    # device flow API for tests

    def _find_device(self, code: str) -> Device:
        with self._lock:
            for d in self.devices.values():
                if code in (d.user_code, d.device_code):
                    return d
        raise KeyError(f"no device code {code!r}")

    def last_device(self) -> Device:
        with self._lock:
            if not self.devices:
                raise KeyError("no device code was requested")
            return list(self.devices.values())[-1]

    def script(self, code: str, steps: list[str]) -> None:
        with self._lock:
            self._find_device(code).script = list(steps)

    def approve(self, code: str, login: str = DEFAULT_LOGIN, copilot: str = "ok") -> str:
        with self._lock:
            d = self._find_device(code)
            d.state, d.login = "approved", login
            d.token = d.token or self.add_account(login=login, copilot=copilot)
            return d.token

    def deny(self, code: str) -> None:
        with self._lock:
            self._find_device(code).state = "denied"

    def expire(self, code: str) -> None:
        with self._lock:
            self._find_device(code).created = 0.0

    # records

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self.requests_)

    def copilot_requests(self, path: str | None = None) -> list[Recorded]:
        """Requests to the Copilot API (those that name a model), optionally for one path."""
        return [
            r for r in self.requests if r.model is not None and (path is None or r.path == path)
        ]

    def models_tried(self, path: str | None = None) -> list[str]:
        return [r.model for r in self.copilot_requests(path) if r.model is not None]

    # ----- helpers ---------------------------------------------------------------

    async def _record(self, request: web.Request) -> Recorded:
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
            with self._lock:
                self.requests_.append(rec)
        return rec

    @staticmethod
    def _wants_json(request: web.Request) -> bool:
        return "json" in request.headers.get("accept", "")

    def _oauth_answer(self, request: web.Request, data: Mapping[str, Any]) -> web.Response:
        # github.com answers OAuth endpoints with 200 even for errors, form-encoded by default.
        if self._wants_json(request):
            return web.json_response(dict(data))
        return web.Response(
            text=urlencode({k: str(v) for k, v in data.items()}),
            content_type="application/x-www-form-urlencoded",
        )

    def _oauth_error(self, request: web.Request, error: str, **extra: Any) -> web.Response:
        descriptions = {
            "authorization_pending": "The authorization request is still pending.",
            "slow_down": "Too many requests have been made in the same timeframe.",
            "expired_token": "The `device_code` has expired.",
            "access_denied": "The authorization request was denied.",
            "incorrect_client_credentials": "The client_id is not valid.",
            "incorrect_device_code": "The device_code provided is not valid.",
            "unsupported_grant_type": "The grant type is not supported.",
        }
        return self._oauth_answer(
            request,
            {
                "error": error,
                "error_description": descriptions.get(error, error),
                "error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps",
                **extra,
            },
        )

    @staticmethod
    def _gh_error(status: int, message: str) -> web.Response:
        return web.json_response(
            {"message": message, "documentation_url": "https://docs.github.com/rest"}, status=status
        )

    @staticmethod
    def _copilot_error(status: int, code: str, message: str | None = None) -> web.Response:
        headers = {"retry-after": "60"} if status == 429 else None
        body = {
            "error": {
                "message": message or _ERROR_MESSAGES.get(code, code),
                "code": code,
                "param": "model" if code == "model_not_supported" else None,
                "type": "invalid_request_error" if status == 400 else code,
            }
        }
        return web.json_response(body, status=status, headers=headers)

    def _github_account(self, request: web.Request) -> Account | None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() not in ("token", "bearer"):
            return None
        with self._lock:
            return self.accounts.get(token.strip())

    def _copilot_auth(self, request: web.Request) -> web.Response | None:
        """None when the Bearer Copilot key is valid, else the 401 Copilot answers."""
        auth = request.headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        with self._lock:
            entry = self.keys.get(key.strip()) if scheme.lower() == "bearer" else None
        if entry is None:
            return web.json_response(
                {
                    "error": {
                        "message": "unauthorized: missing or invalid token",
                        "code": "unauthorized",
                    }
                },
                status=401,
            )
        if entry[0] <= time.time():
            return web.json_response(
                {"error": {"message": "unauthorized: token expired", "code": "token_expired"}},
                status=401,
            )
        if self.require_editor_version and not request.headers.get("editor-version"):
            # What api.githubcopilot.com answers a client that does not say which IDE it is.
            return web.Response(
                status=400, text="bad request: missing Editor-Version header for IDE auth"
            )
        return None

    async def _model_gate(
        self, request: web.Request, path: str
    ) -> tuple[Recorded, web.Response | None, Switch]:
        """Record, auth, model checks and per-model switches shared by every Copilot API call.

        The request as recorded, Copilot's error answer (None to go on), the model's switch.
        """
        rec = await self._record(request)
        denied = self._copilot_auth(request)
        if denied is not None:
            return rec, denied, Switch()
        model = rec.model or ""
        with self._lock:
            info = self.models.get(model)
            sw = self.switches.get(model)
            snapshot = Switch(delay=sw.delay, drop_after=sw.drop_after) if sw else Switch()
            failing: tuple[int, str] | None = None
            if sw is not None and sw.status is not None and (sw.times is None or sw.times > 0):
                if sw.times is not None:
                    sw.times -= 1
                failing = (sw.status, sw.code or _ERROR_CODES.get(sw.status, "error"))
        if snapshot.delay:
            await asyncio.sleep(snapshot.delay)
        if failing is not None:
            return rec, self._copilot_error(*failing), snapshot
        if info is None:
            return rec, self._copilot_error(400, "model_not_supported"), snapshot
        if path not in info.endpoints:
            return rec, self._copilot_error(400, "unsupported_api_for_model"), snapshot
        return rec, None, snapshot

    # ----- GitHub: device flow ---------------------------------------------------

    async def _device_code(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        body = rec.body if isinstance(rec.body, dict) else {}
        client_id = str(body.get("client_id") or request.query.get("client_id") or "")
        with self._lock:
            if client_id != self.client_id:
                return self._oauth_error(request, "incorrect_client_credentials")
            while True:
                letters = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4))
                user_code = f"{letters}-{secrets.randbelow(10000):04d}"
                if all(d.user_code != user_code for d in self.devices.values()):
                    break
            device = Device(
                device_code=secrets.token_hex(20),
                user_code=user_code,
                client_id=client_id,
                scope=str(body.get("scope") or ""),
                created=time.time(),
                expires_in=self.device_expires_in,
                interval=self.device_interval,
                script=list(self.device_script),
            )
            self.devices[device.device_code] = device
        return self._oauth_answer(
            request,
            {
                "device_code": device.device_code,
                "user_code": device.user_code,
                "verification_uri": f"{self.url}/login/device",
                "expires_in": device.expires_in,
                "interval": device.interval,
            },
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        rec = await self._record(request)
        body = rec.body if isinstance(rec.body, dict) else {}
        body = {**dict(request.query), **body}
        if body.get("client_id") != self.client_id:
            return self._oauth_error(request, "incorrect_client_credentials")
        if body.get("grant_type") != DEVICE_GRANT:
            return self._oauth_error(request, "unsupported_grant_type")
        with self._lock:
            d = self.devices.get(str(body.get("device_code")))
            if d is None:
                return self._oauth_error(request, "incorrect_device_code")
            now = time.time()
            too_fast = self.enforce_interval and d.polls and now - d.last_poll < d.interval
            d.polls += 1
            d.last_poll = now
            step = d.script.pop(0) if d.script else None
            if step == "ok" and not d.script:
                d.script = ["ok"]  # a finished login keeps answering with its token
            if step is None and too_fast:
                step = "slow_down"
            if step is None:
                if now > d.created + d.expires_in:
                    step = "expired"
                else:
                    step = {"approved": "ok", "denied": "denied"}.get(d.state, "pending")
            if step == "slow_down":
                d.interval += 5
                return self._oauth_error(request, "slow_down", interval=d.interval)
            if step == "ok":
                if not d.token:
                    d.token = self.add_account(login=d.login)
                    d.state = "approved"
                return self._oauth_answer(
                    request, {"access_token": d.token, "token_type": "bearer", "scope": d.scope}
                )
        errors = {
            "pending": "authorization_pending",
            "expired": "expired_token",
            "denied": "access_denied",
            "bad_client": "incorrect_client_credentials",
            "unsupported_grant": "unsupported_grant_type",
        }
        return self._oauth_error(request, errors.get(step, step))

    async def _device_page(self, request: web.Request) -> web.Response:
        html = (
            "<!doctype html><title>Device Activation</title><h1>Device Activation</h1>"
            '<form method="post" action="/login/device">'
            '<label>Code <input name="user_code" autocomplete="off"></label>'
            '<button name="action" value="authorize">Authorize</button>'
            '<button name="action" value="cancel">Cancel</button></form>'
        )
        return web.Response(text=html, content_type="text/html")

    async def _device_page_submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        code = str(form.get("user_code", "")).strip().upper()
        try:
            if form.get("action") == "cancel":
                self.deny(code)
                text = "Authorization cancelled."
            else:
                self.approve(code)
                text = "Congratulations, you're all set! Your device is now connected."
        except KeyError:
            return web.Response(text="Invalid code.", status=404, content_type="text/html")
        return web.Response(text=f"<!doctype html><p>{text}</p>", content_type="text/html")

    # ----- GitHub API ------------------------------------------------------------

    async def _copilot_token(self, request: web.Request) -> web.Response:
        await self._record(request)
        with self._lock:
            self.token_calls += 1
            token_error = self.token_error
        account = self._github_account(request)
        if token_error is not None:
            status, message = token_error
            default = {
                401: "Bad credentials",
                403: "Resource not accessible by integration",
                404: "Not Found",
            }.get(status, "Server Error")
            return self._gh_error(status, message or default)
        if account is None:
            return self._gh_error(401, "Bad credentials")
        if account.copilot == "no_access":
            return self._gh_error(403, "You do not have access to GitHub Copilot.")
        if account.copilot == "suspended":
            return self._gh_error(
                403, "Your Copilot access has been suspended. Contact GitHub support."
            )
        if account.copilot == "not_found":
            return self._gh_error(404, "Not Found")
        now = time.time()
        with self._lock:
            expires_at = int(now + self.key_ttl)
            key = f"tid={uuid.uuid4().hex};exp={expires_at};sku=copilot_{account.plan};" + (
                secrets.token_hex(16)
            )
            self.keys[key] = (float(expires_at), account.token)
        return web.json_response(
            {
                "token": key,
                "expires_at": expires_at,
                "refresh_in": max(int(self.key_ttl) - 300, 0),
                "endpoints": {
                    "api": self.api_url,
                    "proxy": self.url,
                    "telemetry": self.url,
                    "origin-tracker": self.url,
                },
                "chat_enabled": True,
                "sku": f"copilot_{account.plan}",
                "annotations_enabled": True,
                "tracking_id": uuid.uuid4().hex,
            }
        )

    async def _copilot_user(self, request: web.Request) -> web.Response:
        await self._record(request)
        account = self._github_account(request)
        if account is None:
            return self._gh_error(401, "Bad credentials")
        if account.copilot != "ok":
            return self._gh_error(404, "Not Found")
        with self._lock:
            quota = json.loads(json.dumps(self.quota))
            reset = self.quota_reset_date
        return web.json_response(
            {
                "login": account.login,
                "copilot_plan": account.plan,
                "chat_enabled": True,
                "quota_reset_date": reset,
                "quota_snapshots": quota,
            }
        )

    async def _user(self, request: web.Request) -> web.Response:
        await self._record(request)
        account = self._github_account(request)
        if account is None:
            return self._gh_error(401, "Bad credentials")
        return web.json_response({"login": account.login, "id": 583231, "type": "User"})

    # ----- Copilot API -----------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        await self._record(request)
        denied = self._copilot_auth(request)
        if denied is not None:
            return denied
        with self._lock:
            models = list(self.models.values())
        data = [
            {
                "id": m.id,
                "object": "model",
                "name": m.id,
                "vendor": m.vendor,
                "version": m.id,
                "model_picker_enabled": True,
                "capabilities": {"family": m.id, "type": m.kind, "supports": {"streaming": True}},
                "supported_endpoints": list(m.endpoints),
            }
            for m in models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        rec, fail, sw = await self._model_gate(request, "/chat/completions")
        if fail is not None:
            return fail
        body: dict[str, Any] = rec.body
        model = str(body["model"])
        if "thinking" in body and not self.models[model].is_claude:
            # Copilot's OpenAI-style backends reject parameters they do not know.
            return self._copilot_error(
                400, "invalid_request_body", "Unrecognized request argument supplied: thinking"
            )
        text = f"Hello from {model}."
        call = _tool_call(body.get("tools"), body.get("tool_choice"), body.get("messages"))
        prompt_tokens = _count_tokens(body.get("messages"))
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": 5,
            "total_tokens": prompt_tokens + 5,
        }
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        created = int(time.time())
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": None if call else text}
            if call:
                message["tool_calls"] = [call]
            return web.json_response(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "tool_calls" if call else "stop",
                        }
                    ],
                    "usage": usage,
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        events: list[Any] = [chunk({"role": "assistant", "content": ""})]
        if call:
            fn = call["function"]
            head = {"index": 0, "id": call["id"], "type": "function"}
            events.append(
                chunk({"tool_calls": [{**head, "function": {"name": fn["name"], "arguments": ""}}]})
            )
            args = fn["arguments"]
            half = len(args) // 2
            for part in (args[:half], args[half:]):
                events.append(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
                )
            events.append(chunk({}, "tool_calls"))
        else:
            for word in _pieces(text):
                events.append(chunk({"content": word}))
            events.append(chunk({}, "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk({}), "choices": [], "usage": usage})
        sse: list[tuple[str | None, Any]] = [(None, e) for e in events]
        return await self._sse(request, [*sse, (None, "[DONE]")], sw)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        rec, fail, sw = await self._model_gate(request, "/v1/messages")
        if fail is not None:
            return fail
        body: dict[str, Any] = rec.body
        model = str(body["model"])
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int):
            return _anthropic_error(400, "max_tokens: Field required")
        thinking = body.get("thinking") or {}
        thinking_on = thinking.get("type") == "enabled"
        if thinking_on and int(thinking.get("budget_tokens", 0)) >= max_tokens:
            return _anthropic_error(
                400, "`max_tokens` must be greater than `thinking.budget_tokens`"
            )
        text = f"Hello from {model}."
        tools = [
            {
                "type": "function",
                "function": {"name": t["name"], "parameters": t.get("input_schema", {})},
            }
            for t in body.get("tools") or []
            if isinstance(t, dict) and "name" in t
        ]
        choice = body.get("tool_choice") or {}
        forced: Any = {"none": "none", "any": "any", "tool": choice}.get(str(choice.get("type")))
        call = _tool_call(tools, forced, _anthropic_as_openai(body.get("messages")))
        blocks: list[dict[str, Any]] = []
        if thinking_on:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": "Thinking it over.",
                    "signature": "sig-" + uuid.uuid4().hex,
                }
            )
        if call:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": "toolu_" + uuid.uuid4().hex[:24],
                    "name": call["function"]["name"],
                    "input": json.loads(call["function"]["arguments"]),
                }
            )
        else:
            blocks.append({"type": "text", "text": text})
        stop = "tool_use" if call else "end_turn"
        in_tokens = _count_tokens(body.get("messages"))
        msg_id = "msg_" + uuid.uuid4().hex[:24]
        if not body.get("stream"):
            return web.json_response(
                {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": blocks,
                    "stop_reason": stop,
                    "stop_sequence": None,
                    "usage": {"input_tokens": in_tokens, "output_tokens": 5},
                }
            )
        events: list[tuple[str | None, Any]] = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": in_tokens, "output_tokens": 1},
                    },
                },
            ),
            ("ping", {"type": "ping"}),
        ]
        for i, block in enumerate(blocks):
            kind = block["type"]
            start = (
                {**block, "thinking": ""}
                if kind == "thinking"
                else ({**block, "input": {}} if kind == "tool_use" else {**block, "text": ""})
            )
            if kind == "thinking":
                start.pop("signature", None)
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": start},
                )
            )
            deltas: list[dict[str, Any]]
            if kind == "thinking":
                deltas = [
                    {"type": "thinking_delta", "thinking": block["thinking"]},
                    {"type": "signature_delta", "signature": block["signature"]},
                ]
            elif kind == "tool_use":
                args = json.dumps(block["input"])
                deltas = [
                    {"type": "input_json_delta", "partial_json": p}
                    for p in (args[: len(args) // 2], args[len(args) // 2 :])
                ]
            else:
                deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
            for d in deltas:
                events.append(
                    ("content_block_delta", {"type": "content_block_delta", "index": i, "delta": d})
                )
            events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": 5},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return await self._sse(request, events, sw)

    async def _count_tokens(self, request: web.Request) -> web.Response:
        rec, fail, _ = await self._model_gate(request, "/v1/messages")
        if fail is not None:
            return fail
        body = rec.body if isinstance(rec.body, dict) else {}
        return web.json_response({"input_tokens": _count_tokens(body.get("messages"))})

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        rec, fail, sw = await self._model_gate(request, "/responses")
        if fail is not None:
            return fail
        body: dict[str, Any] = rec.body
        model = str(body["model"])
        text = f"Hello from {model}."
        resp_id = "resp_" + uuid.uuid4().hex
        item_id = "msg_" + uuid.uuid4().hex
        in_tokens = _count_tokens(body.get("input"))
        usage = {
            "input_tokens": in_tokens,
            "output_tokens": 5,
            "total_tokens": in_tokens + 5,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        }
        part = {"type": "output_text", "text": text, "annotations": []}
        item = {
            "type": "message",
            "id": item_id,
            "status": "completed",
            "role": "assistant",
            "content": [part],
        }

        def response(status: str, output: list[Any], usage_: Any) -> dict[str, Any]:
            return {
                "id": resp_id,
                "object": "response",
                "created_at": int(time.time()),
                "status": status,
                "model": model,
                "output": output,
                "parallel_tool_calls": True,
                "tool_choice": "auto",
                "tools": [],
                "usage": usage_,
            }

        if not body.get("stream"):
            return web.json_response(response("completed", [item], usage))
        raw: list[dict[str, Any]] = [
            {"type": "response.created", "response": response("in_progress", [], None)},
            {"type": "response.in_progress", "response": response("in_progress", [], None)},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress", "content": []},
            },
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": {**part, "text": ""},
            },
        ]
        for p in _pieces(text):
            raw.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": p,
                }
            )
        raw += [
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "text": text,
            },
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": part,
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {"type": "response.completed", "response": response("completed", [item], usage)},
        ]
        events = [(e["type"], {**e, "sequence_number": n}) for n, e in enumerate(raw)]
        return await self._sse(request, events, sw)

    async def _embeddings(self, request: web.Request) -> web.Response:
        rec, fail, _ = await self._model_gate(request, "/embeddings")
        if fail is not None:
            return fail
        body: dict[str, Any] = rec.body
        inputs = body.get("input")
        items = inputs if isinstance(inputs, list) else [inputs]
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(str(text))}
            for i, text in enumerate(items)
        ]
        tokens = sum(len(str(t).split()) for t in items)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _sse(
        self,
        request: web.Request,
        events: list[tuple[str | None, Any]],
        sw: Switch,
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            headers={"content-type": "text/event-stream", "cache-control": "no-cache"}
        )
        await resp.prepare(request)
        for n, (name, data) in enumerate(events):
            if sw.drop_after is not None and n >= sw.drop_after:
                # Cut the TCP connection mid-stream, as a dying upstream does.
                if request.transport is not None:
                    request.transport.abort()
                return resp
            payload = data if isinstance(data, str) else json.dumps(data)
            line = (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"
            await resp.write(line.encode())
        await resp.write_eof()
        return resp


# ----- pure helpers --------------------------------------------------------------


def _anthropic_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"type": "error", "error": {"type": "invalid_request_error", "message": message}},
        status=status,
    )


def _pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


def _count_tokens(messages: Any) -> int:
    return max(1, len(json.dumps(messages or "")) // 4)


def _vector(text: str) -> list[float]:
    seed = sum(text.encode()) or 1
    return [((seed * (i + 1)) % 97) / 97.0 for i in range(8)]


def _anthropic_as_openai(messages: Any) -> list[dict[str, Any]]:
    """Enough of Anthropic messages for _tool_call: a tool_result counts as a tool message."""
    out: list[dict[str, Any]] = []
    for m in messages or []:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in content
        ):
            out.append({"role": "tool"})
        else:
            out.append({"role": m.get("role"), "content": content})
    return out


def _tool_call(tools: Any, tool_choice: Any, messages: Any) -> dict[str, Any] | None:
    """The tool call the fake model makes, if any.

    It calls a tool the last user message names (e.g. "use get_weather"), or the
    one `tool_choice` forces; never once the conversation ends with a tool result.
    """
    if not tools or tool_choice == "none":
        return None
    last = messages[-1] if isinstance(messages, list) and messages else None
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    fns = [t.get("function", {}) for t in tools if isinstance(t, dict)]
    said = json.dumps(last.get("content"))
    fn = next((f for f in fns if f.get("name") and str(f["name"]) in said), None)
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name") or tool_choice.get("name")
        fn = next((f for f in fns if f.get("name") == wanted), fn or (fns[0] if fns else None))
    elif tool_choice in ("required", "any") and fn is None and fns:
        fn = fns[0]
    if fn is None:
        return None
    params = fn.get("parameters") or {}
    args = {
        name: _sample((params.get("properties") or {}).get(name) or {})
        for name in params.get("required") or []
    }
    return {
        "id": "call_" + uuid.uuid4().hex[:24],
        "type": "function",
        "function": {"name": fn.get("name", "tool"), "arguments": json.dumps(args)},
    }


def _sample(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    return {"integer": 1, "number": 1.0, "boolean": True, "array": [], "object": {}}.get(
        str(kind), "Paris"
    )
