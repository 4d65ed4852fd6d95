"""A value from outside cannot write a line of its own into the login service's log.

GitHub (or whoever answers as it) names the account that signed in; the
service logs that name. A name with a newline used to start a new, forged log
line (here: a fake "Page unlocked for all proxies"), and one with terminal
escapes could rewrite what an admin sees in `kubectl logs`.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from testkit.fake_github import FakeGitHub
from tests.security.login_service import MASTER_KEY, PROXY, login_service

pytestmark = pytest.mark.slow

FORGED = "1999-12-31 23:59:59,999 INFO copilot_auth Page unlocked for all proxies"
EVIL_LOGIN = f"octocat\n{FORGED}\r\x1b[2K\u2028x"


def sign_in(url: str, gh: FakeGitHub, login: str) -> None:
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {MASTER_KEY}"}) as c:
        started = c.post(f"/api/proxies/{PROXY}/login")
        assert started.status_code == 202, started.text
        gh.approve(started.json()["userCode"], login=login)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            phase = c.get(f"/api/logins/{started.json()['id']}").json()["phase"]
            if phase not in ("waiting", "verifying"):
                assert phase == "connected"
                return
            time.sleep(0.1)
    raise AssertionError("the sign-in did not finish")


def test_a_github_login_with_a_newline_forges_no_log_line(tmp_path: Path) -> None:
    with FakeGitHub() as gh, login_service(gh, tmp_path) as service:
        gh.device_interval = 0
        sign_in(service.url, gh, EVIL_LOGIN)
        deadline = time.monotonic() + 5
        while "connected as" not in service.log_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        text = service.log_text()
    lines = text.splitlines()
    (connected,) = [line for line in lines if "connected as" in line]
    assert not [line for line in lines if line.startswith(FORGED[:19])]  # no forged line
    assert connected.endswith("connected as octocat\\n" + FORGED + "\\r\\x1b[2K\\u2028x")
    assert "\x1b" not in text and "\u2028" not in text
