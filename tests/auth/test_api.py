"""The login service over HTTP: real app (uvicorn), Kubernetes emulator, fake GitHub.

Each test drives the API the way the page or a script does and checks what a
user would notice: the answer, the message, and what ends up in the Secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from testkit.fake_github import FakeGitHub
from testkit.fake_github.catalog import next_month
from testkit.kube import KubeCluster
from tests.auth.conftest import (
    ADMIN_PASSWORD,
    CPX,
    MASTER_KEY,
    NS,
    SAME_ORIGIN,
    AuthServer,
    ServerFactory,
    add_proxy,
    fast_limits,
    secret,
    stored_token,
    wait_login,
)

T = TypeVar("T")
START = f"/api/proxies/{NS}/copilot/login"
TOKEN_PATH = f"/api/proxies/{NS}/copilot/token"


async def start_login(c: httpx.AsyncClient, csrf: str, path: str = START) -> dict[str, Any]:
    r = await c.post(path, headers={"x-csrf-token": csrf})
    assert r.status_code == 202, r.text
    return dict(r.json())


async def proxy_state(c: httpx.AsyncClient) -> dict[str, Any]:
    r = await c.get(f"/api/proxies/{NS}/copilot")
    assert r.status_code == 200, r.text
    return dict(r.json())


# -- the page and health ---------------------------------------------------------------------


async def test_page_health_and_headers(auth_server: AuthServer) -> None:
    c = auth_server.client()
    page = await c.get("/github")
    assert page.status_code == 200 and "Copilot proxy sign-in" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    for asset in ("/static/app.js", "/static/style.css", "/static/icon.svg"):
        assert (await c.get(asset)).status_code == 200
    root = await c.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/github"
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert (await c.get("/readyz")).json() == {"status": "ok", "store": "kubernetes"}


async def test_proxies_are_listed_without_credentials(auth_server: AuthServer) -> None:
    c = auth_server.client()
    r = await c.get("/api/proxies")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    [proxy] = r.json()["proxies"]
    assert proxy["id"] == f"{NS}/copilot"
    assert proxy["token"] == {"state": "missing", "login": None, "updatedAt": None,
                              "ageSeconds": None}  # fmt: skip
    assert proxy["tokenLocation"] == f"Secret {NS}/copilot-github-token"
    assert proxy["loginInProgress"] is False


# -- signing in ------------------------------------------------------------------------------


async def quota_shown(c: httpx.AsyncClient, expected: dict[str, Any]) -> bool:
    """Does the proxy's account show a quota with `expected`'s fields (unit, figures)?"""
    quotas = ((await proxy_state(c)).get("copilot") or {}).get("quotas") or []
    return any(expected.items() <= q.items() for q in quotas)


async def eventually(check: Callable[[], Awaitable[T]], timeout: float = 10.0) -> T:
    """`check()` once it is truthy (the last value after `timeout`): the quota is read in
    the background, so a change shows at the next refresh."""
    deadline = time.monotonic() + timeout
    while not (value := await check()) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return value


async def test_sign_in_stores_the_token_and_shows_the_account(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    gh = auth_server.gh
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    assert login["phase"] == "waiting"
    assert login["verificationUri"] == f"{gh.url}/login/device"
    device = gh.last_device()
    assert login["userCode"] == device.user_code
    assert device.client_id == "Iv1.b507a08c87ecfe98" and device.scope == "read:user"
    assert (await proxy_state(c))["loginInProgress"] is True

    token = gh.approve(device.user_code, login="monalisa")
    final = (await wait_login(c, login["id"]))[-1]
    assert final["phase"] == "connected" and final["githubLogin"] == "monalisa"
    assert final["message"].startswith("Connected as @monalisa")
    assert final["userCode"] is None

    assert stored_token(kube_api) == token
    annotations = secret(kube_api)["metadata"]["annotations"]
    assert annotations["copilot-proxy.dev/login"] == "monalisa"
    state = await proxy_state(c)
    assert state["token"]["state"] == "present" and state["token"]["login"] == "monalisa"
    assert state["token"]["ageSeconds"] < 60
    premium = next(q for q in state["copilot"]["quotas"] if q["kind"] == "premium_interactions")
    assert (premium["remaining"], premium["entitlement"]) == (240, 300)
    assert premium["unit"] == "premium_requests"  # an annual plan
    assert state["copilot"]["plan"] == "individual"
    assert state["copilot"]["quotaResetDate"] == next_month()
    assert state["loginInProgress"] is False


async def test_pending_then_slow_down_then_success(auth_server: AuthServer) -> None:
    gh = auth_server.gh
    gh.device_script = ["pending", "slow_down", "ok"]
    c, csrf = await auth_server.unlocked()
    started = time.monotonic()
    login = await start_login(c, csrf)
    seen = await wait_login(c, login["id"])
    assert seen[-1]["phase"] == "connected"
    assert any("slow down" in s["message"] for s in seen)
    # slow_down made the interval 5 s: the next poll waited for it.
    assert time.monotonic() - started >= 5.0
    polls = [r for r in gh.requests if r.path == "/login/oauth/access_token"]
    assert len(polls) == 3


@pytest.mark.parametrize(
    ("script", "error", "words"),
    [
        (["pending", "expired"], "expired", "expired"),
        (["denied"], "denied", "cancelled on GitHub"),
        (["bad_client"], "bad_client", "GITHUB_OAUTH_CLIENT_ID"),
    ],
)
async def test_failed_logins_say_why_and_store_nothing(
    auth_server: AuthServer,
    kube_api: KubeCluster,
    script: list[str],
    error: str,
    words: str,
) -> None:
    auth_server.gh.device_script = script
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    final = (await wait_login(c, login["id"]))[-1]
    assert (final["phase"], final["error"]) == ("failed", error)
    assert words in final["message"]
    assert stored_token(kube_api) == ""
    # The way to retry: start again, get a fresh code.
    auth_server.gh.device_script = []
    again = await start_login(c, csrf)
    assert again["userCode"] != login["userCode"]


async def test_denied_on_githubs_page(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    auth_server.gh.deny(login["userCode"])
    assert (await wait_login(c, login["id"]))[-1]["error"] == "denied"


@pytest.mark.parametrize(
    ("copilot", "error", "words"),
    [
        ("no_access", "no_copilot", "@nocopilot has no GitHub Copilot access"),
        ("suspended", "suspended", "suspended"),
        ("not_found", "no_copilot", "no GitHub Copilot access"),
    ],
)
async def test_accounts_without_copilot_are_refused_before_storing(
    auth_server: AuthServer, kube_api: KubeCluster, copilot: str, error: str, words: str
) -> None:
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    auth_server.gh.approve(login["userCode"], login="nocopilot", copilot=copilot)
    final = (await wait_login(c, login["id"]))[-1]
    assert (final["phase"], final["error"]) == ("failed", error)
    assert words in final["message"] and "Nothing was stored" in final["message"]
    assert stored_token(kube_api) == ""
    assert (await proxy_state(c))["token"]["state"] == "missing"


@pytest.mark.parametrize(("status", "error"), [(401, "bad_token"), (403, "no_copilot")])
async def test_token_exchange_refusals(
    auth_server: AuthServer, kube_api: KubeCluster, status: int, error: str
) -> None:
    auth_server.gh.fail_token_exchange(status)
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    auth_server.gh.approve(login["userCode"])
    final = (await wait_login(c, login["id"]))[-1]
    assert (final["phase"], final["error"]) == ("failed", error)
    assert stored_token(kube_api) == ""


async def test_copilot_check_server_error_can_be_retried(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    gh = auth_server.gh
    gh.fail_token_exchange(500)
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    gh.approve(login["userCode"])
    final = (await wait_login(c, login["id"]))[-1]
    assert final["error"] == "copilot_unavailable" and "try again" in final["message"]
    assert stored_token(kube_api) == ""
    gh.fail_token_exchange(None)
    again = await start_login(c, csrf)
    token = gh.approve(again["userCode"])
    assert (await wait_login(c, again["id"]))[-1]["phase"] == "connected"
    assert stored_token(kube_api) == token


async def test_replacing_and_signing_out(auth_server: AuthServer, kube_api: KubeCluster) -> None:
    gh = auth_server.gh
    c, csrf = await auth_server.unlocked()
    first = await start_login(c, csrf)
    gh.approve(first["userCode"], login="first")
    await wait_login(c, first["id"])
    second = await start_login(c, csrf)
    token = gh.approve(second["userCode"], login="second")
    await wait_login(c, second["id"])
    assert stored_token(kube_api) == token
    assert (await proxy_state(c))["token"]["login"] == "second"

    r = await c.delete(TOKEN_PATH, headers={"x-csrf-token": csrf})
    assert r.status_code == 200 and r.json()["token"]["state"] == "missing"
    obj = secret(kube_api)
    assert obj["data"] == {} and obj["metadata"].get("annotations", {}) == {}


async def test_a_new_start_replaces_the_pending_login(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    c, csrf = await auth_server.unlocked()
    lost = await start_login(c, csrf)
    fresh = await start_login(c, csrf)
    assert (await c.get(f"/api/logins/{lost['id']}")).json()["phase"] == "cancelled"
    # Approving the abandoned code stores nothing.
    auth_server.gh.approve(lost["userCode"], login="stale")
    await asyncio.sleep(0.3)
    assert stored_token(kube_api) == ""
    token = auth_server.gh.approve(fresh["userCode"], login="fresh")
    assert (await wait_login(c, fresh["id"]))[-1]["githubLogin"] == "fresh"
    assert stored_token(kube_api) == token


async def test_cancel(auth_server: AuthServer, kube_api: KubeCluster) -> None:
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    r = await c.delete(f"/api/logins/{login['id']}", headers={"x-csrf-token": csrf})
    assert r.status_code == 200 and r.json()["phase"] == "cancelled"
    auth_server.gh.approve(login["userCode"])
    await asyncio.sleep(0.3)
    assert stored_token(kube_api) == ""


async def test_store_failure_is_reported_without_the_token(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    kube_api.fail("update", "Secret", status=403, times=None)
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    token = auth_server.gh.approve(login["userCode"])
    final = (await wait_login(c, login["id"]))[-1]
    assert final["error"] == "store_failed"
    assert f"Secret {NS}/copilot-github-token" in final["message"] and "403" in final["message"]
    assert token not in str(final)


async def test_a_rejected_stored_token_is_shown(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    auth_server.gh.approve(login["userCode"])
    await wait_login(c, login["id"])
    auth_server.gh.reset(full=True)  # GitHub forgot the token (revoked)

    async def rejected() -> bool:
        copilot = (await proxy_state(c))["copilot"] or {}
        return "rejects the stored token" in (copilot.get("error") or "")

    assert await eventually(rejected), "the next quota refresh shows the rejection"
    assert (await proxy_state(c))["token"]["state"] == "present"


# -- GitHub unreachable ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "error", "words"),
    [
        (
            {"GITHUB_DEVICE_CODE_URL": "http://127.0.0.1:9/login/device/code"},
            "github_unreachable",
            "127.0.0.1:9 did not answer",
        ),
        ({"GITHUB_OAUTH_CLIENT_ID": "Iv1.not-registered"}, "bad_client", "GITHUB_OAUTH_CLIENT_ID"),
    ],
)
async def test_a_start_github_refuses_is_a_502_that_says_why(
    kube_api: KubeCluster, make_server: ServerFactory, env: dict[str, str], error: str, words: str
) -> None:
    add_proxy(kube_api)
    async with make_server(KubernetesStore.from_environment([NS]), env=env) as server:
        c, csrf = await server.unlocked()
        r = await c.post(START, headers={"x-csrf-token": csrf})
        assert r.status_code == 502 and r.json()["error"] == error
        assert words in r.json()["message"]
        assert (await proxy_state(c))["loginInProgress"] is False  # nothing was started


async def test_unreachable_github_while_polling(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_proxy(kube_api)
    env = {"GITHUB_ACCESS_TOKEN_URL": "http://127.0.0.1:9/login/oauth/access_token"}
    async with make_server(KubernetesStore.from_environment([NS]), env=env) as server:
        c, csrf = await server.unlocked()
        login = await start_login(c, csrf)
        seen = await wait_login(c, login["id"])
        assert any("trying again" in s["message"] for s in seen)
        assert (seen[-1]["phase"], seen[-1]["error"]) == ("failed", "unreachable")


# -- admin credential, CSRF, cross-site --------------------------------------------------------


async def test_unlocking(auth_server: AuthServer) -> None:
    c = auth_server.client(headers=SAME_ORIGIN)
    wrong = await c.post("/api/session", json={"credential": "sk-wrong"})
    assert wrong.status_code == 401 and "unlocks nothing" in wrong.json()["message"]
    assert (await c.get("/api/session")).json()["authenticated"] is False

    r = await c.post("/api/session", json={"credential": MASTER_KEY})
    assert r.status_code == 200 and r.json()["scope"] == [f"{NS}/copilot"]
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert MASTER_KEY not in r.text and MASTER_KEY not in r.headers["set-cookie"]

    admin = auth_server.client(headers=SAME_ORIGIN)
    r = await admin.post("/api/session", json={"credential": ADMIN_PASSWORD})
    assert r.json()["scope"] == "all"


async def test_state_changes_need_the_credential(auth_server: AuthServer) -> None:
    anonymous = auth_server.client(headers=SAME_ORIGIN)
    for method, path in (("POST", START), ("DELETE", TOKEN_PATH), ("DELETE", "/api/session")):
        r = await anonymous.request(method, path)
        assert r.status_code == 401, (method, path)
        assert r.json()["message"] == "Unlock the page with the admin credential first."
    assert (await anonymous.get("/api/logins/whatever")).status_code == 401
    assert auth_server.gh.requests == []  # no device flow was started


async def test_csrf_token_is_required(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    assert (await c.post(START)).status_code == 403
    r = await c.post(START, headers={"x-csrf-token": csrf[:-2] + "xx"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"
    _, other_csrf = await auth_server.unlocked()
    r = await c.post(START, headers={"x-csrf-token": other_csrf})  # another session's token
    assert r.status_code == 403


async def test_cross_site_requests_are_refused(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    for headers in (
        {"sec-fetch-site": "cross-site", "x-csrf-token": csrf},
        {"origin": "http://evil.example", "x-csrf-token": csrf},
        {"origin": "null", "x-csrf-token": csrf},
    ):
        r = await c.post(START, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "cross_site", headers
    # Nor can another site log the browser in (login CSRF).
    r = await auth_server.client().post(
        "/api/session", json={"credential": MASTER_KEY}, headers={"origin": "http://evil.example"}
    )
    assert r.status_code == 403
    assert auth_server.gh.requests == []


async def test_a_replayed_request_after_locking_is_refused(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    cookie = c.cookies.get("copilot_auth_session")
    assert (await c.delete("/api/session", headers={"x-csrf-token": csrf})).status_code == 200
    replay = auth_server.client(headers=SAME_ORIGIN, cookies={"copilot_auth_session": cookie})
    r = await replay.post(START, headers={"x-csrf-token": csrf})
    assert r.status_code == 401
    assert auth_server.gh.requests == []


async def test_a_master_key_unlocks_only_its_proxy(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    add_proxy(kube_api, name="other", master_key="sk-other-master-key")
    c, csrf = await auth_server.unlocked()
    r = await c.post(f"/api/proxies/{NS}/other/login", headers={"x-csrf-token": csrf})
    assert r.status_code == 403 and f"{NS}/other" in r.json()["message"]
    script = auth_server.client(headers={"authorization": f"Bearer {MASTER_KEY}"})
    r = await script.delete(f"/api/proxies/{NS}/other/token")
    assert r.status_code == 403 and f"{NS}/other" in r.json()["message"]


async def test_scripts_use_a_bearer_credential(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    script = auth_server.client(headers={"authorization": f"Bearer {MASTER_KEY}"})
    r = await script.post(START)  # no cookie, no CSRF token: nothing a browser sends by itself
    assert r.status_code == 202
    token = auth_server.gh.approve(r.json()["userCode"])
    assert (await wait_login(script, r.json()["id"]))[-1]["phase"] == "connected"
    assert stored_token(kube_api) == token
    wrong = auth_server.client(headers={"authorization": "Bearer sk-wrong"})
    assert (await wrong.post(START)).status_code == 401


async def test_unknown_and_malformed_names(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked(ADMIN_PASSWORD)
    for path in (f"/api/proxies/{NS}/missing", "/api/proxies/other-ns/copilot"):
        r = await c.get(path)
        assert r.status_code == 404 and "No CopilotProxy" in r.json()["message"]
    r = await c.post(f"/api/proxies/{NS}/missing/login", headers={"x-csrf-token": csrf})
    assert r.status_code == 404
    r = await c.post(f"/api/proxies/{NS}/Bad..Name/login", headers={"x-csrf-token": csrf})
    assert r.status_code == 404
    assert (await c.get("/api/logins/nope")).status_code == 404


async def test_bad_input_is_not_echoed(auth_server: AuthServer) -> None:
    c = auth_server.client(headers=SAME_ORIGIN)
    long_secret = "sk-" + "x" * 5000
    r = await c.post("/api/session", json={"credential": long_secret})
    assert r.status_code == 422 and "credential" in r.json()["message"]
    assert "xxxxxxxx" not in r.text
    r = await c.post("/api/session", json={})
    assert r.status_code == 422


async def test_wrong_credentials_are_rate_limited_but_the_right_one_works(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_proxy(kube_api)
    limits = fast_limits(credential_failures=3, credential_delay=0.01)
    async with make_server(KubernetesStore.from_environment([NS]), limits=limits) as server:
        c = server.client(headers=SAME_ORIGIN)
        for _ in range(3):
            assert (await c.post("/api/session", json={"credential": "guess"})).status_code == 401
        r = await c.post("/api/session", json={"credential": "guess"})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert (await c.post("/api/session", json={"credential": MASTER_KEY})).status_code == 200
        metrics = (await c.get("/metrics")).text
        assert "copilot_auth_credential_failures_total 4.0" in metrics
        assert 'copilot_auth_rate_limited_total{limit="credential"} 2.0' in metrics


async def test_device_flow_starts_are_rate_limited(
    kube_api: KubeCluster, make_server: ServerFactory
) -> None:
    add_proxy(kube_api)
    limits = fast_limits(starts_per_client=2, starts_global=3)
    async with make_server(KubernetesStore.from_environment([NS]), limits=limits) as server:
        a, a_csrf = await server.unlocked()
        for _ in range(2):
            await start_login(a, a_csrf)
        r = await a.post(START, headers={"x-csrf-token": a_csrf})
        assert r.status_code == 429 and "from you" in r.json()["message"]
        assert int(r.headers["retry-after"]) > 0
        b, b_csrf = await server.unlocked(ADMIN_PASSWORD)
        await start_login(b, b_csrf)
        r = await b.post(START, headers={"x-csrf-token": b_csrf})
        assert r.status_code == 429 and "in total" in r.json()["message"]
        assert len(server.gh.devices) == 3  # GitHub saw only the allowed starts
        metrics = (await a.get("/metrics")).text
        assert 'copilot_auth_rate_limited_total{limit="client"} 1.0' in metrics
        assert 'copilot_auth_rate_limited_total{limit="global"} 1.0' in metrics


# -- the token stays on the server ------------------------------------------------------------


async def test_the_token_never_leaves_the_server(
    auth_server: AuthServer, kube_api: KubeCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        responses.append(response)

    c, csrf = await auth_server.unlocked()
    c.event_hooks["response"].append(keep)
    login = await start_login(c, csrf)
    device_code = auth_server.gh.last_device().device_code
    token = auth_server.gh.approve(login["userCode"], login="octocat")
    await wait_login(c, login["id"])
    for path in ("/api/proxies", f"/api/proxies/{NS}/copilot", "/metrics", "/github",
                 "/api/session", "/static/app.js"):  # fmt: skip
        await c.get(path)
    assert stored_token(kube_api) == token  # it was stored...
    seen = "".join(r.text + str(r.headers) for r in responses)
    assert "octocat" in seen and "copilot_auth_quota_remaining" in seen  # ...and we looked
    assert token not in seen and device_code not in seen  # ...but never shown
    assert "Connected as @octocat" in caplog.text or "connected as octocat" in caplog.text
    assert token not in caplog.text and device_code not in caplog.text


async def test_a_monthly_plan_shows_its_ai_credits(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    login = await start_login(c, csrf)
    auth_server.gh.approve(login["userCode"])
    await wait_login(c, login["id"])
    auth_server.gh.token_based_billing = True
    auth_server.gh.quota["premium_interactions"].update(entitlement=1500, remaining=1234.5)
    # Read in the background: the change shows at the next refresh.
    credits = {"unit": "ai_credits", "entitlement": 1500, "remaining": 1234.5}
    assert await eventually(lambda: quota_shown(c, credits)), "the refreshed quota"
    state = await proxy_state(c)
    assert not [q for q in state["copilot"]["quotas"] if q["unit"] == "premium_requests"]


async def test_metrics_show_quota_per_proxy(auth_server: AuthServer) -> None:
    c, csrf = await auth_server.unlocked()
    before = (await c.get("/metrics")).text
    assert 'copilot_auth_token_present{namespace="ai",proxy="copilot"} 0.0' in before
    login = await start_login(c, csrf)
    auth_server.gh.approve(login["userCode"])
    await wait_login(c, login["id"])
    auth_server.gh.quota["premium_interactions"]["remaining"] = 12
    labels = 'namespace="ai",proxy="copilot"'
    remaining = f'copilot_auth_quota_remaining{{{labels},quota="premium_interactions"}} 12.0'

    async def scraped() -> str:
        text = (await c.get("/metrics")).text
        return text if remaining in text else ""

    # The quota is read in the background (every usage_ttl), never on a scrape's behalf.
    text = await eventually(scraped)
    assert text, "the refreshed quota"
    assert f"copilot_auth_token_present{{{labels}}} 1.0" in text
    assert f'copilot_auth_quota_remaining{{{labels},quota="premium_interactions"}} 12.0' in text
    assert f'copilot_auth_quota_entitlement{{{labels},quota="premium_interactions"}} 300.0' in text
    assert f'copilot_auth_quota_unlimited{{{labels},quota="chat"}} 1.0' in text
    assert f'copilot_auth_logins_finished_total{{{labels},result="connected"}} 1.0' in text
    assert f"copilot_auth_token_age_seconds{{{labels}}}" in text


async def test_kubernetes_trouble_is_a_503_with_a_reason(
    auth_server: AuthServer, kube_api: KubeCluster
) -> None:
    kube_api.fail("list", CPX, status=403, times=None)
    c = auth_server.client()
    r = await c.get("/api/proxies")
    assert r.status_code == 503 and "403" in r.json()["message"]
    assert (await c.get("/readyz")).status_code == 503
    assert (await c.get("/healthz")).status_code == 200


# -- directory store ----------------------------------------------------------------------------


async def test_sign_in_on_the_directory_store(dir_server: AuthServer, gh: FakeGitHub) -> None:
    c, csrf = await dir_server.unlocked()
    login = await start_login(c, csrf)
    token = gh.approve(login["userCode"], login="octocat")
    assert (await wait_login(c, login["id"]))[-1]["phase"] == "connected"
    assert dir_server.store.read_token(dir_server.store.list_proxies()[0].ref) == token
    state = await proxy_state(c)
    assert state["token"]["login"] == "octocat" and state["tokenLocation"].endswith("access-token")
    assert (await c.get("/readyz")).json()["store"] == "directory"
