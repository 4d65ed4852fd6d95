"""A real headless Chromium signs in through the page, as a user would.

Debian's chromium driven by playwright (never `playwright install`: no
internet). The browser unlocks the page with the master key, starts the
sign-in, copies the code into the fake GitHub's device page in a new tab,
approves, and comes back to "Connected as @octocat". Screenshots go to
test-output/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, async_playwright, expect

from testkit.kube import KubeCluster
from tests.auth.conftest import MASTER_KEY, NS, AuthServer, stored_token

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing and we are root."""
    if not Path(CHROMIUM).exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            pytest.skip(f"{CHROMIUM} is missing; install it: apt-get install -y chromium")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env, timeout=900)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], check=True, env=env, timeout=1800
        )
    return CHROMIUM


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=chromium, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            await b.close()


async def test_sign_in_in_a_real_browser(
    auth_server: AuthServer, kube_api: KubeCluster, browser: Browser
) -> None:
    OUTPUT.mkdir(exist_ok=True)
    context = await browser.new_context(viewport={"width": 1100, "height": 820})
    page = await context.new_page()
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":  # CSP violations and script errors land here
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    await page.goto(f"{auth_server.url}/github")
    card = page.locator(f'article[data-proxy="{NS}/copilot"]')
    await expect(card.locator(".badge")).to_have_text("No token")
    sign_in = card.get_by_role("button", name="Sign in with GitHub")
    await expect(sign_in).to_be_disabled()  # locked until the admin credential is given

    await page.get_by_label("Master key").fill("sk-wrong")
    await page.get_by_role("button", name="Unlock").click()
    await expect(page.locator("#unlock-error")).to_contain_text("unlocks nothing")
    assert [p for p in problems if "401" not in p] == []  # the browser logs the refused unlock
    problems.clear()
    await page.get_by_label("Master key").fill(MASTER_KEY)
    await page.get_by_role("button", name="Unlock").click()
    await expect(page.locator("#unlocked")).to_contain_text(f"Unlocked for {NS}/copilot")

    await sign_in.click()
    code = card.locator("output.code")
    await expect(code).to_be_visible()
    assert await code.inner_text() == auth_server.gh.last_device().user_code
    await expect(card.locator(".progress")).to_contain_text("Enter the code on GitHub")
    await page.screenshot(path=str(OUTPUT / "auth-login-code.png"), full_page=True)

    # The user opens GitHub in a new tab, pastes the code and approves.
    async with page.expect_popup() as popup_info:
        await card.get_by_role("link", name="Open GitHub").click()
    github = await popup_info.value
    assert github.url.startswith(f"{auth_server.gh.url}/login/device")
    await github.fill("input[name=user_code]", await code.inner_text())
    await github.get_by_role("button", name="Authorize").click()
    await expect(github.locator("body")).to_contain_text("you're all set")
    await github.close()

    await expect(card.locator(".message.ok")).to_contain_text("Connected as @octocat")
    await expect(card.locator(".badge")).to_have_text("Connected")
    await expect(card).to_contain_text("Premium requests: 240 of 300 left")
    await expect(card.get_by_role("button", name="Replace token")).to_be_enabled()
    await page.screenshot(path=str(OUTPUT / "auth-login-connected.png"), full_page=True)

    # A monthly plan since June 2026: GitHub counts that allowance in AI credits.
    gh = auth_server.gh
    gh.token_based_billing = True
    gh.quota["premium_interactions"].update(entitlement=1500, remaining=1234.6)
    await page.reload()
    await expect(card).to_contain_text("AI credits: 1235 of 1500 left")
    await expect(card).not_to_contain_text("Premium requests")

    token = stored_token(kube_api)
    assert token.startswith("gho_")
    assert token not in await page.content()
    assert problems == []
    await context.close()
