"""Benchmarks of the real LiteLLM proxy against the fake Copilot: overhead, fallback, start-up.

Every proxy is the real `litellm` process started by testkit.proxy_harness with
the Deployment's command, environment and token layout. Measurements of the
set-ups are interleaved: in each round every target runs the same block, in an
order that rotates from round to round, so a burst of load from other work on
the machine hits them all alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import signal
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.configs import LAST, PREFIX, PRIMARY, SECOND, SETUPS, Setup, bench_spec
from bench.load import TIMEOUT, Block, Client, Target, chat_body
from bench.report import Report, Row, median, ms, percentile, ratio
from bench.upstream import Upstream
from testkit.proxy_harness import LiteLLMProxy

OVERHEAD_TARGET_MS = 10.0
FALLBACK_TARGET = 1.2
WARMUP = 8


@dataclass
class Options:
    rounds: int = 5
    c1_requests: int = 100  # per target and round, one client (interleaved request by request)
    c16_requests: int = 320  # per target and round, 16 clients
    stream_requests: int = 30
    fallback_requests: int = 30  # per round, fast set-ups
    slow_fallback_requests: int = 1  # per round, set-ups that retry for seconds
    slow_timeout: float = 20.0  # seconds a client waits for a fallback answer
    starts: int = 2  # proxy starts per set-up for the start-up figures
    setups: tuple[str, ...] = ("original", "rendered-untuned", "rendered")
    fallback_setups: tuple[str, ...] = ("original", "original+router-fallbacks", "rendered")
    py_spy: str = ""  # a py-spy binary (from a throwaway venv): profile each proxy
    out: Path = Path("test-output/bench")


class BenchProxy(LiteLLMProxy):
    """The harness's proxy for one `Setup`; `unset_env` removes pod variables for a variant."""

    def __init__(self, setup: Setup, upstream: Upstream) -> None:
        super().__init__(
            bench_spec(),
            upstream=upstream.url,
            token=upstream.default_token,
            config=setup.config(),
            extra_env=setup.env,
            extra_args=list(setup.args),
        )
        self.setup = setup
        self.ready_seconds = math.nan

    def env(self) -> dict[str, str]:
        env = super().env()
        for name in self.setup.unset_env:
            env.pop(name, None)
        return env

    def start_measured(self) -> BenchProxy:
        began = time.monotonic()
        self.start()
        with httpx.Client(timeout=5) as client:
            while time.monotonic() - began < 120:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/health/readiness").status_code == 200:
                        break
                time.sleep(0.05)
        self.ready_seconds = time.monotonic() - began
        return self

    def target(self) -> Target:
        assert self.proc is not None
        return Target(
            self.setup.name, f"{self.url}/v1/chat/completions", self.auth_headers, self.proc.pid
        )


@dataclass
class StartSample:
    live: float
    ready: float
    workers_mb: list[float]  # RSS of each serving process after the warm-up requests
    total_mb: float  # RSS of the whole process tree (a supervisor included)


@dataclass
class Pool:
    """The proxies of this run, started once and shared by the suites."""

    upstream: Upstream
    proxies: dict[str, BenchProxy] = field(default_factory=dict)
    starts: dict[str, list[StartSample]] = field(default_factory=lambda: defaultdict(list))

    def start(self, name: str) -> BenchProxy:
        proxy = BenchProxy(SETUPS[name], self.upstream).start_measured()
        try:
            warm_up(proxy)
        except BaseException:
            proxy.stop()
            raise
        assert proxy.proc is not None
        pid = proxy.proc.pid
        workers = [m.rss_mb for m in procs.worker_memory(pid)]
        total = sum(procs.memory(p).rss_mb for p in [pid, *procs.children(pid)])
        self.starts[name].append(
            StartSample(proxy.start_seconds, proxy.ready_seconds, workers, total)
        )
        return proxy

    def get(self, name: str) -> BenchProxy:
        if name not in self.proxies:
            self.proxies[name] = self.start(name)
        return self.proxies[name]

    def stop(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
        self.proxies.clear()


def warm_up(proxy: BenchProxy) -> None:
    """First requests load LiteLLM's lazy modules and the Copilot key; check the answers."""
    model = proxy.setup.serving
    with httpx.Client(timeout=60) as client:
        for _ in range(WARMUP):
            answer = client.post(
                proxy.target().url, json=chat_body(model), headers=proxy.auth_headers
            )
            text = answer.text
            if answer.status_code != 200 or LAST not in text:
                raise RuntimeError(
                    f"{proxy.setup.name}: {model} answered {answer.status_code}: {text[:300]}\n"
                    + proxy.log_tail(20)
                )


def direct_target(upstream: Upstream) -> Target:
    return Target(
        "direct",
        f"{upstream.url}/chat/completions",
        upstream.direct_headers(),
    )


def rotated(items: Sequence[Any], r: int) -> list[Any]:
    r %= max(len(items), 1)
    return [*items[r:], *items[:r]]


# ----- overhead -------------------------------------------------------------------------


@dataclass
class Series:
    """Per-round figures of one target and one kind of block."""

    p50: list[float] = field(default_factory=list)
    samples: list[float] = field(default_factory=list)  # pooled over rounds, for p99
    rps: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)  # proxy CPU per request
    errors: int = 0

    def add(self, block: Block, cpu: float | None) -> None:
        self.p50.append(percentile(block.latencies, 50))
        self.samples += block.latencies
        self.rps.append(block.throughput)
        self.errors += sum(block.errors.values())
        if cpu is not None:
            total = len(block.latencies) + sum(block.errors.values())
            self.cpu_ms.append(1000 * cpu / total if total else math.nan)


KINDS = ("c1", "c16", "stream")


async def _overhead(pool: Pool, opts: Options, report: Report) -> None:
    proxies = [pool.get(name) for name in opts.setups]
    direct = direct_target(pool.upstream)
    targets = [direct, *(p.target() for p in proxies)]
    models = {direct.name: LAST, **{p.setup.name: p.setup.serving for p in proxies}}
    client = Client(concurrency=16)
    series: dict[tuple[str, str], Series] = defaultdict(Series)
    plan = {
        "c1": (opts.c1_requests, 1, False),
        "c16": (opts.c16_requests, 16, False),
        "stream": (opts.stream_requests, 1, True),
    }
    try:
        for t in targets:  # warm connections on each side
            await client.block(t, chat_body(models[t.name]), 32, 16)
        if opts.py_spy:
            await _profile(client, proxies, opts)
        for r in range(opts.rounds):
            for kind in KINDS:
                n, concurrency, streaming = plan[kind]
                order = rotated(targets, r)
                cpu0 = {t.name: procs.cpu_seconds(t.pid) for t in order if t.pid}
                if concurrency == 1:
                    calls = [(t, chat_body(models[t.name], stream=streaming)) for t in order]
                    blocks = await client.alternate(calls, n, streaming)
                else:
                    blocks = [
                        await client.block(t, chat_body(models[t.name]), n, concurrency)
                        for t in order
                    ]
                for t, block in zip(order, blocks, strict=True):
                    cpu = procs.cpu_seconds(t.pid) - cpu0[t.name] if t.pid else None
                    series[t.name, kind].add(block, cpu)
    finally:
        await client.close()
    _overhead_rows(report, [t.name for t in targets], series, opts)


def _overhead_rows(
    report: Report, names: list[str], series: dict[tuple[str, str], Series], opts: Options
) -> None:
    suite = "1. proxy overhead (chat completions, fake Copilot)"
    # Ratios against the upstream itself, the first set-up (the original one) and, for
    # the rendered set-ups, the rendered one before the benchmark's tuning.
    first = names[1]
    before = "rendered-untuned"
    baselines = ["direct", first, *([before] if before in names[2:] else [])]

    def compared(name: str, base: str) -> bool:
        if name == "direct" or base == name:
            return base == "direct"
        return base != before or (name.startswith("rendered") and names.index(name) > 1)

    def per_round(name: str, base: str, kind: str, attr: str) -> float:
        a, b = getattr(series[name, kind], attr), getattr(series[base, kind], attr)
        return median([ratio(x, y) for x, y in zip(a, b, strict=True)])

    def pooled(name: str, base: str, kind: str) -> float:
        return ratio(
            percentile(series[name, kind].samples, 99), percentile(series[base, kind].samples, 99)
        )

    metrics = [
        ("p50 latency, 1 client", "c1", "p50"),
        ("p99 latency, 1 client", "c1", "p99"),
        ("p50 latency, 16 clients", "c16", "p50"),
        ("p99 latency, 16 clients", "c16", "p99"),
        ("throughput, 16 clients", "c16", "rps"),
        ("stream: time to first token p50", "stream", "p50"),
    ]
    for label, kind, attr in metrics:
        for name in names:
            s = series[name, kind]
            ratios = {}
            for base in filter(lambda b: compared(name, b), baselines):
                ratios[base] = (
                    pooled(name, base, kind)
                    if attr == "p99"
                    else (per_round(name, base, kind, attr))
                )
            if attr == "rps":
                value = f"{median(s.rps):.0f} req/s"
            elif attr == "p99":
                value = ms(percentile(s.samples, 99))
            else:
                value = ms(median(s.p50))
            row = Row(suite, label, name, ratios, value)
            if s.errors:
                row.note = f"{s.errors} errors"
            if kind == "c1" and attr == "p50" and name != "direct":
                extra = median(
                    [1000 * (x - y) for x, y in zip(s.p50, series["direct", kind].p50, strict=True)]
                )
                row.target = f"overhead p50 <= {OVERHEAD_TARGET_MS:g} ms: {extra:.1f} ms"
                row.met = extra <= OVERHEAD_TARGET_MS if name == "rendered" else None
            report.add(row)
    for name in names[1:]:
        cpu = series[name, "c1"].cpu_ms
        ratios = {
            base: median([ratio(x, y) for x, y in zip(cpu, series[base, "c1"].cpu_ms, strict=True)])
            for base in baselines[1:]
            if compared(name, base)
        }
        report.add(
            Row(suite, "proxy CPU per request, 1 client", name, ratios, f"{median(cpu):.1f} ms")
        )
    report.facts["overhead samples"] = (
        f"{opts.rounds} interleaved rounds x ({opts.c1_requests} requests at 1 client, "
        f"{opts.c16_requests} at 16, {opts.stream_requests} streamed) per target"
    )


async def _profile(client: Client, proxies: list[BenchProxy], opts: Options) -> None:
    """py-spy each proxy through one block of requests at one client; raw stacks to files.

    `--gil`: only samples of a thread holding the GIL, i.e. Python doing work; idle
    waits (the event loop, the thread pool) stay out of the shares."""
    opts.out.mkdir(parents=True, exist_ok=True)
    for proxy in proxies:
        assert proxy.proc is not None
        path = opts.out / f"profile-{proxy.setup.name}.txt"
        spy = await asyncio.create_subprocess_exec(
            *[opts.py_spy, "record", "-p", str(proxy.proc.pid), "-r", "200", "-f", "raw"],
            *["--gil", "--subprocesses", "-o", str(path)],
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)  # py-spy attaches
        await client.block(proxy.target(), chat_body(proxy.setup.serving), 300, 1)
        spy.send_signal(signal.SIGINT)  # py-spy writes what it has and exits
        await asyncio.wait_for(spy.wait(), 30)


# ----- fallback -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A primary that fails with `status` and the model of the chain that then serves.

    Each scenario fails another model, so what a proxy learnt in one scenario
    (a cooldown) does not carry into the next.
    """

    status: int
    failing: str
    serving: str
    what: str


SCENARIOS = (
    Scenario(402, PRIMARY, SECOND, "402 quota_exceeded"),
    Scenario(429, SECOND, LAST, "429 rate_limited, retry-after 60"),
)
SLOW = 2.0  # seconds: a set-up whose first fallback takes longer retries; sample it sparingly


def _asked(setup: Setup, model: str) -> str:
    """The name a client of this set-up sends for a Copilot model."""
    return PREFIX + model if setup.serving.startswith(PREFIX) else model


async def _fallback(pool: Pool, opts: Options, report: Report) -> None:
    suite = "2. fallback cost (steady state: the primary keeps failing)"
    proxies = [pool.get(name) for name in opts.fallback_setups]
    for scenario in SCENARIOS:
        await _fallback_scenario(pool, proxies, scenario, opts, report, suite)
    report.facts["fallback samples"] = (
        f"{opts.rounds} interleaved rounds x {opts.fallback_requests} requests asking the "
        "failing primary and as many asking the serving model, one client, after 2 requests "
        f"that meet the first failures; set-ups slower than {SLOW:g} s per fallback: "
        f"{opts.slow_fallback_requests} request per round, 2 rounds; {opts.slow_timeout:g} s "
        "client timeout (one timeout ends the sampling)"
    )


async def _fallback_scenario(
    pool: Pool,
    proxies: list[BenchProxy],
    scenario: Scenario,
    opts: Options,
    report: Report,
    suite: str,
) -> None:
    client = Client(concurrency=1, timeout=opts.slow_timeout)
    asked_p50: dict[str, list[float]] = defaultdict(list)
    served_p50: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[int, int]] = defaultdict(dict)
    slow: set[str] = set()
    timed_out: set[str] = set()
    pool.upstream.call("fail", scenario.failing, scenario.status)
    try:
        for p in proxies:  # the first failures: what a proxy learns from them shows from now on
            failing_body = chat_body(_asked(p.setup, scenario.failing))
            first = await client.block(p.target(), failing_body, 1, 1)
            if TIMEOUT in first.errors:
                timed_out.add(p.setup.name)  # one timeout says it all; spare the time budget
            elif max(first.latencies, default=0.0) > SLOW:
                slow.add(p.setup.name)
            else:
                await client.block(p.target(), failing_body, 1, 1)
        for r in range(opts.rounds):
            for p in rotated(proxies, r):
                name = p.setup.name
                if name in slow and r >= 2:
                    continue
                n = opts.slow_fallback_requests if name in slow else opts.fallback_requests
                t = p.target()
                served_body = chat_body(_asked(p.setup, scenario.serving))
                if name in timed_out:
                    served = await client.block(t, served_body, n, 1)
                    served_p50[name].append(percentile(served.latencies, 50))
                    continue
                asked_body = chat_body(_asked(p.setup, scenario.failing))
                served, asked = await client.alternate([(t, served_body), (t, asked_body)], n)
                served_p50[name].append(percentile(served.latencies, 50))
                asked_p50[name].append(percentile(asked.latencies, 50))
                for status, count in asked.errors.items():
                    errors[name][status] = errors[name].get(status, 0) + count
    finally:
        pool.upstream.call("clear", scenario.failing)
        await client.close()
    metric = f"p50, {scenario.failing} answers {scenario.what}"
    for p in proxies:
        name = p.setup.name
        pairs = zip(asked_p50[name], served_p50[name], strict=name not in timed_out)
        value = median([ratio(a, s) for a, s in pairs])
        row = Row(
            suite, metric, name, {"asking the serving model": value}, ms(median(asked_p50[name]))
        )
        if name in timed_out:
            bound = opts.slow_timeout / median(served_p50[name])
            row.value = f"> {opts.slow_timeout:g} s"
            row.note = (
                f"no answer within the {opts.slow_timeout:g} s client timeout: > {bound:.0f}x"
            )
        elif errors[name]:
            row.note = ", ".join(
                f"{count} x {'timeout' if status == TIMEOUT else status}"
                for status, count in sorted(errors[name].items())
            )
            if all(math.isnan(a) for a in asked_p50[name]):
                row.note = "every request failed: " + row.note
        if name == "rendered":
            row.target = f"<= {FALLBACK_TARGET:g}x"
            row.met = not math.isnan(value) and value <= FALLBACK_TARGET and not errors[name]
        report.add(row)


# ----- start-up -------------------------------------------------------------------------


def _startup(pool: Pool, opts: Options, report: Report) -> None:
    suite = "4. proxy start-up"
    names = list(opts.setups)
    for r in range(opts.starts):  # interleaved: A B A B
        for name in rotated(names, r):
            if len(pool.starts[name]) <= r:
                pool.start(name).stop()
    base = "original" if "original" in names else names[0]
    for label, pick, fmt in [
        ("time to liveliness", lambda s: s.live, lambda v: f"{v:.1f} s"),
        ("time to readiness", lambda s: s.ready, lambda v: f"{v:.1f} s"),
        ("RSS per worker", lambda s: median(s.workers_mb), lambda v: f"{v:.0f} MiB"),
        ("RSS, all processes of the pod", lambda s: s.total_mb, lambda v: f"{v:.0f} MiB"),
    ]:
        for name in names:
            values = [pick(s) for s in pool.starts[name]]
            ratios = (
                {}
                if name == base
                else {base: ratio(median(values), median([pick(s) for s in pool.starts[base]]))}
            )
            workers = max(len(s.workers_mb) for s in pool.starts[name])
            note = f"{len(values)} starts" + (f", {workers} workers" if workers > 1 else "")
            report.add(Row(suite, label, name, ratios, fmt(median(values)), note=note))


# ----- entry ----------------------------------------------------------------------------


@contextlib.contextmanager
def running_pool() -> Iterator[Pool]:
    with Upstream() as upstream:
        pool = Pool(upstream)
        try:
            yield pool
        finally:
            pool.stop()


def run(suites: Sequence[str], opts: Options, report: Report) -> None:
    with running_pool() as pool:
        if "startup" in suites:
            # Sequential first starts of each set-up: clean start-up samples.
            for name in opts.setups:
                pool.get(name)
        if "overhead" in suites:
            asyncio.run(_overhead(pool, opts, report))
        if "fallback" in suites:
            asyncio.run(_fallback(pool, opts, report))
        if "startup" in suites:
            pool.stop()  # idle proxies cost little, but start-ups measure best alone
            _startup(pool, opts, report)
