"""pytest fixtures for the fake GitHub (testkit.fake_github); registered in tests/conftest.py.

- `fake_github`: a fresh server per test.
- `fake_github_module` / `fake_github_session`: one server per module / session;
  a test that shares one calls `gh.reset()` first (switches, records, counters and
  device codes are cleared; accounts and issued Copilot keys are kept so a running
  proxy keeps its key).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit.fake_github import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh


@pytest.fixture(scope="module")
def fake_github_module() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh


@pytest.fixture(scope="session")
def fake_github_session() -> Iterator[FakeGitHub]:
    with FakeGitHub() as gh:
        yield gh
