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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from copilot_proxy.auth.stores.directory import LocalProxy, write_private
from copilot_proxy.auth.stores.kubernetes import KubernetesStore
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.local.login_page import LocalStore, local_proxy
from testkit.fake_github import FakeGitHub
from testkit.kube import KubeCluster
from tests.auth.conftest import (
    APP_SPEC,
    APP_TOKEN,
    MASTER_KEY,
    NS,
    ORG,
    AuthServer,
    ServerFactory,
    add_app_proxy,
    app_token,
    credential_status,
    stored_token,
)
from tests.auth.test_api import eventually, quota_shown

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
    await expect(page.get_by_text("Unlocked for")).to_be_hidden()  # not "Unlocked for ."
    await assert_readable(page)
    # Where the key is: this proxy's own Secret, ready to paste.
    await page.get_by_text("Where is the master key?").click()
    await expect(page.locator("#key-where")).to_contain_text(
        f"kubectl -n {NS} get secret copilot-master-key -o jsonpath='{{.data.master-key}}'"
        " | base64 -d"
    )

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
    await assert_readable(page)
    await page.emulate_media(color_scheme="dark")
    await assert_readable(page)

    # A monthly plan since June 2026: GitHub counts that allowance in AI credits.
    gh = auth_server.gh
    gh.token_based_billing = True
    gh.quota["premium_interactions"].update(entitlement=1500, remaining=1234.6)
    # The page shows the quota the service last read in the background (never on a
    # request's behalf): wait for that refresh, then reload.
    api = auth_server.client()
    credits = {"unit": "ai_credits", "entitlement": 1500, "remaining": 1234.6}
    assert await eventually(lambda: quota_shown(api, credits)), "the refreshed quota"
    await page.reload()
    await expect(card).to_contain_text("AI credits: 1235 of 1500 left")
    await expect(card).not_to_contain_text("Premium requests")

    token = stored_token(kube_api)
    assert token.startswith("gho_")
    assert token not in await page.content()
    assert problems == []
    await context.close()


# Every visible text's colour against the background it is drawn on (the nearest
# ancestor with an opaque background), as WCAG 2 computes contrast. Disabled
# controls are exempt (WCAG 1.4.3).
READABILITY = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const c = rgb(getComputedStyle(node).backgroundColor);
      if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const node = text.parentElement;
    if (!text.textContent.trim() || !node.checkVisibility()) continue;
    if (node.closest("button:disabled, .skip")) continue;
    const style = getComputedStyle(node);
    const [a, b] = [lum(rgb(style.color)), lum(background(node))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    if (ratio >= (large ? 3 : 4.5)) continue;
    const what = text.textContent.trim().slice(0, 40);
    found.push(`${what}: ${ratio.toFixed(2)} (${style.color} on ${background(node)})`);
  }
  return found;
}"""


async def assert_readable(page: Page) -> None:
    """WCAG AA (4.5:1, 3:1 for large text) for every visible text of the page."""
    assert await page.evaluate(READABILITY) == []


async def test_the_local_page_says_where_the_key_file_is_and_why_the_proxy_is_down(
    make_server: ServerFactory, gh: FakeGitHub, tmp_path: Path, browser: Browser
) -> None:
    state = tmp_path / "state"
    store = LocalStore(LocalProxy(name="copilot", directory=state, namespace="local"))
    write_private(state / "master-key", MASTER_KEY + "\n")
    store.write_token(store.ref, gh.default_token, "octocat", datetime.now(UTC))
    crash = "The proxy is crashing: Exception: Config file not found: config.yaml Next try in 8 s"
    store.set_status(False, crash)
    async with make_server(store, admin_password="") as server:
        context = await browser.new_context(viewport={"width": 1100, "height": 820})
        page = await context.new_page()
        await page.goto(f"{server.url}/github")
        card = page.locator('article[data-proxy="local/copilot"]')
        await expect(card.locator(".badge")).to_have_text("Proxy not ready")
        await expect(card).to_contain_text(crash)
        await expect(page.get_by_text("Unlocked for")).to_be_hidden()
        await page.get_by_text("Where is the master key?").click()
        where = page.locator("#key-where")
        await expect(where).to_contain_text(f"cat {state / 'master-key'}")
        await expect(where).not_to_contain_text("kubectl")
        await page.screenshot(path=str(OUTPUT / "auth-local-crashing.png"), full_page=True)
        await assert_readable(page)
        await page.emulate_media(color_scheme="dark")
        await assert_readable(page)
        await context.close()


async def test_an_app_backed_proxy_has_nothing_to_sign_in(
    kube_api: KubeCluster, make_server: ServerFactory, browser: Browser
) -> None:
    add_app_proxy(kube_api)
    app_token(kube_api, "2026-11-25T12:00:00Z", "2026-11-25T13:00:00Z")
    credential_status(kube_api, account=ORG, renewAt="2026-11-25T12:30:00Z")
    async with make_server(KubernetesStore.from_environment([NS])) as server:
        # The page writes times in the reader's zone: this reader's is UTC.
        context = await browser.new_context(
            viewport={"width": 1100, "height": 820}, timezone_id="UTC"
        )
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        await page.goto(f"{server.url}/github")
        await page.get_by_label("Master key").fill(MASTER_KEY)
        await page.get_by_role("button", name="Unlock").click()
        card = page.locator(f'article[data-proxy="{NS}/copilot"]')
        await expect(card.locator(".badge")).to_have_text("Connected")
        await expect(card).to_contain_text(f"GitHub App · {ORG} · token renews at 12:30")
        await expect(card).to_contain_text(f"{ORG} (the organisation's AI credits)")
        await expect(card).to_contain_text("Nothing to sign in: the operator mints and renews")
        await expect(card.get_by_role("button")).to_have_count(0)  # no sign-in, no sign-out
        await page.screenshot(path=str(OUTPUT / "auth-app-proxy.png"), full_page=True)
        await assert_readable(page)

        why = "GitHub refused the App's key (401): generate a new private key and store it."
        credential_status(kube_api, status="False", reason="KeyInvalid", message=why)
        await page.get_by_role("button", name="Refresh").click()
        await expect(card.locator(".badge")).to_have_text("Credential problem")
        await expect(card).to_contain_text(f"GitHub App · {ORG} · KeyInvalid")
        await expect(card.get_by_role("alert")).to_have_text(why)
        await page.screenshot(path=str(OUTPUT / "auth-app-proxy-failing.png"), full_page=True)
        await assert_readable(page)
        await page.emulate_media(color_scheme="dark")
        await assert_readable(page)
        assert APP_TOKEN not in await page.content()
        assert problems == []
        await context.close()


async def test_the_local_page_of_an_app_backed_run(
    make_server: ServerFactory, tmp_path: Path, browser: Browser
) -> None:
    state = tmp_path / "state"
    store = LocalStore(local_proxy(parse_spec("copilot", "default", APP_SPEC), state))
    write_private(state / "master-key", MASTER_KEY + "\n")
    minted = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    store.write_app_token(store.ref, APP_TOKEN, ORG, minted, minted + timedelta(hours=1))
    async with make_server(store, admin_password="") as server:
        context = await browser.new_context(timezone_id="UTC")
        page = await context.new_page()
        await page.goto(f"{server.url}/github")
        card = page.locator('article[data-proxy="local/copilot"]')
        await expect(card).to_contain_text(f"GitHub App · {ORG} · token renews at 12:30")
        await expect(card).to_contain_text("Nothing to sign in: copilot-proxy run mints")
        await expect(card.get_by_role("button")).to_have_count(0)
        await context.close()
