"""The chart's pods: locked down, and started the way the operator's and the
login service's code expect (docs/contracts.md: commands, ports, environment)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from copilot_proxy.core.github import parse_hosts

from .conftest import NAMESPACE, RELEASE, ROOT, Helm, Obj, Rendered, containers, pod_spec

CLI = ROOT / "copilot_proxy" / "cli.py"
COPILOT_PROXY = ROOT / ".venv" / "bin" / "copilot-proxy"
OPERATOR_ENV = {
    "COPILOT_PROXY_IMAGE",
    "COPILOT_PROXY_MCP_IMAGE",
    "COPILOT_PROXY_LOGIN_HINT",
    "COPILOT_PROXY_GITHUB_HOSTS",
    "COPILOT_PROXY_NETWORK_POLICY",
}
AUTH_ENV = {"COPILOT_PROXY_GITHUB_HOSTS", "GITHUB_OAUTH_CLIENT_ID"}
ADMIN_PASSWORD_ENV = "COPILOT_AUTH_ADMIN_PASSWORD"
ALLOWED_HOSTS_ENV = "COPILOT_AUTH_ALLOWED_HOSTS"
# The components whose code calls the Kubernetes API (and so mount a token).
API_USERS = {"operator", "auth"}


def env(container: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def component(obj: Obj) -> str:
    label: str = obj["metadata"]["labels"]["app.kubernetes.io/component"]
    return label


def only_container(rendered: Rendered, deployment: str) -> Obj:
    (container,) = containers(rendered.one("Deployment", deployment, NAMESPACE))
    return container


def named_port(container: Obj, name: str) -> int:
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == name]
    return int(port)


def flags(args: list[str]) -> set[str]:
    return {a for a in args if a.startswith("--")}


# --- security -----------------------------------------------------------------


def test_every_container_is_locked_down(any_render: Rendered) -> None:
    assert any_render.workloads()
    for obj in any_render.workloads():
        pod = pod_spec(obj)
        pod_ctx = pod.get("securityContext", {})
        for container in containers(obj):
            where = f"{obj['kind']}/{obj['metadata']['name']}/{container['name']}"
            ctx = container["securityContext"]
            assert ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, where
            assert ctx.get("runAsUser", pod_ctx.get("runAsUser", 0)) != 0, where
            assert ctx["readOnlyRootFilesystem"] is True, where
            assert ctx["allowPrivilegeEscalation"] is False, where
            assert ctx.get("privileged", False) is False, where
            assert ctx["capabilities"] == {"drop": ["ALL"]}, where
            seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile"))
            assert seccomp == {"type": "RuntimeDefault"}, where
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (where, kind)


def test_tmp_is_a_writable_empty_dir(any_render: Rendered) -> None:
    for obj in any_render.workloads():
        volumes = {v["name"]: v for v in pod_spec(obj)["volumes"]}
        for container in containers(obj):
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts, container["name"]
            assert "emptyDir" in volumes[mounts["/tmp"]]


def test_only_api_users_mount_a_service_account_token(any_render: Rendered) -> None:
    for account in any_render.all("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False
    for obj in any_render.workloads():
        mounts_token = pod_spec(obj)["automountServiceAccountToken"]
        assert mounts_token is (component(obj) in API_USERS), obj["metadata"]["name"]


def test_pods_run_as_the_image_user(any_render: Rendered) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "USER 10001:10001" in dockerfile
    for obj in any_render.workloads():
        ctx = pod_spec(obj)["securityContext"]
        assert (ctx["runAsUser"], ctx["runAsGroup"]) == (10001, 10001)


# --- operator -----------------------------------------------------------------


def test_operator_runs_one_replica_that_never_overlaps(any_render: Rendered) -> None:
    (deployment,) = [d for d in any_render.all("Deployment") if component(d) == "operator"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_operator_probes_and_metrics_are_exposed(default_render: Rendered) -> None:
    container = only_container(default_render, "copilot-operator")
    probe = container["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert named_port(container, probe["port"]) == 8081
    ready = container["readinessProbe"]["httpGet"]  # tests/operator/test_readiness.py
    assert (ready["path"], named_port(container, ready["port"])) == ("/readyz", 8081)
    assert named_port(container, "metrics") == 8080
    args = container["args"]
    assert args[args.index("--health-port") + 1] == "8081"
    assert args[args.index("--metrics-port") + 1] == "8080"
    service = default_render.one("Service", "copilot-operator-metrics", NAMESPACE)
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (8080, "metrics")


def test_cluster_wide_operator_gets_no_namespace(default_render: Rendered) -> None:
    container = only_container(default_render, "copilot-operator")
    assert container["command"] == ["copilot-proxy"]
    assert container["args"][0] == "operator"
    assert "--namespace" not in container["args"]


def test_namespaced_operator_and_login_service_get_each_namespace(
    namespaced_render: Rendered,
) -> None:
    for name in ("copilot-operator", "copilot-auth"):
        args = only_container(namespaced_render, name)["args"]
        namespaces = [args[i + 1] for i, a in enumerate(args) if a == "--namespace"]
        assert namespaces == ["team-a", "team-b"], name


def test_operator_gets_the_chart_image_and_the_login_hint(default_render: Rendered) -> None:
    container = only_container(default_render, "copilot-operator")
    variables = env(container)
    assert set(variables) == OPERATOR_ENV
    assert variables["COPILOT_PROXY_IMAGE"] == container["image"]
    assert container["image"] == "ghcr.io/copilot-proxy/copilot-proxy:0.1.0"
    # The MCP servers' image: the release's other image, same version.
    assert variables["COPILOT_PROXY_MCP_IMAGE"] == "ghcr.io/copilot-proxy/copilot-proxy-mcp:0.1.0"
    hint = variables["COPILOT_PROXY_LOGIN_HINT"]
    assert f"kubectl -n {NAMESPACE} port-forward svc/{RELEASE}-auth 4001:4001" in hint
    assert "http://localhost:4001/github" in hint


@pytest.mark.parametrize(
    ("set_values", "image"),
    [
        (["image.tag=1.2.3"], "ghcr.io/copilot-proxy/copilot-proxy:1.2.3"),
        (
            ["image.repository=registry.example.com/cp", "image.digest=sha256:" + "a" * 64],
            "registry.example.com/cp@sha256:" + "a" * 64,
        ),
    ],
)
def test_proxy_pods_get_the_same_image_as_the_operator(
    helm: Helm, set_values: list[str], image: str
) -> None:
    rendered = helm.template(set_values=set_values)
    for deployment in rendered.all("Deployment"):
        assert containers(deployment)[0]["image"] == image
    assert env(only_container(rendered, "copilot-operator"))["COPILOT_PROXY_IMAGE"] == image


def test_login_hint_can_be_replaced(full_render: Rendered) -> None:
    hint = env(only_container(full_render, "cpx-operator"))["COPILOT_PROXY_LOGIN_HINT"]
    assert hint == "Ask the platform team for the login link."


def test_extra_env_is_added_to_the_contract_env(full_render: Rendered) -> None:
    variables = env(only_container(full_render, "cpx-operator"))
    assert variables["HTTPS_PROXY"] == "http://egress.example.com:3128"
    assert set(variables) >= OPERATOR_ENV


# --- login service --------------------------------------------------------------


def test_login_service_runs_with_the_kubernetes_store(default_render: Rendered) -> None:
    container = only_container(default_render, "copilot-auth")
    assert container["command"] == ["copilot-proxy"]
    assert container["args"] == [
        "auth-service",
        "--host",
        "0.0.0.0",  # noqa: S104 - the pod listens on its own interface
        "--port",
        "4001",
        "--store",
        "kubernetes",
    ]
    # The GitHub hosts (github.com by default): the only ones a token is sent to; and the
    # names the page answers to.
    assert env(container) == {
        "COPILOT_PROXY_GITHUB_HOSTS": '[{"name":"github.com"}]',
        ALLOWED_HOSTS_ENV: "copilot-auth,copilot-auth.copilot-system,"
        "copilot-auth.copilot-system.svc,copilot-auth.copilot-system.svc.cluster.local",
    }
    for probe in ("livenessProbe", "readinessProbe"):
        http = container[probe]["httpGet"]
        assert http["path"] == "/healthz"
        assert named_port(container, http["port"]) == 4001


def test_login_service_has_a_cluster_ip_service_on_4001(default_render: Rendered) -> None:
    service = default_render.one("Service", "copilot-auth", NAMESPACE)
    assert service["spec"]["type"] == "ClusterIP"
    (port,) = service["spec"]["ports"]
    assert (port["port"], port["targetPort"]) == (4001, "http")
    pods = default_render.one("Deployment", "copilot-auth", NAMESPACE)["spec"]["template"]
    assert service["spec"]["selector"].items() <= pods["metadata"]["labels"].items()
    operator = default_render.one("Deployment", "copilot-operator", NAMESPACE)
    operator_labels = operator["spec"]["template"]["metadata"]["labels"]
    assert not service["spec"]["selector"].items() <= operator_labels.items()


def test_login_service_answers_to_its_service_names_and_the_allowed_hosts(
    full_render: Rendered,
) -> None:
    names = env(only_container(full_render, "cpx-auth"))[ALLOWED_HOSTS_ENV].split(",")
    assert names == [
        "cpx-auth",
        "cpx-auth.copilot-system",
        "cpx-auth.copilot-system.svc",
        "cpx-auth.copilot-system.svc.cluster.local",
        "login.example.com",
        ".corp.example",
    ]
    # `helm test` reaches it by the Service's name.
    (check,) = containers(full_render.one("Pod", "cpx-test", NAMESPACE))
    hosts = {re.sub(r"^http://([^:/]+).*", r"\1", a) for a in check["args"] if "/healthz" in a}
    assert hosts and hosts <= set(names)


def test_allowed_hosts_must_be_host_names(helm: Helm) -> None:
    error = helm.template_error("authService.allowedHosts={https://login.example.com/}")
    assert "allowedHosts" in error


def test_github_hosts_reach_the_operator_and_the_login_service_alike(
    full_render: Rendered,
) -> None:
    container = only_container(full_render, "cpx-auth")
    variables = env(container)
    hosts = '[{"name":"github.com"},{"name":"acme.ghe.com"}]'
    assert {k: v for k, v in variables.items() if k in AUTH_ENV} == {
        "COPILOT_PROXY_GITHUB_HOSTS": hosts,
        "GITHUB_OAUTH_CLIENT_ID": "Iv1.0123456789abcdef",
    }
    assert env(only_container(full_render, "cpx-operator"))["COPILOT_PROXY_GITHUB_HOSTS"] == hosts
    assert [h.host for h in parse_hosts(hosts)] == ["github.com", "acme.ghe.com"]
    assert container["args"][container["args"].index("--port") + 1] == "8443"
    assert named_port(container, "http") == 8443


def test_admin_password_comes_from_the_secret_only(full_render: Rendered) -> None:
    container = only_container(full_render, "cpx-auth")
    (variable,) = [e for e in container["env"] if e["name"] == ADMIN_PASSWORD_ENV]
    assert variable == {
        "name": ADMIN_PASSWORD_ENV,
        "valueFrom": {"secretKeyRef": {"name": "copilot-login", "key": "password"}},
    }


def test_a_host_with_its_own_api_url(helm: Helm) -> None:
    rendered = helm.template(
        set_values=["github.hosts[0].name=acme.ghe.com", "github.hosts[0].apiUrl=https://gw/api"]
    )
    variables = env(only_container(rendered, "copilot-auth"))
    [acme] = parse_hosts(variables["COPILOT_PROXY_GITHUB_HOSTS"])
    assert acme.copilot_token_url == "https://gw/api/copilot_internal/v2/token"


def test_the_old_single_host_values_say_where_they_moved(helm: Helm) -> None:
    error = helm.template_error("authService.github.host=acme.ghe.com")
    assert "moved to github.hosts" in error


def test_login_service_can_be_left_out(helm: Helm) -> None:
    rendered = helm.template(set_values=["authService.enabled=false"])
    assert [component(o) for o in rendered.all("Deployment")] == ["operator"]
    assert not [o for o in rendered.objects if o["metadata"]["name"].endswith("-auth")]
    hint = env(only_container(rendered, "copilot-operator"))["COPILOT_PROXY_LOGIN_HINT"]
    assert "access-token" in hint and "port-forward" not in hint


# --- the code agrees ---------------------------------------------------------------


def _help(*command: str) -> str:
    # A missing CLI is a failure, not a skip: the chart would start nothing.
    assert CLI.exists() and COPILOT_PROXY.exists(), "the copilot-proxy command is not installed"
    result = subprocess.run(
        [str(COPILOT_PROXY), *command, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("deployment", "subcommand"),
    [("cpx-operator", "operator"), ("cpx-auth", "auth-service")],
)
def test_the_cli_accepts_every_flag_the_chart_passes(
    full_render: Rendered, deployment: str, subcommand: str
) -> None:
    args = only_container(full_render, deployment)["args"]
    assert args[0] == subcommand
    help_text = _help(subcommand)
    for flag in flags(args):
        assert re.search(rf"{re.escape(flag)}\b", help_text), f"{subcommand} lacks {flag}"


def _sources(folder: Path) -> str:
    files = sorted(folder.rglob("*.py"))
    return "\n".join(f.read_text() for f in files)


# Where a component reads its configuration: its folder, and the core modules that own
# a variable shared by several components (one owner per contract).
SHARED = [
    "copilot_proxy/core/github.py",
    "copilot_proxy/core/network_policy.py",
    "copilot_proxy/github/endpoints.py",
]


@pytest.mark.parametrize(
    ("folders", "names"),
    [
        (["copilot_proxy/operator"], OPERATOR_ENV),
        # The login service reaches GitHub through copilot_proxy/github.
        (["copilot_proxy/auth", "copilot_proxy/github"], {*AUTH_ENV, ADMIN_PASSWORD_ENV}),
        (["copilot_proxy/auth"], {ALLOWED_HOSTS_ENV}),
    ],
)
def test_the_code_reads_the_environment_the_chart_sets(folders: list[str], names: set[str]) -> None:
    source = "\n".join(_sources(ROOT / folder) for folder in folders)
    source += "".join((ROOT / f).read_text() for f in SHARED)
    assert source, f"{folders} have no code"
    missing = sorted(n for n in names if n not in source)
    assert missing == [], f"{folders} never read {missing}"
