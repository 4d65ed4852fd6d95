"""`helm lint --strict` (warnings fail) with each values file of the chart's ci/ folder."""

from __future__ import annotations

import pytest

from .conftest import CHART, VALUES_NAMES, Helm, HelmError, values_file


@pytest.mark.parametrize("name", VALUES_NAMES)
def test_helm_lint_strict_passes(helm: Helm, name: str) -> None:
    out = helm.run("lint", "--strict", CHART, "--values", values_file(name))
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_helm_lint_strict_fails_on_values_the_schema_rejects(helm: Helm) -> None:
    with pytest.raises(HelmError, match=r"watchNamespaces\.0"):
        helm.run("lint", "--strict", CHART, "--set", "watchNamespaces={Not_A_Namespace}")


def test_every_ci_values_file_is_linted() -> None:
    on_disk = sorted(p.name for p in (CHART / "ci").glob("*.yaml"))
    assert on_disk == sorted(f"{name}-values.yaml" for name in VALUES_NAMES)
