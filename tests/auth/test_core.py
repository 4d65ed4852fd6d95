"""The login service's functional core: GitHub answers, the login state machine, security."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from copilot_proxy.auth import login_flow as flow
from copilot_proxy.auth.login_flow import Phase
from copilot_proxy.auth.security import (
    RateLimiter,
    Scope,
    Sessions,
    credential_scope,
    cross_site_problem,
    csrf_ok,
    host_allowed,
    host_name,
    redact,
)
from copilot_proxy.auth.stores.kubernetes import read_proxy
from copilot_proxy.auth.stores.protocol import ProxyRef, TokenInfo
from copilot_proxy.core.github import GitHub
from copilot_proxy.github.copilot import (
    CopilotDenied,
    CopilotUnavailable,
    classify_exchange,
    parse_usage,
)
from copilot_proxy.github.device_flow import (
    BadClient,
    Denied,
    DeviceCode,
    DeviceFlowError,
    Expired,
    Granted,
    Pending,
    SlowDown,
    Unexpected,
    decode_body,
    parse_device_code,
    parse_poll,
)
from copilot_proxy.github.endpoints import GitHubOverrides, endpoints_for

REF = ProxyRef("ai", "copilot")
CODE = DeviceCode("dev-code", "ABCD-1234", "https://github.com/login/device", 900, 5)


# -- configuration ------------------------------------------------------------------


def test_endpoints_follow_the_proxys_github_host() -> None:
    ep = endpoints_for(GitHub.named("acme.ghe.com"))
    assert ep.device_code_url == "https://acme.ghe.com/login/device/code"
    assert ep.access_token_url == "https://acme.ghe.com/login/oauth/access_token"
    assert ep.copilot_token_url == "https://api.acme.ghe.com/copilot_internal/v2/token"
    assert ep.user_url == "https://api.acme.ghe.com/user"
    assert ep.client_id == "Iv1.b507a08c87ecfe98"
    custom = GitHub.named("acme.ghe.com", api_url="https://gh.example/api/v3/")
    assert endpoints_for(custom).copilot_user_url == (
        "https://gh.example/api/v3/copilot_internal/user"
    )


def test_environment_overrides_win_over_the_proxys_host() -> None:
    overrides = GitHubOverrides.from_env(
        {
            "GITHUB_DEVICE_CODE_URL": "http://127.0.0.1:9/login/device/code",
            "GITHUB_COPILOT_USER_URL": "http://127.0.0.1:9/copilot_internal/user",
            "GITHUB_OAUTH_CLIENT_ID": "Iv1.other",
        }
    )
    ep = endpoints_for(GitHub.named("acme.ghe.com"), overrides=overrides)
    assert ep.device_code_url == "http://127.0.0.1:9/login/device/code"
    assert ep.access_token_url == "https://acme.ghe.com/login/oauth/access_token"
    assert ep.user_url == "http://127.0.0.1:9/user"
    assert ep.client_id == "Iv1.other"
    assert ep.login_host == "127.0.0.1:9"


# -- GitHub's device flow answers -----------------------------------------------------


def test_device_code_answer_is_read_and_its_device_code_stays_out_of_repr() -> None:
    code = parse_device_code(
        200,
        {
            "device_code": "secret-device-code",
            "user_code": "WDJB-MJHT",
            "verification_uri": "https://github.com/login/device",
            "expires_in": 899,
            "interval": 5,
        },
    )
    assert (code.user_code, code.expires_in, code.interval) == ("WDJB-MJHT", 899, 5)
    assert "secret-device-code" not in repr(code)


@pytest.mark.parametrize("uri", ["javascript:alert(1)", "data:text/html,x", "", "//evil"])
def test_only_web_addresses_are_linked_from_the_page(uri: str) -> None:
    body = {"device_code": "d", "user_code": "U", "verification_uri": uri}
    assert parse_device_code(200, body).verification_uri == "https://github.com/login/device"


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (200, {"error": "incorrect_client_credentials"}, "bad_client"),
        (404, {}, "device_flow_disabled"),
        (500, {}, "unexpected"),
        (200, {"user_code": "X"}, "unexpected"),
    ],
)
def test_device_code_errors_are_named(status: int, body: dict[str, str], code: str) -> None:
    with pytest.raises(DeviceFlowError) as raised:
        parse_device_code(status, body)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"error": "authorization_pending"}, Pending()),
        ({"error": "slow_down", "interval": 10}, SlowDown(10)),
        ({"error": "slow_down"}, SlowDown(10)),  # RFC 8628: +5 s when GitHub names none
        ({"error": "expired_token"}, Expired()),
        ({"error": "access_denied"}, Denied()),
        ({"error": "incorrect_client_credentials"}, BadClient()),
        ({"access_token": "gho_abc", "token_type": "bearer"}, Granted("gho_abc")),
        ({"error": "unsupported_grant_type"}, Unexpected("unsupported_grant_type")),
    ],
)
def test_poll_answers(body: dict[str, object], expected: object) -> None:
    assert parse_poll(200, body, interval=5) == expected


def test_form_encoded_answers_are_read_like_json() -> None:
    assert decode_body(b"error=slow_down&interval=15") == {"error": "slow_down", "interval": "15"}
    assert parse_poll(200, decode_body(b"access_token=gho_x&token_type=bearer"), 5) == Granted(
        "gho_x"
    )
    assert decode_body(b"") == {}


def test_granted_token_is_not_in_repr() -> None:
    assert "gho_secret" not in repr(Granted("gho_secret"))


# -- Copilot access and usage ---------------------------------------------------------


def test_exchange_ok_keeps_no_key() -> None:
    access = classify_exchange(
        200,
        {"token": "tid=1;exp=2", "expires_at": 1700, "endpoints": {"api": "https://x"}, "sku": "s"},
    )
    assert (access.api, access.expires_at, access.sku) == ("https://x", 1700, "s")
    assert "tid=1" not in repr(access)


@pytest.mark.parametrize(
    ("status", "message", "reason"),
    [
        (401, "Bad credentials", "bad_token"),
        (403, "You do not have access to GitHub Copilot.", "no_copilot"),
        (403, "Your Copilot access has been suspended.", "suspended"),
        (404, "Not Found", "no_copilot"),
    ],
)
def test_exchange_refusals_are_told_apart(status: int, message: str, reason: str) -> None:
    with pytest.raises(CopilotDenied) as raised:
        classify_exchange(status, {"message": message})
    assert raised.value.reason == reason


def test_exchange_server_errors_may_be_retried() -> None:
    with pytest.raises(CopilotUnavailable):
        classify_exchange(502, {})


def test_usage_is_read_defensively() -> None:
    usage = parse_usage(
        {
            "login": "octocat",
            "copilot_plan": "business",
            "quota_reset_date": "2026-12-01",
            "quota_snapshots": {
                "premium_interactions": {
                    "entitlement": 300,
                    "remaining": 240,
                    "percent_remaining": 80.0,
                    "unlimited": False,
                },
                "chat": {"unlimited": True, "entitlement": 0, "remaining": 0},
                "renamed_later": "not a dict",
            },
        }
    )
    assert (usage.login, usage.plan, usage.reset_date) == ("octocat", "business", "2026-12-01")
    premium = usage.quota("premium_interactions")
    assert premium is not None and (premium.remaining, premium.entitlement) == (240, 300)
    chat = usage.quota("chat")
    assert chat is not None and chat.unlimited
    assert usage.quota("renamed_later") is None
    assert premium.unit == "premium_requests" and chat.unit == ""
    empty = parse_usage({"quota_snapshots": {"x": {"remaining": "lots"}}})
    assert empty.quotas[0].remaining is None and empty.plan == ""


def test_a_monthly_plan_counts_ai_credits() -> None:
    """Since 2026-06-01 monthly plans are billed in AI credits: `token_based_billing`, at
    the top or in the snapshot, says the premium snapshot counts credits."""
    snap = {"entitlement": 1500, "remaining": 1234.5, "percent_remaining": 82.3}
    usage = parse_usage(
        {"token_based_billing": True, "quota_snapshots": {"premium_interactions": snap}}
    )
    credits = usage.quota("premium_interactions")
    assert credits is not None and credits.unit == "ai_credits"
    assert (credits.remaining, credits.entitlement) == (1234.5, 1500)
    inner = parse_usage(
        {"quota_snapshots": {"premium_interactions": {**snap, "token_based_billing": True}}}
    )
    assert inner.quotas[0].unit == "ai_credits"
    named = parse_usage({"quota_snapshots": {"ai_credits": snap}})
    assert named.quotas[0].unit == "ai_credits"
    # An organisation's pooled seat: zeros that mean "not reported here", not "0 of 0 left".
    pooled = parse_usage(
        {
            "token_based_billing": True,
            "quota_reset_date_utc": "2027-01-01T00:00:00Z",
            "quota_snapshots": {"premium_interactions": {"entitlement": 0, "remaining": 0}},
        }
    )
    assert (pooled.quotas[0].remaining, pooled.quotas[0].entitlement) == (None, None)
    assert pooled.reset_date == "2027-01-01T00:00:00Z"


# -- the login state machine -----------------------------------------------------------


def test_login_waits_then_verifies_when_granted() -> None:
    login = flow.start("id1", REF, CODE, now=100.0, min_interval=1.0)
    assert (login.phase, login.interval, login.next_poll_at, login.expires_at) == (
        Phase.WAITING,
        5.0,
        105.0,
        1000.0,
    )
    pending = flow.after_poll(login, Pending(), 105.0, 1.0)
    assert pending.phase is Phase.WAITING and pending.next_poll_at == 110.0
    granted = flow.after_poll(pending, Granted("gho_x"), 110.0, 1.0)
    assert granted.phase is Phase.VERIFYING
    assert "gho_x" not in repr(granted) and "gho_x" not in str(flow.view(granted, 110.0))
    done = flow.connected(granted, "octocat", 111.0)
    assert done.finished and done.message.startswith("Connected as @octocat")


def test_slow_down_stretches_the_interval_for_good() -> None:
    login = flow.start("id1", REF, CODE, now=0.0, min_interval=1.0)
    slowed = flow.after_poll(login, SlowDown(10), 5.0, 1.0)
    assert (slowed.interval, slowed.next_poll_at) == (10.0, 15.0)
    assert "slow down" in slowed.message
    # A later pending keeps the longer interval.
    assert flow.after_poll(slowed, Pending(), 15.0, 1.0).next_poll_at == 25.0


def test_min_interval_floors_what_github_announces() -> None:
    zero = DeviceCode("d", "U", "https://github.com/login/device", 900, 0)
    assert flow.start("id", REF, zero, 0.0, min_interval=1.0).interval == 1.0


@pytest.mark.parametrize(
    ("result", "error"),
    [(Expired(), "expired"), (Denied(), "denied"), (BadClient(), "bad_client")],
)
def test_terminal_answers_fail_with_a_reason_and_a_message(result: object, error: str) -> None:
    login = flow.start("id1", REF, CODE, 0.0, 1.0)
    failed = flow.after_poll(login, result, 5.0, 1.0)  # type: ignore[arg-type]
    assert (failed.phase, failed.error) == (Phase.FAILED, error)
    assert failed.message and failed.finished_at == 5.0
    assert flow.view(failed, 6.0)["userCode"] is None  # no stale code on the page


def test_code_expiry_is_noticed_without_asking_github() -> None:
    login = flow.start("id1", REF, CODE, 0.0, 1.0)
    assert flow.timed_out(login, 899.0) is None
    expired = flow.timed_out(login, 900.0)
    assert expired is not None and expired.error == "expired"


def test_unreachable_github_is_retried_then_given_up() -> None:
    login = flow.start("id1", REF, CODE, 0.0, 1.0)
    once = flow.after_unreachable(login, "github.com", 5.0, max_failures=3)
    assert once.phase is Phase.WAITING and once.failures == 1 and once.next_poll_at == 15.0
    assert "github.com did not answer" in once.message
    recovered = flow.after_poll(once, Pending(), 15.0, 1.0)
    assert recovered.failures == 0
    twice = flow.after_unreachable(once, "github.com", 15.0, 3)
    thrice = flow.after_unreachable(twice, "github.com", 30.0, 3)
    assert (thrice.phase, thrice.error) == (Phase.FAILED, "unreachable")


def test_a_cancelled_login_ignores_later_answers() -> None:
    login = flow.cancelled(flow.start("id1", REF, CODE, 0.0, 1.0), 1.0)
    assert login.phase is Phase.CANCELLED
    assert flow.after_poll(login, Granted("gho_x"), 2.0, 1.0) is login
    assert flow.connected(login, "octocat", 3.0).phase is Phase.CANCELLED
    assert flow.fail(login, "denied", "no", 3.0).phase is Phase.CANCELLED


# -- security ---------------------------------------------------------------------------


def test_credentials_unlock_what_they_belong_to() -> None:
    keys = {REF: "sk-one", ProxyRef("ai", "other"): "sk-two", ProxyRef("x", "none"): ""}
    assert credential_scope("sk-one", "", keys) == Scope(proxies=frozenset({REF}))
    assert credential_scope("pw", "pw", keys) == Scope(all=True)
    assert not credential_scope("", "", keys)  # an empty master key never matches
    assert not credential_scope("sk-on", "pw", keys)
    assert Scope(all=True).allows(ProxyRef("any", "thing"))
    assert not Scope(proxies=frozenset({REF})).allows(ProxyRef("ai", "other"))


@pytest.mark.parametrize(
    ("method", "headers", "refused"),
    [
        ("GET", {"sec-fetch-site": "cross-site"}, False),  # reads are harmless
        ("POST", {"sec-fetch-site": "same-origin", "origin": "http://localhost:4001"}, False),
        ("POST", {}, False),  # curl and scripts: left to the credential checks
        ("POST", {"sec-fetch-site": "cross-site"}, True),
        ("POST", {"sec-fetch-site": "same-site"}, True),
        ("DELETE", {"origin": "http://evil.example"}, True),
        ("POST", {"origin": "null"}, True),
        ("POST", {"origin": "http://localhost:4002"}, True),
    ],
)
def test_cross_site_requests_are_refused(
    method: str, headers: dict[str, str], refused: bool
) -> None:
    assert bool(cross_site_problem(method, headers, "localhost:4001")) is refused


def test_sessions_expire_and_can_be_dropped() -> None:
    sessions = Sessions(ttl=60)
    s = sessions.create(Scope(all=True), now=0.0)
    assert sessions.get(s.id, 59.0) is s
    assert csrf_ok(s, s.csrf) and not csrf_ok(s, "") and not csrf_ok(s, s.csrf[:-1])
    assert sessions.get(s.id, 60.0) is None
    t = sessions.create(Scope(all=True), now=100.0)
    sessions.drop(t.id)
    assert sessions.get(t.id, 101.0) is None
    assert s.id not in repr(s) and s.csrf not in repr(s)


def test_rate_limiter_slides() -> None:
    limiter = RateLimiter(limit=2, window=10)
    for t in (0.0, 1.0):
        assert limiter.retry_after("a", t) == 0
        limiter.record("a", t)
    assert limiter.retry_after("a", 2.0) == pytest.approx(8.0)
    assert limiter.retry_after("b", 2.0) == 0  # per key
    assert limiter.retry_after("a", 10.0) == 0  # the first event left the window


def test_rate_limiter_forgets_quiet_keys_when_it_holds_many() -> None:
    limiter = RateLimiter(limit=1, window=10)
    for i in range(10_001):
        limiter.record(f"10.0.{i // 256}.{i % 256}", 0.0)
    limiter.record("fresh", 20.0)  # every earlier key left its window
    assert limiter.retry_after("fresh", 20.0) > 0
    assert len(limiter._events) == 1


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("Example.COM:4001", "example.com"),
        ("example.com.", "example.com"),
        ("[::1]:4001", "::1"),
        ("[::1", ""),
        ("example.com:http", ""),
        ("", ""),
    ],
)
def test_host_name_reads_a_host_header(header: str, name: str) -> None:
    assert host_name(header) == name


def test_hosts_are_allowed_by_name_by_suffix_or_as_ip_addresses() -> None:
    allowed = ["localhost", ".corp.example"]
    for ok in ("localhost:4001", "127.0.0.1", "[fe80::1]:80", "corp.example", "a.b.corp.example"):
        assert host_allowed(ok, allowed), ok
    for bad in ("attacker.example", "localhost.attacker.example", "xcorp.example", ""):
        assert not host_allowed(bad, allowed), bad
    assert host_allowed("anything.example", ["*"])


def test_token_age_needs_a_token_and_a_readable_time() -> None:
    stored = TokenInfo(present=True, updated_at="2026-11-25T12:00:00Z")
    noon = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
    assert stored.age(noon + 90) == 90.0
    assert stored.age(noon - 5) == 0.0  # a clock behind the writer's is no negative age
    assert TokenInfo(present=False, updated_at="2026-11-25T12:00:00Z").age(noon) is None
    assert TokenInfo(present=True, updated_at="yesterday").age(noon) is None


def test_redact() -> None:
    assert redact("token gho_x in a message", ["gho_x", ""]) == "token [redacted] in a message"


# -- Kubernetes objects ------------------------------------------------------------------


def test_proxy_fields_with_defaults_and_overrides() -> None:
    plain = read_proxy({"metadata": {"name": "copilot", "namespace": "ai"}, "spec": {}})
    assert (plain.token_secret, plain.github_host, plain.ready) == (
        "copilot-github-token",
        "github.com",
        "",
    )
    custom = read_proxy(
        {
            "metadata": {"name": "acme", "namespace": "ai"},
            "spec": {"tokenSecret": {"name": "t"}, "github": {"host": "acme.ghe.com"}},
            "status": {"conditions": [{"type": "Ready", "status": "False", "message": "m"}]},
        }
    )
    assert (custom.token_secret, custom.github_host, custom.ready, custom.status_message) == (
        "t",
        "acme.ghe.com",
        "False",
        "m",
    )
