"""The CRD the chart installs is the repository's crds/ file, upgraded by
`helm upgrade` (a template, not the chart's crds/ folder) and kept on uninstall."""

from __future__ import annotations

import copy

import yaml

from .conftest import CHART, CHART_CRD_FILE, CRD_FILE, Helm, Obj, Rendered

CRD_NAME = "copilotproxies.copilot-proxy.dev"


def without_chart_metadata(crd: Obj, file_crd: Obj) -> Obj:
    """The rendered CRD minus the labels and annotations the chart adds."""
    crd = copy.deepcopy(crd)
    meta = crd["metadata"]
    file_labels = file_crd["metadata"].get("labels", {})
    meta["labels"] = {k: v for k, v in meta.get("labels", {}).items() if k in file_labels}
    meta.pop("annotations", None)
    if "annotations" in file_crd["metadata"]:
        meta["annotations"] = file_crd["metadata"]["annotations"]
    return crd


def test_repo_crd_file_is_valid_yaml() -> None:
    crd = yaml.safe_load(CRD_FILE.read_text())
    assert crd["metadata"]["name"] == CRD_NAME


def test_chart_copy_of_the_crd_is_identical_to_the_repo_crd() -> None:
    assert CHART_CRD_FILE.read_bytes() == CRD_FILE.read_bytes(), (
        f"{CHART_CRD_FILE.relative_to(CHART.parent.parent)} differs from "
        f"{CRD_FILE.relative_to(CHART.parent.parent)}: copy the one you changed over the other"
    )


def test_rendered_crd_equals_the_repo_crd(default_render: Rendered) -> None:
    rendered = default_render.one("CustomResourceDefinition", CRD_NAME)
    file_crd = yaml.safe_load(CRD_FILE.read_text())
    assert without_chart_metadata(rendered, file_crd) == file_crd


def test_rendered_crd_is_kept_on_uninstall(default_render: Rendered) -> None:
    crd = default_render.one("CustomResourceDefinition", CRD_NAME)
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # A template, so `helm upgrade` updates it; the chart's crds/ folder never is.
    assert not (CHART / "crds").exists()


def test_crd_can_be_left_to_uninstall(helm: Helm) -> None:
    crd = helm.template(set_values=["crds.keep=false"]).one("CustomResourceDefinition", CRD_NAME)
    assert "helm.sh/resource-policy" not in crd["metadata"].get("annotations", {})


def test_crd_is_not_rendered_when_managed_elsewhere(namespaced_render: Rendered) -> None:
    assert namespaced_render.all("CustomResourceDefinition") == []
