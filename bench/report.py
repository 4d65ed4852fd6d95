"""Statistics and the result table: every figure a ratio against a baseline of the same run."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks; nan when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


@dataclass
class Row:
    suite: str
    metric: str
    subject: str  # what was measured: a set-up, "operator", ...
    ratios: dict[str, float] = field(default_factory=dict)  # baseline name -> ratio
    value: str = ""  # the subject's own median, for reading the ratios
    target: str = ""  # e.g. "overhead p50 <= 10 ms: 4.2 ms"
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)  # machine, options, samples

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def suites(self) -> list[str]:
        return sorted(dict.fromkeys(r.suite for r in self.rows))  # "1. ...", "2. ..."

    def table(self, markdown: bool = False) -> str:
        out: list[str] = []
        for suite in self.suites():
            rows = [r for r in self.rows if r.suite == suite]
            baselines = list(dict.fromkeys(b for r in rows for b in r.ratios))
            head = ["metric", "subject", *[f"x {b}" for b in baselines], "value", "target"]
            body = [
                [
                    r.metric,
                    r.subject,
                    *[_fmt_ratio(r.ratios.get(b)) for b in baselines],
                    r.value,
                    _fmt_target(r) + (f" ({r.note})" if r.note else ""),
                ]
                for r in rows
            ]
            out.append(f"## {suite}" if markdown else f"== {suite} ==")
            out.append(_render(head, body, markdown))
            out.append("")
        return "\n".join(out)

    def targets(self) -> list[Row]:
        return [r for r in self.rows if r.met is not None]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"facts": self.facts, "rows": [asdict(r) for r in self.rows]}
        path.write_text(json.dumps(data, indent=2, default=str))


def _fmt_ratio(value: float | None) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "n/a"
    if value >= 100:
        return f"{value:.0f}x"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _fmt_target(row: Row) -> str:
    if row.met is None:
        return row.target
    return f"{row.target} -> {'MET' if row.met else 'NOT MET'}"


def _render(head: list[str], body: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body, strict=True)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in body
    ]
    return "\n".join(lines)


def ms(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.1f} s"
