"""Fixtures for the Helm chart tests: the real Helm binary and rendered manifests.

`helm` is Helm v3.17.2, fetched offline by scripts/fetch_helm.py (idempotent;
set HELM=/path/to/helm to use another binary). Rendering is cached per set of
arguments, so many tests share one `helm template` run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "copilot-proxy"
CI_VALUES = CHART / "ci"
CRD_FILE = ROOT / "crds" / "copilotproxies.copilot-proxy.dev.yaml"
CHART_CRD_FILE = CHART / "files" / "crd.yaml"
CONTRACTS = ROOT / "docs" / "contracts.md"

RELEASE = "copilot"
NAMESPACE = "copilot-system"
# The values files `helm lint` and most tests run with (charts/copilot-proxy/ci/).
VALUES_NAMES = ("default", "namespaced", "full")

Obj = dict[str, Any]


def values_file(name: str) -> Path:
    return CI_VALUES / f"{name}-values.yaml"


@dataclass(frozen=True)
class Rendered:
    """The objects `helm template` printed, with lookups by kind and name."""

    objects: tuple[Obj, ...]

    def all(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str, namespace: str | None = None) -> Obj:
        found = [
            o
            for o in self.all(kind)
            if o["metadata"]["name"] == name
            and (namespace is None or o["metadata"].get("namespace") == namespace)
        ]
        assert len(found) == 1, f"expected one {kind} {name!r}, rendered: {self.names()}"
        return found[0]

    def names(self) -> list[str]:
        return [f"{o['kind']}/{o['metadata']['name']}" for o in self.objects]

    def workloads(self) -> list[Obj]:
        """Every object that runs containers."""
        return [o for o in self.objects if o["kind"] in ("Deployment", "Pod")]


def pod_spec(obj: Obj) -> Obj:
    spec: Obj = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    return spec


def containers(obj: Obj) -> list[Obj]:
    spec = pod_spec(obj)
    return [*spec.get("initContainers", []), *spec["containers"]]


class HelmError(Exception):
    """`helm` exited non-zero; the message is its stderr."""


class Helm:
    def __init__(self, binary: Path) -> None:
        self.binary = binary

    def run(self, *args: str | Path) -> str:
        result = subprocess.run(
            [str(self.binary), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HELM_CACHE_HOME": str(ROOT / ".cache" / "helm")},
        )
        if result.returncode != 0:
            raise HelmError(f"{result.stdout.strip()}\n{result.stderr.strip()}".strip())
        return result.stdout

    def template(
        self,
        *,
        values: Iterable[str] = (),
        set_values: Iterable[str] = (),
        chart: Path = CHART,
        release: str = RELEASE,
        namespace: str = NAMESPACE,
        extra: Iterable[str] = (),
    ) -> Rendered:
        return self._template(
            tuple(values), tuple(set_values), chart, release, namespace, tuple(extra)
        )

    @cache  # noqa: B019 - one Helm per session; renders are pure functions of the arguments
    def _template(
        self,
        values: tuple[str, ...],
        set_values: tuple[str, ...],
        chart: Path,
        release: str,
        namespace: str,
        extra: tuple[str, ...],
    ) -> Rendered:
        args: list[str | Path] = ["template", release, chart, "--namespace", namespace]
        for name in values:
            args += ["--values", values_file(name)]
        for item in set_values:
            args += ["--set", item]
        out = self.run(*args, *extra)
        return Rendered(tuple(doc for doc in yaml.safe_load_all(out) if doc))

    def template_error(self, *set_values: str) -> str:
        """Render with the given --set values; return Helm's error (it must fail)."""
        try:
            self.template(set_values=set_values)
        except HelmError as error:
            return str(error)
        raise AssertionError(f"helm template accepted {set_values}")

    def notes(
        self,
        tmp_path: Path,
        *,
        values: Iterable[str] = (),
        set_values: Iterable[str] = (),
        release: str = RELEASE,
        namespace: str = NAMESPACE,
    ) -> str:
        """NOTES.txt as `helm install` prints it.

        `helm install --dry-run` of Helm 3.17 still needs a reachable cluster, so
        the test renders NOTES.txt with the same engine and context through a
        ConfigMap template added to a copy of the chart.
        """
        chart = tmp_path / "chart"
        shutil.copytree(CHART, chart)
        shutil.copy(CHART / "templates" / "NOTES.txt", chart / "notes-under-test.txt")
        (chart / "templates" / "zz-notes-under-test.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\n"
            'data:\n  notes: {{ tpl (.Files.Get "notes-under-test.txt") . | quote }}\n'
        )
        rendered = self._template(
            tuple(values),
            tuple(set_values),
            chart,
            release,
            namespace,
            ("--show-only", "templates/zz-notes-under-test.yaml"),
        )
        notes: str = rendered.one("ConfigMap", "notes-under-test")["data"]["notes"]
        return notes


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    """The real Helm binary (fetched once into .cache/bin by scripts/fetch_helm.py)."""
    override = os.environ.get("HELM")
    if override:
        return Path(override)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch_helm.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def helm(helm_binary: Path) -> Helm:
    return Helm(helm_binary)


@pytest.fixture(scope="session")
def default_render(helm: Helm) -> Rendered:
    return helm.template(values=["default"])


@pytest.fixture(scope="session")
def namespaced_render(helm: Helm) -> Rendered:
    return helm.template(values=["namespaced"])


@pytest.fixture(scope="session")
def full_render(helm: Helm) -> Rendered:
    return helm.template(values=["full"])


@pytest.fixture(scope="session", params=VALUES_NAMES)
def any_render(request: pytest.FixtureRequest, helm: Helm) -> Iterator[Rendered]:
    """The chart rendered with each values file of charts/copilot-proxy/ci/."""
    yield helm.template(values=[request.param])


@pytest.fixture(scope="session")
def contracts() -> str:
    return CONTRACTS.read_text()


@pytest.fixture(scope="session")
def crd_schema() -> Obj:
    """The CopilotProxy openAPIV3Schema of the chart's CRD."""
    crd = yaml.safe_load(CHART_CRD_FILE.read_text())
    schema: Obj = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema
