"""A manifest's text -> ProxySpec (pure): the checks `kubectl apply` would make before the
operator sees a resource, each naming the file and what to fix."""

from __future__ import annotations

import pytest

from copilot_proxy.core.manifest import ManifestError, parse_manifest

HEAD = "apiVersion: copilot-proxy.dev/v1alpha1\nkind: CopilotProxy\n"
MODELS = "spec:\n  models: [{name: claude-opus-4.6}, {name: gpt-5-mini}]\n"


def test_the_one_copilotproxy_among_other_documents_is_parsed() -> None:
    text = f"kind: ConfigMap\n---\n{HEAD}metadata: {{name: c, namespace: ai}}\n{MODELS}---\n"
    spec = parse_manifest(text, "cr.yaml")
    assert (spec.name, spec.namespace, spec.chain) == ("c", "ai", ("claude-opus-4.6", "gpt-5-mini"))


def test_without_a_namespace_the_proxy_is_in_default() -> None:
    assert parse_manifest(f"{HEAD}metadata: {{name: c}}\n{MODELS}", "cr.yaml").namespace == (
        "default"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: CopilotProxy\nspec: [unclosed\n", "cr.yaml: not valid YAML: "),
        ("kind: ConfigMap\n", "cr.yaml: expected one CopilotProxy document, found 0"),
        (
            f"{HEAD}metadata: {{name: a}}\n---\n{HEAD}metadata: {{name: b}}\n",
            "cr.yaml: expected one CopilotProxy document, found 2",
        ),
        (
            f"apiVersion: v1\nkind: CopilotProxy\nmetadata: {{name: c}}\n{MODELS}",
            "cr.yaml: apiVersion must be copilot-proxy.dev/v1alpha1",
        ),
        (f"{HEAD}metadata: {{}}\n{MODELS}", "cr.yaml: metadata.name is missing"),
        (
            f"{HEAD}metadata: {{name: c}}\nspec:\n  models: []\n",
            "cr.yaml: spec.models: the chain needs at least one model",
        ),
    ],
    ids=["not-yaml", "none", "two", "api-version", "no-name", "bad-spec"],
)
def test_a_bad_manifest_names_the_file_and_what_to_fix(text: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "cr.yaml")
    assert str(caught.value).startswith(message)
