"""Check that a release tag, the chart and the package name one version and one image.

The release workflow (.github/workflows/release.yml) runs this before it
builds anything: tag `v0.2.0` must match Chart.yaml's `version` and
`appVersion` and pyproject's `version`, and the chart's default image
repositories (`image`, `mcpImage`) must be the ones the workflow pushes to. So
`helm install` of the published chart pulls exactly the images the same run
published.

Prints `version=<X.Y.Z>` (a line for $GITHUB_OUTPUT); on any mismatch, prints
what differs and exits 1. Standard library only (it runs before any set-up).

Usage: python scripts/release_check.py v0.2.0 --image ghcr.io/OWNER/copilot-proxy \
           --mcp-image ghcr.io/OWNER/copilot-proxy-mcp
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHART = Path("charts/copilot-proxy")


def top_level(text: str, key: str) -> str:
    """A top-level scalar of a YAML file (`key: value`, quotes removed)."""
    match = re.search(rf"^{re.escape(key)}:[ \t]*(.*?)[ \t]*(?:#.*)?$", text, re.MULTILINE)
    return match.group(1).strip("\"'") if match else ""


def image_repository(values: str, key: str = "image") -> str:
    """`<key>.repository` of the chart's values.yaml (`image`, `mcpImage`)."""
    block = rf"^{key}:\n(?:[ \t]+.*\n|[ \t]*\n)*?"  # the indented lines under `<key>:`
    match = re.search(block + r"[ \t]+repository:[ \t]*(\S+)", values, re.MULTILINE)
    return match.group(1).strip("\"'") if match else ""


def problems(root: Path, tag: str, image: str, mcp_image: str = "") -> tuple[str, list[str]]:
    """(the version the tag names, what disagrees with it)."""
    version = tag.removeprefix("refs/tags/").removeprefix("v")
    found: list[str] = []
    if not re.fullmatch(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", version):
        found.append(f"tag {tag!r} is not v<major>.<minor>.<patch>")
    chart = (root / CHART / "Chart.yaml").read_text()
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    named = {
        f"{CHART}/Chart.yaml version": top_level(chart, "version"),
        f"{CHART}/Chart.yaml appVersion": top_level(chart, "appVersion"),
        "pyproject.toml version": pyproject["project"]["version"],
    }
    for where, value in named.items():
        if value != version:
            found.append(f"{where} is {value!r}, the tag says {version!r}")
    values = (root / CHART / "values.yaml").read_text()
    for key, published in (("image", image), ("mcpImage", mcp_image)):
        repository = image_repository(values, key)
        if published and repository != published:
            found.append(
                f"{CHART}/values.yaml {key}.repository is {repository!r}, "
                f"the workflow publishes {published!r}"
            )
    return version, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="the pushed tag, e.g. v0.2.0 (GITHUB_REF_NAME)")
    parser.add_argument("--image", required=True, help="the image repository the workflow pushes")
    parser.add_argument("--mcp-image", default="", help="the MCP image repository it pushes")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository's root")
    args = parser.parse_args(argv)
    version, found = problems(args.root, args.tag, args.image, args.mcp_image)
    if found:
        print(f"release {args.tag}: nothing published, fix first:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        return 1
    print(f"version={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
