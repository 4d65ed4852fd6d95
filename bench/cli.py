"""Command line: which suites, how many samples, where the results go."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITES = ("overhead", "fallback", "operator", "startup", "cost")


def _parser() -> argparse.ArgumentParser:
    from bench.configs import SETUPS

    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks: proxy overhead, fallback cost, operator reaction, "
        "proxy start-up, what a Claude Code session costs. Every figure is a ratio against "
        "a baseline of the same run.",
    )
    p.add_argument(
        "--only",
        default=",".join(SUITES),
        help=f"comma-separated suites to run (default all: {','.join(SUITES)})",
    )
    p.add_argument("--quick", action="store_true", help="few samples: a smoke run of ~2 min")
    p.add_argument("--rounds", type=int, help="interleaved rounds per proxy benchmark (5)")
    p.add_argument("--requests", type=int, help="requests per target and round at 1 client (100)")
    p.add_argument("--requests-16", type=int, help="requests per round at 16 clients (320)")
    p.add_argument("--stream-requests", type=int, help="streamed requests per round (30)")
    p.add_argument("--starts", type=int, help="proxy starts per set-up for start-up (2)")
    p.add_argument("--changes", type=int, help="operator: changes of each kind (50)")
    p.add_argument("--proxies", type=int, help="operator: CopilotProxies from cold start (200)")
    p.add_argument(
        "--setups",
        help="proxy set-ups for overhead and start-up, comma-separated; the first of them "
        f"named 'original' is the baseline. Known: {', '.join(SETUPS)}",
    )
    p.add_argument(
        "--fallback-setups",
        help="set-ups for the fallback suite (default: original, original+router-fallbacks, "
        "rendered)",
    )
    p.add_argument(
        "--py-spy",
        default="",
        metavar="PATH",
        help="a py-spy binary (install it in a throwaway venv, not .venv): profile each "
        "proxy for one block of requests, raw stacks to --out",
    )
    p.add_argument("--out", default="test-output/bench", help="results.json/.md and profiles")
    return p


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        total_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{total_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        mem = "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "?"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": mem,
        "load average at start": load,
        "python": platform.python_version(),
        "commit": commit or "?",
    }


def main(argv: list[str] | None = None) -> int:
    # `testkit` (fakes, harness, emulator) is imported by package name from the repo root.
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    # litellm, imported for its client helpers, must not download its cost map (offline).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

    from bench import cost_suite, operator_suite, proxy_suite
    from bench.report import Report

    args = _parser().parse_args(argv)
    suites = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(suites) - set(SUITES)
    if unknown:
        print(f"unknown suites: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    popts = proxy_suite.Options(out=Path(args.out), py_spy=args.py_spy)
    oopts = operator_suite.Options(out=Path(args.out))
    if args.quick:
        popts.rounds, popts.c1_requests, popts.c16_requests = 2, 30, 160
        popts.stream_requests, popts.fallback_requests, popts.starts = 15, 15, 1
        popts.slow_fallback_requests = 1
        oopts.changes, oopts.proxies = 10, 40
    for attr, value in [
        ("rounds", args.rounds),
        ("c1_requests", args.requests),
        ("c16_requests", args.requests_16),
        ("stream_requests", args.stream_requests),
        ("starts", args.starts),
    ]:
        if value is not None:
            setattr(popts, attr, value)
    if args.changes is not None:
        oopts.changes = args.changes
    if args.proxies is not None:
        oopts.proxies = args.proxies
    if args.setups:
        popts.setups = tuple(s.strip() for s in args.setups.split(",") if s.strip())
    if args.fallback_setups:
        popts.fallback_setups = tuple(
            s.strip() for s in args.fallback_setups.split(",") if s.strip()
        )

    report = Report(facts=machine())
    report.facts["command"] = "python -m bench " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    began = time.monotonic()
    proxy_suites = [s for s in suites if s in ("overhead", "fallback", "startup")]
    if proxy_suites:
        proxy_suite.run(proxy_suites, popts, report)
    if "operator" in suites:
        operator_suite.run(oopts, report)
    if "cost" in suites:
        cost_suite.run(report)
    report.facts["duration"] = f"{time.monotonic() - began:.0f} s"

    print()
    print(report.table())
    targets = report.targets()
    if targets:
        print("Targets:")
        for row in targets:
            verdict = "MET" if row.met else "NOT MET"
            print(f"  {verdict:8} {row.metric} [{row.subject}]: {row.target}")
    print()
    for key, value in report.facts.items():
        print(f"{key}: {value}")
    out = Path(args.out)
    report.save(out / "results.json")
    (out / "results.md").write_text(report.table(markdown=True))
    return 0
