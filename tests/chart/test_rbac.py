"""Least-privilege RBAC: what each ServiceAccount may do, resolved through the
rendered bindings, is exactly the API use docs/contracts.md lists, without
wildcards; namespaced mode grants nothing cluster-wide."""

from __future__ import annotations

import re

import pytest

from .conftest import NAMESPACE, Helm, Rendered, pod_spec

Grant = tuple[str, str, str]  # (apiGroup, resource, verb)

# Each phrase of docs/contracts.md's "Kubernetes API use:" lines, and the grants
# it means. A changed contract fails test_contract_still_lists_this_api_use
# until the templates and this table follow it.
OPERATOR_API_USE: dict[str, list[tuple[str, list[str], list[str]]]] = {
    "copilotproxies (get, list, watch, patch)": [
        ("copilot-proxy.dev", ["copilotproxies"], ["get", "list", "watch", "patch"]),
    ],
    "copilotproxies/status (patch)": [
        ("copilot-proxy.dev", ["copilotproxies/status"], ["patch"]),
    ],
    "configmaps/services/secrets (get, list, watch, create, patch)": [
        ("", ["configmaps", "services", "secrets"], ["get", "list", "watch", "create", "patch"]),
    ],
    "apps deployments (get, list, watch, create, patch)": [
        ("apps", ["deployments"], ["get", "list", "watch", "create", "patch"]),
    ],
    "services and apps deployments (delete; MCP servers no longer declared)": [
        ("", ["services"], ["delete"]),
        ("apps", ["deployments"], ["delete"]),
    ],
    "networking.k8s.io networkpolicies (get, list, watch, create, patch, delete)": [
        (
            "networking.k8s.io",
            ["networkpolicies"],
            ["get", "list", "watch", "create", "patch", "delete"],
        ),
    ],
    "persistentvolumeclaims (get, list, watch)": [
        ("", ["persistentvolumeclaims"], ["get", "list", "watch"]),
    ],
    "events (create)": [("", ["events"], ["create"])],
}
# kopf's discovery: cluster-scoped, so only in cluster-wide mode.
OPERATOR_DISCOVERY = {
    "customresourcedefinitions (list, watch; kopf's discovery, cluster-wide mode only)": [
        ("apiextensions.k8s.io", ["customresourcedefinitions"], ["list", "watch"]),
    ],
}
AUTH_API_USE = {
    "copilotproxies (get, list), secrets (get, create, patch)": [
        ("copilot-proxy.dev", ["copilotproxies"], ["get", "list"]),
        ("", ["secrets"], ["get", "create", "patch"]),
    ],
}


def grants(table: dict[str, list[tuple[str, list[str], list[str]]]]) -> set[Grant]:
    return {
        (group, resource, verb)
        for rules in table.values()
        for group, resources, verbs in rules
        for resource in resources
        for verb in verbs
    }


def contract_section(contracts: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", contracts, re.M | re.S)
    assert match, f"docs/contracts.md has no section {title!r}"
    return match.group(1)


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("section", "phrase"),
    [("Operator process", p) for p in [*OPERATOR_API_USE, *OPERATOR_DISCOVERY]]
    + [("Auth service process", p) for p in AUTH_API_USE],
)
def test_contract_still_lists_this_api_use(contracts: str, section: str, phrase: str) -> None:
    assert normalize(phrase) in normalize(contract_section(contracts, section))


def effective_grants(rendered: Rendered, service_account: str) -> dict[str | None, set[Grant]]:
    """Grants of a ServiceAccount by namespace (None: cluster-wide)."""
    roles = {
        (r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]): r
        for r in rendered.all("Role") + rendered.all("ClusterRole")
    }
    out: dict[str | None, set[Grant]] = {}
    for binding in rendered.all("RoleBinding") + rendered.all("ClusterRoleBinding"):
        subjects = binding["subjects"]
        if not any(
            s["kind"] == "ServiceAccount"
            and s["name"] == service_account
            and s["namespace"] == NAMESPACE
            for s in subjects
        ):
            continue
        scope = binding["metadata"].get("namespace")
        ref = binding["roleRef"]
        role_ns = scope if ref["kind"] == "Role" else None
        role = roles[(ref["kind"], role_ns, ref["name"])]
        assert ref["apiGroup"] == "rbac.authorization.k8s.io"
        for rule in role["rules"]:
            assert set(rule) <= {"apiGroups", "resources", "verbs"}, rule  # no resourceNames/URLs
            groups, resources, verbs = rule["apiGroups"], rule["resources"], rule["verbs"]
            out.setdefault(scope, set()).update(
                (g, r, v) for g in groups for r in resources for v in verbs
            )
    return out


def service_account_of(rendered: Rendered, deployment: str) -> str:
    name: str = pod_spec(rendered.one("Deployment", deployment))["serviceAccountName"]
    rendered.one("ServiceAccount", name, NAMESPACE)
    return name


def test_no_rule_uses_a_wildcard(any_render: Rendered) -> None:
    for role in any_render.all("Role") + any_render.all("ClusterRole"):
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs"):
                assert not any("*" in item for item in rule[key]), (role["metadata"], rule)


def test_cluster_wide_operator_gets_exactly_its_api_use(default_render: Rendered) -> None:
    account = service_account_of(default_render, "copilot-operator")
    assert effective_grants(default_render, account) == {
        None: grants(OPERATOR_API_USE) | grants(OPERATOR_DISCOVERY)
    }


def test_cluster_wide_login_service_gets_exactly_its_api_use(default_render: Rendered) -> None:
    account = service_account_of(default_render, "copilot-auth")
    assert effective_grants(default_render, account) == {None: grants(AUTH_API_USE)}


def test_namespaced_mode_grants_nothing_cluster_wide(namespaced_render: Rendered) -> None:
    assert namespaced_render.all("ClusterRole") == []
    assert namespaced_render.all("ClusterRoleBinding") == []
    operator = service_account_of(namespaced_render, "copilot-operator")
    auth = service_account_of(namespaced_render, "copilot-auth")
    watched = ["team-a", "team-b"]
    assert effective_grants(namespaced_render, operator) == {
        ns: grants(OPERATOR_API_USE) for ns in watched
    }
    assert effective_grants(namespaced_render, auth) == {ns: grants(AUTH_API_USE) for ns in watched}


def test_custom_service_account_names_are_bound(full_render: Rendered) -> None:
    account = service_account_of(full_render, "cpx-operator")
    assert account == "copilot-operator"
    assert effective_grants(full_render, account) == {"ai": grants(OPERATOR_API_USE)}


def test_login_service_cannot_list_or_read_secrets_in_bulk(any_render: Rendered) -> None:
    auth_accounts = [
        pod_spec(d)["serviceAccountName"]
        for d in any_render.all("Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "auth"
    ]
    for account in auth_accounts:
        for scope_grants in effective_grants(any_render, account).values():
            secret_verbs = {v for g, r, v in scope_grants if r == "secrets"}
            assert secret_verbs == {"get", "create", "patch"}


def test_each_component_has_its_own_service_account(any_render: Rendered) -> None:
    accounts = [pod_spec(d)["serviceAccountName"] for d in any_render.all("Deployment")]
    assert len(accounts) == len(set(accounts)) == 2


def test_same_release_name_in_two_namespaces_gets_distinct_cluster_roles(helm: Helm) -> None:
    def cluster_scoped(namespace: str) -> set[str]:
        rendered = helm.template(namespace=namespace)
        kinds = ("ClusterRole", "ClusterRoleBinding")
        return {f"{o['kind']}/{o['metadata']['name']}" for k in kinds for o in rendered.all(k)}

    first, second = cluster_scoped("team-a"), cluster_scoped("team-b")
    assert len(first) == 4
    assert first.isdisjoint(second)
