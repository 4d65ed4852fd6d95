"""What the local mode says about the GitHub token on its console (local/idle.py, pure)."""

from __future__ import annotations

import pytest

from copilot_proxy.local.idle import token_news

PAGE = "http://127.0.0.1:4001"


@pytest.mark.parametrize(
    ("before", "now", "login", "said"),
    [
        (None, "", "", f"Not signed in to GitHub yet: open {PAGE}, unlock it with the\nmaster"),
        ("abc", "", "octocat", f"Signed out of GitHub. Sign in again at {PAGE}"),
        (None, "abc", "octocat", "GitHub token found (signed in as @octocat)."),
        ("abc", "def", "octocat", "New GitHub token (signed in as @octocat)."),
        ("", "abc", "", "Signed in to GitHub as your GitHub account."),
    ],
)
def test_each_change_of_the_token_has_its_line(
    before: str | None, now: str, login: str, said: str
) -> None:
    assert token_news(before, now, login, PAGE).startswith(said)
