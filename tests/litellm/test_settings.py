"""The plugin's settings, read from the `copilot_proxy:` key of the rendered config."""

from __future__ import annotations

from pathlib import Path

from copilot_proxy.core.render import config_text
from copilot_proxy.core.spec import parse_spec
from copilot_proxy.litellm.settings import Settings, parse, read


def test_the_rendered_config_gives_the_settings(tmp_path: Path) -> None:
    spec = parse_spec(
        "acme", "ai", {"models": [{"name": "claude-opus-4.6"}, {"name": "gpt-5-mini"}]}
    )
    path = tmp_path / "config.yaml"
    path.write_text(config_text(spec))
    assert read(str(path)) == Settings(namespace="ai", proxy="acme", small_model="gpt-5-mini")


def test_missing_or_malformed_settings_fall_back_to_defaults(tmp_path: Path) -> None:
    assert parse({"model_list": []}) == Settings()  # a config of an older operator
    assert parse(None) == Settings()
    assert parse({"copilot_proxy": {"proxy": "acme", "names": {"small_model": 3}}}) == Settings()
    assert read(None) == Settings()
    assert read(str(tmp_path / "missing.yaml")) == Settings()
    (tmp_path / "bad.yaml").write_text("copilot_proxy: [unclosed")
    assert read(str(tmp_path / "bad.yaml")) == Settings()
