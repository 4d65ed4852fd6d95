"""A fake GitHub + Copilot upstream: one aiohttp server on 127.0.0.1, in its own thread.

It speaks the protocols the project talks to (see docs/upstream.md),
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
    gh.token_based_billing = True  # a 2026 monthly plan: that snapshot counts AI credits

Copilot API (Bearer <Copilot key>): `/chat/completions`, `/v1/messages`
(+ `/count_tokens`), `/responses`, `/embeddings`, `/models`. Replies name the
model that served them: "Hello from <model>."; the model calls a tool when the
last user message asks for it ("use Bash"; or `tool_choice` forces one), with
`gh.tool_args[name]` as arguments when set. Per-model switches::

    gh.fail(model, 402|429|500|400|..., times=None, code=None)  # quota_exceeded, rate_limited, ...
    gh.fail(model, 429, code="user_weekly_rate_limited", retry_after=183600)  # wait in the text
    gh.delay(model, seconds); gh.drop_stream(model, after=2)    # drop after N SSE events
    gh.pace(model, gap)            # streams send one SSE event every `gap` seconds
    gh.clear(model)
    gh.models                      # id -> ModelInfo; unknown ids get 400 model_not_supported
    gh.models[id].policy = "disabled"      # listed, but 400 model_not_supported on use
    gh.models[id].max_prompt_tokens = 2000 # bigger prompts: 400 model_max_prompt_tokens_exceeded
    gh.catalogue_error = 503; gh.catalogue_calls          # GET /models

`GET /models` is the 2026 catalogue (limits, supported endpoints, policy, picker,
preview, vendor, type); `gpt-5.3-codex` answers on `/responses` only and
`grok-code-fast-1` is not enabled. Token counts (usage, count_tokens, the prompt
limit) follow each vendor's characters-per-token rule (`tokens`).

Copilot API calls without an `editor-version` header get Copilot's 400
(`gh.require_editor_version = False` turns that off).

Billing, as Copilot's in 2026 (billing.py): every answer carries
`copilot_usage.total_nano_aiu` (streams: in the final event), priced per model
from input, cached-input, cache-write and output tokens; prompts are cached
(Anthropic `cache_control` marks, OpenAI prefixes). `gh.bills` (one `Bill` per
answered model request: model, X-Initiator, tokens, nano AIU),
`gh.premium_requests()` (answers whose X-Initiator is not `agent`),
`gh.credits()`; `Recorded.initiator` / `.interaction_type` read the headers.

GitHub Apps (apps.py, app_api.py; docs/contracts.md, "GitHub App credential")::

    app = new_app(gh, org="acme")   # AppKeys(app_id, client_id, slug, installation_id, org,
                                    #         private_key_pem); the fake keeps the public key
    app.jwt(iss=None, iat=-60, exp=540)   # a JWT GitHub accepts (seconds from now)
    gh.apps.token_lifetime = 5      # seconds an installation token lives (default 3600)
    gh.apps.revoke(id); gh.apps.expire_tokens(id); gh.apps.suspend(id); gh.apps.uninstall(id)
    gh.apps.revoke_grant(id, "copilot_requests"); gh.apps.set_policy(False, org="acme")
    gh.apps.clock_offset = 900      # the fake's clock ahead, for the JWT's iat/exp checks
    gh.apps.requests                # AppRequest(method, path, iss, app_id, installation_id,
                                    #            status, outcome) for every App request

`POST /app/installations/{id}/access_tokens` (JWT) mints `ghs_` tokens; the key
exchange takes them like OAuth tokens (403 when the org's policy is off); their
Copilot keys expire no later than the token, and bills name the org
(`Bill.payer`, `.app_id`, `.installation_id`).

Records: `gh.requests` (every request, as `Recorded`), `gh.copilot_requests(path=None)`,
`gh.models_tried(path=None)`; `gh.recording = False` stops recording (benchmarks).
`gh.reset()` clears switches, records, counters and device codes but keeps
accounts and issued keys (a running proxy keeps working); `gh.reset(full=True)`
forgets those too.

Modules: `state` (accounts, keys, device codes, models, switches, records),
`catalog` (the models and quota Copilot offers), `tokens` (prompt sizes), `billing` (prices,
prompt cache, premium requests), `oauth` (the device flow),
`github_api` (the Copilot key exchange, user and quota), `apps` and `app_api`
(GitHub Apps: their state and endpoints), `copilot_gate` (what
every Copilot API call goes through), `chat`, `messages`, `responses` (the
Copilot API's answers), `replies` (what the fake model says), `server` (the
aiohttp app in its thread).
"""

from testkit.fake_github.apps import AppKeys, AppRequest, new_app
from testkit.fake_github.catalog import ModelInfo
from testkit.fake_github.server import FakeGitHub
from testkit.fake_github.state import (
    DEFAULT_CLIENT_ID,
    DEFAULT_LOGIN,
    DEFAULT_TOKEN,
    Account,
    Device,
    Recorded,
    Switch,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_LOGIN",
    "DEFAULT_TOKEN",
    "Account",
    "AppKeys",
    "AppRequest",
    "Device",
    "FakeGitHub",
    "ModelInfo",
    "Recorded",
    "Switch",
    "new_app",
]
