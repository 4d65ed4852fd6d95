"""What the user reads after `helm install` works as written, and `helm test`
checks the installation answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from copilot_proxy.core import names

from .conftest import NAMESPACE, RELEASE, ROOT, Helm, Obj, Rendered

PROXY_NAMESPACE = "default"  # the README's and docs/kubernetes.md's, without example.enabled
PORT_FORWARD = re.compile(r"kubectl -n (\S+) port-forward svc/(\S+) (\d+):(\d+)")


@pytest.fixture(scope="module")
def notes(helm: Helm, tmp_path_factory: pytest.TempPathFactory) -> str:
    return helm.notes(tmp_path_factory.mktemp("notes"))


def port_forwards(notes: str) -> list[tuple[str, str, int, int]]:
    return [(ns, svc, int(a), int(b)) for ns, svc, a, b in PORT_FORWARD.findall(notes)]


def test_notes_tell_how_to_reach_the_login_page(notes: str, default_render: Rendered) -> None:
    line = f"kubectl -n {NAMESPACE} port-forward svc/{RELEASE}-auth 4001:4001"
    assert line in notes
    assert "http://localhost:4001/github" in notes
    # The Service the command names exists, in that namespace, on that port.
    service = default_render.one("Service", f"{RELEASE}-auth", NAMESPACE)
    assert [p["port"] for p in service["spec"]["ports"]] == [4001]


def test_notes_tell_how_to_read_the_master_key_before_the_login_page(notes: str) -> None:
    secret = names.master_key_secret("copilot")
    read_key = (
        f"kubectl -n {PROXY_NAMESPACE} get secret {secret} "
        f"-o jsonpath='{{.data.{names.MASTER_KEY_KEY}}}' | base64 -d"
    )
    assert read_key in notes
    # The login page asks for the key: the user has it before opening the page.
    assert notes.index(read_key) < notes.index("http://localhost:4001/github")


def test_notes_tell_how_to_call_the_proxy(notes: str) -> None:
    proxy_forward = (PROXY_NAMESPACE, names.service("copilot"), names.PORT, names.PORT)
    assert proxy_forward in port_forwards(notes)
    assert "curl http://localhost:4000/v1/chat/completions" in notes
    assert 'Authorization: Bearer $LITELLM_KEY"' in notes
    claude = re.search(r"ANTHROPIC_BASE_URL=(\S+) ANTHROPIC_AUTH_TOKEN=(\S+) claude", notes)
    assert claude, notes
    # Claude Code fails with "/v1" at the end of the base URL.
    assert claude.groups() == ("http://localhost:4000", "$LITELLM_KEY")
    # Where the README and docs/kubernetes.md put the proxy.
    assert f"kubectl -n {PROXY_NAMESPACE} apply -f examples/copilotproxy.yaml" in notes
    assert f"helm test {RELEASE} -n {NAMESPACE}" in notes


def test_notes_follow_the_namespaces_and_the_example(helm: Helm, tmp_path: Path) -> None:
    text = helm.notes(tmp_path, values=["full"], release="prod", namespace="platform")
    forwards = port_forwards(text)
    assert ("platform", "cpx-auth", 8443, 8443) in forwards
    assert ("ai", "acme", 4000, 4000) in forwards
    assert "http://localhost:8443/github" in text
    assert "get secret acme-master-key" in text


def test_notes_without_login_service_say_where_the_token_goes(helm: Helm, tmp_path: Path) -> None:
    text = helm.notes(tmp_path, set_values=["authService.enabled=false"])
    assert "port-forward svc/copilot-auth" not in text
    assert "create secret generic copilot-github-token --from-literal=access-token=" in text


# --- helm test -------------------------------------------------------------------


def hook_pod(rendered: Rendered) -> Obj:
    (pod,) = rendered.all("Pod")
    return pod


def checked_urls(pod: Obj) -> list[str]:
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-c"]
    _script, *urls = container["args"]
    return [str(url) for url in urls]


def test_helm_test_hook_checks_the_login_service_health(default_render: Rendered) -> None:
    pod = hook_pod(default_render)
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert pod["spec"]["restartPolicy"] == "Never"
    urls = [urlsplit(u) for u in checked_urls(pod)]
    auth = default_render.one("Service", f"{RELEASE}-auth", NAMESPACE)
    assert (urls[0].hostname, urls[0].port, urls[0].path) == (
        f"{RELEASE}-auth.{NAMESPACE}.svc",
        auth["spec"]["ports"][0]["port"],
        "/healthz",
    )
    metrics = default_render.one("Service", f"{RELEASE}-operator-metrics", NAMESPACE)
    assert (urls[1].hostname, urls[1].port, urls[1].path) == (
        f"{RELEASE}-operator-metrics.{NAMESPACE}.svc",
        metrics["spec"]["ports"][0]["port"],
        "/metrics",
    )


def test_helm_test_hook_can_be_turned_off(helm: Helm) -> None:
    assert helm.template(set_values=["tests.enabled=false"]).all("Pod") == []


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[200, 503])
def health_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    handler = type("Handler", (_Health,), {"status": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", request.param
    finally:
        server.shutdown()
        server.server_close()


def test_helm_test_script_passes_only_on_a_healthy_answer(
    default_render: Rendered, health_server: tuple[str, int]
) -> None:
    url, status = health_server
    (container,) = hook_pod(default_render)["spec"]["containers"]
    script = container["args"][0]
    result = subprocess.run(
        [sys.executable, "-c", script, url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ATTEMPTS": "1"},
    )
    assert (result.returncode == 0) is (status == 200), result.stdout + result.stderr


# --- the three quick starts agree -----------------------------------------------------

PROXY_COMMAND = re.compile(
    r"kubectl (?:-n (?P<a>\S+) )?(?:apply|wait|get|port-forward)(?: -n (?P<b>\S+))?"
    r" (?:-f examples/copilotproxy\.yaml|cpx/copilot|secret copilot-master-key|svc/copilot )"
)


def quick_start_facts(text: str) -> tuple[set[str], set[str], bool]:
    """(namespaces of the proxy's commands, of the login page's, key read before the page)."""
    proxy = {m["a"] or m["b"] for m in PROXY_COMMAND.finditer(text)}
    auth = {ns for ns, svc, _, _ in port_forwards(text) if svc == "copilot-auth"}
    key, page = text.find("get secret copilot-master-key"), text.find("localhost:4001/github")
    return proxy, auth, 0 <= key < page


def test_readme_docs_and_notes_use_the_same_namespaces_in_the_same_order(notes: str) -> None:
    readme = (ROOT / "README.md").read_text().split("## On Kubernetes", 1)[1]
    docs = (ROOT / "docs" / "kubernetes.md").read_text()
    expected = ({PROXY_NAMESPACE}, {NAMESPACE}, True)
    for name, text in (("README", readme), ("docs/kubernetes.md", docs), ("NOTES", notes)):
        assert quick_start_facts(text) == expected, name
