"""The login page's colours meet WCAG AA (4.5:1) in both colour schemes, computed from style.css.

The browser test checks the texts a page shows at one moment; this one checks
every pair of text and background colour the stylesheet combines, including
texts that only show up sometimes (errors, badges, the one-time code).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = (Path(__file__).resolve().parents[2] / "copilot_proxy/auth/static/style.css").read_text()

# (text colour, background) as the stylesheet combines them, and where.
PAIRS = {
    "body text": [("fg", "bg"), ("fg", "card"), ("fg", "code-bg")],
    "links and quiet buttons (a, button.quiet)": [("accent", "bg"), ("accent", "card")],
    "primary buttons (button.primary, Open GitHub)": [("accent-fg", "accent")],
    "muted text (.muted, .sub, .ns, dt)": [("muted", "bg"), ("muted", "card")],
    "errors (.error, button.danger)": [("bad", "bg"), ("bad", "card")],
    "badges (.badge on a card)": [("ok", "card"), ("warn", "card"), ("bad", "card")],
    "messages (.message on code background)": [
        ("ok", "code-bg"),
        ("bad", "code-bg"),
        ("fg", "code-bg"),
    ],
}


def variables(block: str) -> dict[str, str]:
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))


def schemes() -> dict[str, dict[str, str]]:
    light = variables(CSS.split("@media", 1)[0])
    dark_block = re.search(r"prefers-color-scheme: dark\)\s*\{(.*?)\n\}", CSS, re.S)
    assert dark_block, "style.css has no dark scheme"
    return {"light": light, "dark": {**light, **variables(dark_block.group(1))}}


def luminance(colour: str) -> float:
    def linear(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_stylesheet_uses_these_pairs() -> None:
    # A renamed variable would make the pairs above check nothing.
    names = {name for pairs in PAIRS.values() for pair in pairs for name in pair}
    for scheme, colours in schemes().items():
        assert names <= set(colours), (scheme, names - set(colours))
    assert "a { color: var(--accent); }" in CSS


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_text_colour_meets_wcag_aa(scheme: str) -> None:
    colours = schemes()[scheme]
    low = [
        f"{what}: --{fg} on --{bg} is {contrast(colours[fg], colours[bg]):.2f}:1"
        for what, pairs in PAIRS.items()
        for fg, bg in pairs
        if contrast(colours[fg], colours[bg]) < 4.5
    ]
    assert low == []


def test_contrast_is_computed_as_wcag_says() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA grey
