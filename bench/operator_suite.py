"""The operator against the Kubernetes emulator: reaction times, cold start, memory.

The operator is the real command (`copilot-proxy operator`, as the chart runs
it) in a subprocess, pointed at testkit.kube's emulated API server through
COPILOT_PROXY_KUBE_API; the benchmark sees the cluster through a watch, as
`kubectl get -w` would, so a reaction is timed from the PATCH that caused it to
the watch event that shows it.

Baselines of the same run:
- reactions: the API round trip, a PATCH of a plain Deployment until the watch
  shows it (the floor of any reaction: one write, one watch event), interleaved
  with the measured changes;
- cold start: the benchmark writing the same children itself (ConfigMap, two
  Secrets, Service, Deployment, status for each proxy) to a fresh emulator;
- memory: the operator's RSS once started against an empty cluster.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from bench.configs import SPEC
from bench.report import Report, Row, median, ms, percentile, ratio
from copilot_proxy.core import manifests, names, render, rollout, token_secret
from copilot_proxy.core.spec import parse_spec
from testkit.kube import KubeCluster
from testkit.ports import free_port

REACTION_TARGET = 1.0  # seconds, p50
NS = "default"
CPX = "CopilotProxy"
IMAGE = "registry.test/copilot-proxy:bench"

Obj = dict[str, Any]


@dataclass
class Options:
    changes: int = 50
    proxies: int = 200
    timeout: float = 30.0  # seconds to wait for one reaction
    out: Path = Path("test-output/bench")
    env: dict[str, str] = field(default_factory=dict)  # extra operator environment


# ----- the operator process -------------------------------------------------------------


class OperatorProcess:
    """`copilot-proxy operator` against `api`, with free metrics and health ports."""

    def __init__(self, api: str, log_path: Path, env: dict[str, str]) -> None:
        self.api = api
        self.log_path = log_path
        self.extra_env = env
        self.health_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.ready_seconds = 0.0

    def start(self, wait: bool = True) -> OperatorProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_PROXY_")}
        env |= {
            "COPILOT_PROXY_KUBE_API": self.api,
            "COPILOT_PROXY_IMAGE": IMAGE,
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        argv = [
            str(Path(sys.executable).with_name("copilot-proxy")),
            "operator",
            "--metrics-port",
            str(free_port()),
            "--health-port",
            str(self.health_port),
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """kopf's liveness endpoint answers once the operator runs its watches."""
        assert self.proc is not None
        url = f"http://127.0.0.1:{self.health_port}/healthz"
        with httpx.Client(timeout=2) as client:
            while time.monotonic() - self.started < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"operator exited: {self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get(url).status_code == 200:
                        self.ready_seconds = time.monotonic() - self.started
                        return
                time.sleep(0.05)
        raise TimeoutError(f"operator not live after {timeout} s: {self.log_tail()}")

    def memory(self) -> procs.Memory:
        assert self.proc is not None
        return procs.memory(self.proc.pid)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        procs.reap(self.proc, 15)
        self.proc = None


# ----- watching the cluster -------------------------------------------------------------


class Watch:
    """A watch on one collection in a thread; waiters get the time an event arrived."""

    def __init__(self, cluster: KubeCluster, kind: str, namespace: str | None = NS) -> None:
        self.url = cluster.url + cluster.path(kind, namespace)
        self.events: list[tuple[float, str, Obj]] = []  # (arrival, type, object)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._run, name="bench-watch", daemon=True)

    def start(self) -> Watch:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                params = {"watch": "true", "allowWatchBookmarks": "false"}
                with self._client.stream("GET", self.url, params=params) as answer:
                    for line in answer.iter_lines():
                        if self._stop.is_set():
                            return
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        with self._cond:
                            self.events.append(
                                (time.monotonic(), event.get("type", ""), event.get("object") or {})
                            )
                            self._cond.notify_all()

    def wait(self, match: Callable[[Obj], bool], since: float, timeout: float) -> float | None:
        """The arrival time of the first event after `since` whose object matches."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                for arrival, _, obj in self.events[seen:]:
                    if arrival >= since and match(obj):
                        return arrival
                seen = len(self.events)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def stop(self) -> None:
        self._stop.set()
        self._client.close()  # ends the blocking read


def _template_annotation(key: str) -> Callable[[Obj], str]:
    def read(obj: Obj) -> str:
        template = (obj.get("spec") or {}).get("template") or {}
        return str(((template.get("metadata") or {}).get("annotations") or {}).get(key, ""))

    return read


def _named(name: str, check: Callable[[Obj], bool]) -> Callable[[Obj], bool]:
    return lambda obj: (obj.get("metadata") or {}).get("name") == name and check(obj)


def _changed(read: Callable[[Obj], str], old: str) -> Callable[[Obj], bool]:
    return lambda obj: read(obj) not in ("", old)


def _annotation_is(key: str, value: str) -> Callable[[Obj], bool]:
    return lambda obj: ((obj.get("metadata") or {}).get("annotations") or {}).get(key) == value


def proxy_manifest(name: str, namespace: str = NS, **spec: Any) -> Obj:
    return {
        "apiVersion": "copilot-proxy.dev/v1alpha1",
        "kind": CPX,
        "metadata": {"name": name, "namespace": namespace},
        "spec": {**SPEC, **spec},
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _token(i: int) -> str:
    return f"gho_bench{i:06d}" + "x" * 26


# ----- reactions ------------------------------------------------------------------------


@dataclass
class Reactions:
    ping: list[float] = field(default_factory=list)
    spec: list[float] = field(default_factory=list)
    token: list[float] = field(default_factory=list)
    missed: dict[str, int] = field(default_factory=dict)


def _reactions(cluster: KubeCluster, opts: Options) -> tuple[Reactions, procs.Memory]:
    """Reaction times, and the operator's RSS once live against an (almost) empty cluster."""
    name = "react"
    deployment = names.deployment(name)
    secret = names.token_secret(name)
    config_hash = _template_annotation(names.CONFIG_HASH)
    token_hash = _template_annotation(names.TOKEN_HASH)
    result = Reactions()
    # The ping target: a Deployment no operator manages (kopf sees it, no handler runs).
    cluster.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "bench-ping", "namespace": NS},
            "spec": {"template": {"metadata": {"annotations": {}}}},
        }
    )
    watch = Watch(cluster, "Deployment").start()
    operator = OperatorProcess(cluster.url, opts.out / "operator-reactions.log", opts.env)
    operator.start()
    idle = operator.memory()
    try:
        began = time.monotonic()
        cluster.create(proxy_manifest(name))
        if watch.wait(_named(deployment, lambda o: bool(config_hash(o))), began, 60) is None:
            raise RuntimeError(f"no Deployment for the first proxy:\n{operator.log_tail()}")
        cluster.patch("Secret", NS, secret, {"data": {names.TOKEN_KEY: _b64(_token(0))}})
        if watch.wait(_named(deployment, lambda o: bool(token_hash(o))), began, 60) is None:
            raise RuntimeError(f"no token rollout:\n{operator.log_tail()}")
        time.sleep(1.0)  # let the start-up reconciliations settle

        def timed(path_change: tuple[str, str, Obj], done: Callable[[Obj], bool]) -> float | None:
            kind, obj_name, patch = path_change
            t0 = time.monotonic()
            cluster.patch(kind, NS, obj_name, patch)
            arrival = watch.wait(done, t0, opts.timeout)
            return None if arrival is None else arrival - t0

        live = cluster.get("Deployment", NS, deployment) or {}
        last_config, last_token = config_hash(live), token_hash(live)
        for i in range(1, opts.changes + 1):
            ping = timed(
                ("Deployment", "bench-ping", {"metadata": {"annotations": {"ping": str(i)}}}),
                _named("bench-ping", _annotation_is("ping", str(i))),
            )
            spec_change = timed(
                # Every value renders another config, hence another pod template.
                (CPX, name, {"spec": {"router": {"timeoutSeconds": 600 + i}}}),
                _named(deployment, _changed(config_hash, last_config)),
            )
            last_config = config_hash(cluster.get("Deployment", NS, deployment) or {})
            _pause()
            token_change = timed(
                ("Secret", secret, {"data": {names.TOKEN_KEY: _b64(_token(i))}}),
                _named(deployment, _changed(token_hash, last_token)),
            )
            last_token = token_hash(cluster.get("Deployment", NS, deployment) or {})
            for label, value, bucket in [
                ("ping", ping, result.ping),
                ("spec", spec_change, result.spec),
                ("token", token_change, result.token),
            ]:
                if value is None:
                    result.missed[label] = result.missed.get(label, 0) + 1
                else:
                    bucket.append(value)
            _pause()
    finally:
        watch.stop()
        operator.stop()
    return result, idle


def _pause() -> None:
    # A random gap: changes never fall in step with the operator's timers.
    time.sleep(random.uniform(0.05, 0.3))


# ----- cold start -----------------------------------------------------------------------


def _direct_writes(count: int) -> float:
    """Seconds for the benchmark itself to write what the operator writes for `count` proxies."""
    with KubeCluster() as cluster:
        for i in range(count):
            cluster.create(proxy_manifest(f"cpx-{i:03d}"))
        began = time.monotonic()
        for i in range(count):
            name = f"cpx-{i:03d}"
            live = cluster.get(CPX, NS, name) or {}
            spec = parse_spec(name, NS, live.get("spec") or {})
            owner = manifests.owner_reference(name, live["metadata"].get("uid", ""))
            text = render.config_text(spec)
            annotations = rollout.pod_annotations(render.config_hash(text), rollout.token_hash(""))
            for obj in (
                manifests.master_key_secret(spec, "sk-" + "k" * 48, owner),
                token_secret.empty(spec, owner),
                manifests.config_map(spec, text, owner),
                manifests.service(spec, owner),
                manifests.deployment(
                    spec, image=IMAGE, replicas=0, pod_annotations=annotations, owner=owner
                ),
            ):
                cluster.create(obj)
            cluster.patch(
                CPX, NS, name, {"status": {"observedGeneration": 1, "phase": "Bench"}}, "status"
            )
        return time.monotonic() - began


@dataclass
class ColdStart:
    seconds: float  # operator process start -> every proxy has children and a status
    first: float  # operator process start -> the first proxy done (start-up of the process)
    done: int
    peak_rss: float


def _cold_start(opts: Options) -> ColdStart:
    count = opts.proxies
    with KubeCluster() as cluster:
        for i in range(count):
            cluster.create(proxy_manifest(f"cpx-{i:03d}"))
        watch = Watch(cluster, CPX).start()
        operator = OperatorProcess(cluster.url, opts.out / "operator-cold-start.log", opts.env)
        done: dict[str, float] = {}
        try:
            operator.start(wait=False)
            began = operator.started
            deadline = began + max(120.0, count * 1.0)
            seen = 0
            while len(done) < count and time.monotonic() < deadline:
                with watch._cond:
                    if seen == len(watch.events):
                        watch._cond.wait(0.5)
                    fresh = watch.events[seen:]
                    seen = len(watch.events)
                for arrival, _, obj in fresh:
                    status = obj.get("status") or {}
                    meta = obj.get("metadata") or {}
                    if status.get("observedGeneration") == meta.get("generation"):
                        done.setdefault(str(meta.get("name")), arrival)
            peak = operator.memory().peak_mb
        finally:
            watch.stop()
            operator.stop()
    times = sorted(done.values()) or [math.nan]
    return ColdStart(times[-1] - began, times[0] - began, len(done), peak)


# ----- entry ----------------------------------------------------------------------------


def run(opts: Options, report: Report) -> None:
    suite = "3. operator (copilot-proxy operator against the Kubernetes emulator)"
    with KubeCluster() as cluster:
        reactions, idle = _reactions(cluster, opts)
    base = median(reactions.ping)
    for label, values, key in [
        ("CopilotProxy change -> new pod template", reactions.spec, "spec"),
        ("token Secret change -> rollout (new token-hash)", reactions.token, "token"),
    ]:
        p50, p99 = percentile(values, 50), percentile(values, 99)
        missed = reactions.missed.get(key, 0)
        note = f"{len(values)} changes" + (
            f", {missed} not seen in {opts.timeout:g} s" if missed else ""
        )
        report.add(
            Row(
                suite,
                f"{label}, p50",
                "operator",
                {"API round trip": ratio(p50, base)},
                ms(p50),
                f"p50 <= {REACTION_TARGET:g} s",
                met=p50 <= REACTION_TARGET and not missed,
                note=note,
            )
        )
        report.add(
            Row(
                suite,
                f"{label}, p99",
                "operator",
                {"API round trip": ratio(p99, percentile(reactions.ping, 99))},
                ms(p99),
            )
        )
    report.add(Row(suite, "API round trip (PATCH -> watch event), p50", "emulator", {}, ms(base)))
    cold = _cold_start(opts)
    direct = _direct_writes(opts.proxies)
    report.add(
        Row(
            suite,
            f"{opts.proxies} CopilotProxies from a cold start: total",
            "operator",
            {"direct writes": ratio(cold.seconds, direct)},
            f"{cold.seconds:.1f} s",
            note=f"{cold.done}/{opts.proxies} reconciled; first after {cold.first:.1f} s "
            f"(process start-up); direct writes {direct:.1f} s",
        )
    )
    report.add(
        Row(
            suite,
            f"{opts.proxies} CopilotProxies: operator peak RSS",
            "operator",
            {"idle operator": ratio(cold.peak_rss, idle.rss_mb)},
            f"{cold.peak_rss:.0f} MiB",
            note=f"idle: {idle.rss_mb:.0f} MiB",
        )
    )
    report.facts["operator samples"] = (
        f"{opts.changes} changes of each kind, interleaved with API round trips; "
        f"{opts.proxies} proxies from a cold start"
    )
