"""An unauthenticated 100 MB body must not cost the login service its memory.

The chart gives the login service 256Mi; a body it buffered whole took it to
364 MiB (an OOM kill loses every login and session in flight). Bodies over a
small limit answer 413 before they are read, whether announced by
Content-Length or streamed chunked without one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from testkit.fake_github import FakeGitHub
from tests.security.login_service import (
    MASTER_KEY,
    LoginService,
    login_service,
    post_huge_body,
)

pytestmark = pytest.mark.slow

HUNDRED_MB = 100 * 1024 * 1024
# What the process may grow by while refusing one: far below the 100 MB sent.
SLACK_MIB = 24.0


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoginService]:
    with FakeGitHub() as gh, login_service(gh, tmp_path_factory.mktemp("body")) as running:
        # One ordinary sign-in first: the memory it needs is not the attack's.
        answer = httpx.post(running.url + "/api/session", json={"credential": MASTER_KEY})
        assert answer.status_code == 200, answer.text
        yield running


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_100mb_body_is_refused_before_it_is_read(service: LoginService, chunked: bool) -> None:
    before = service.peak_rss_mib()
    answer = post_huge_body(service.port, "/api/session", HUNDRED_MB, chunked=chunked)
    assert answer.status == 413
    assert json.loads(answer.body)["error"] == "body_too_large"
    assert answer.sent < HUNDRED_MB  # the service stopped taking it
    assert service.peak_rss_mib() - before < SLACK_MIB
    # ...and it still serves everyone else.
    ok = httpx.post(service.url + "/api/session", json={"credential": MASTER_KEY})
    assert ok.status_code == 200


def test_a_large_body_on_a_route_that_reads_none_is_refused_too(service: LoginService) -> None:
    answer = post_huge_body(service.port, "/healthz", HUNDRED_MB, chunked=False)
    assert answer.status == 413


def test_a_body_of_ordinary_size_still_works(service: LoginService) -> None:
    padded = {"credential": MASTER_KEY, "note": "x" * 8000}  # unknown fields are ignored
    assert httpx.post(service.url + "/api/session", json=padded).status_code == 200
