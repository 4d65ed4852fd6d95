"""What `copilot-proxy run` says when a GitHub App manifest and --github-app-key do not fit
(fast: it exits before anything starts; the key is never printed)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testkit.fake_github.apps import private_key_pem
from testkit.ports import free_port
from tests.local.helpers import CLI, write_manifest

APP = {
    "githubApp": {
        "clientId": "Iv23liabc123",
        "installationId": 7890123,
        "privateKeySecretRef": {"name": "copilot-app-key"},
    }
}


def run(manifest: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [CLI, "run", "-f", str(manifest), "--state-dir", str(tmp_path / "state")]
    args += ["--proxy-port", str(free_port()), "--auth-port", str(free_port()), *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def app_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    write_manifest(path, ["gpt-5-mini"], credential=APP)
    return path


def test_an_app_manifest_without_the_key_names_the_flag(app_manifest: Path, tmp_path: Path) -> None:
    done = run(app_manifest, tmp_path)
    assert done.returncode == 1
    assert "--github-app-key FILE" in done.stderr
    assert "github-app/Iv23liabc123/7890123" in done.stderr
    assert "privateKeySecretRef is the operator's" in done.stderr
    assert not (tmp_path / "state").exists()  # nothing started, nothing written


def test_a_key_for_a_manifest_without_an_app_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    write_manifest(plain, ["gpt-5-mini"])
    key = tmp_path / "key.pem"
    key.write_text(private_key_pem(1024))
    done = run(plain, tmp_path, "--github-app-key", str(key))
    assert done.returncode == 1
    assert "spec.credential.githubApp" in done.stderr


def test_an_unreadable_or_wrong_key_file_is_said_without_its_content(
    app_manifest: Path, tmp_path: Path
) -> None:
    missing = run(app_manifest, tmp_path, "--github-app-key", str(tmp_path / "nope.pem"))
    assert missing.returncode == 1
    assert "cannot read the GitHub App key" in missing.stderr
    wrong = tmp_path / "wrong.pem"
    wrong.write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ5dGVz\n-----END RSA PRIVATE KEY-----\n"
    )
    done = run(app_manifest, tmp_path, "--github-app-key", str(wrong))
    assert done.returncode == 1
    assert "holds no RSA private key in PEM form" in done.stderr
    assert "c2VjcmV0LWJ5dGVz" not in done.stderr + done.stdout


def test_the_help_says_the_secret_reference_is_ignored_locally() -> None:
    done = subprocess.run([CLI, "run", "--help"], capture_output=True, text=True, check=False)
    assert "--github-app-key FILE" in done.stdout
    assert "ignored here" in " ".join(done.stdout.split())
