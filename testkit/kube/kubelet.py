"""A minimal kubelet for tests: one pod of a Deployment the operator wrote, run on this machine.

What a kubelet does for the proxy's pod, and no more:
- reads the pod template from the API server (the emulator): the container's command,
  args, env (a `secretKeyRef` is read from its Secret), volume mounts and volumes;
- projects each Secret and ConfigMap volume into a folder with the layout of kubelet's
  AtomicWriter (kubernetes/kubernetes pkg/volume/util/atomic_writer.go, `Write`): the
  data lives in a timestamped folder `..2026_12_01_10_00_00.<random>`, the symlink
  `..data` points at it, each key is a symlink `<key> -> ..data/<key>`; an update writes
  a new timestamped folder, points a new symlink `..data_tmp` at it, renames that over
  `..data` (the one atomic step), then removes the old folder. The volume's folder itself
  is never replaced, and the keys' symlinks never change;
- re-projects those volumes whenever their object changes (polled every `period`, as
  kubelet's periodic sync does, only faster), while the container keeps running;
- runs the container's process: the real `litellm` (copilot_proxy.local.proxy_process),
  with mount paths in args and env moved to the local folders, `--host`/`--port` on
  loopback and a free port (the pod's network), emptyDirs as fresh folders, and `env`
  (the test's network: GitHub URLs on the fake) replacing variables by name;
- once the startup probe's path answers, reports the Deployment ready.

It records the hash of the pod template it started and every later template that
differs (`template_changes`): a real kubelet's pod would be replaced by a rollout then.
Not done: restarts, probes after start, several pods, resource limits, users.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from copilot_proxy.local import proxy_process as pp
from testkit.kube.client import KubeClient
from testkit.ports import HOST, free_port
from testkit.proxy_harness import host_environment, start_live

Obj = dict[str, Any]
DATA_DIR = "..data"
NEW_DATA_DIR = "..data_tmp"
# A pod has only its container's environment: none of ours that the proxy would read.
POD_DROP_ENV = ("GITHUB_", "LITELLM_", "OPENAI_", "ANTHROPIC_", "COPILOT_PROXY_")


class AtomicWriter:
    """Kubelet's projection of a Secret or ConfigMap volume into `target` (see module doc)."""

    def __init__(self, target: Path, mode: int = 0o644) -> None:
        target.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.mode = mode
        self.writes = 0  # timestamped folders made: the first projection, then each swap

    def current(self) -> dict[str, bytes] | None:
        data = self.target / DATA_DIR
        if not data.is_symlink():
            return None
        folder = self.target / os.readlink(data)
        return {p.name: p.read_bytes() for p in folder.iterdir()}

    def write(self, payload: Mapping[str, bytes]) -> bool:
        """Project `payload` (flat keys); False when it is what the volume holds already."""
        old = self.current()
        if old == dict(payload):
            return False
        data = self.target / DATA_DIR
        old_folder = os.readlink(data) if old is not None else None
        stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.", time.gmtime())
        folder = Path(tempfile.mkdtemp(prefix=stamp, dir=self.target))
        folder.chmod(0o755)
        for key, content in payload.items():
            (folder / key).write_bytes(content)
            (folder / key).chmod(self.mode)
        for key in payload:  # the user-visible names, made once
            visible = self.target / key
            if not visible.is_symlink():
                visible.symlink_to(f"{DATA_DIR}/{key}")
        (self.target / NEW_DATA_DIR).symlink_to(folder.name)
        os.rename(self.target / NEW_DATA_DIR, data)
        for key in set(old or {}) - set(payload):
            (self.target / key).unlink()
        if old_folder is not None:
            shutil.rmtree(self.target / old_folder)
        self.writes += 1
        return True

    @property
    def swaps(self) -> int:
        """Updates in place after the first projection."""
        return max(self.writes - 1, 0)


def template_hash(template: Obj) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:16]


def _items(volume: Obj, data: Mapping[str, str], encoded: bool) -> dict[str, bytes]:
    """The files of a Secret/ConfigMap volume: its `items` (a missing key is skipped, as
    for an optional volume), else every key."""
    source = volume.get("secret") or volume.get("configMap") or {}
    items = source.get("items") or [{"key": k, "path": k} for k in data]
    files: dict[str, bytes] = {}
    for item in items:
        if item["key"] in data:
            value = data[item["key"]]
            files[item["path"]] = base64.b64decode(value) if encoded else value.encode()
    return files


class Kubelet:
    """`Kubelet(cluster, namespace, deployment, env=...)`; start()/stop() or a context manager."""

    def __init__(
        self,
        cluster: KubeClient,
        namespace: str,
        deployment: str,
        *,
        env: Mapping[str, str] | None = None,
        workdir: Path | None = None,
        period: float = 0.2,
    ) -> None:
        self.api = KubeClient(cluster.url, cluster.kinds)  # its own connection, as kubelet's
        self.namespace = namespace
        self.deployment = deployment
        self.env_overrides = dict(env or {})
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kubelet-"))
        self.period = period
        self.port = free_port()
        self.projected: dict[str, AtomicWriter] = {}  # volume name -> its writer
        self.mounts: dict[str, Path] = {}  # mount path in the container -> local folder
        self.template: Obj = {}
        self.template_hash = ""
        self.template_changes: list[str] = []  # hashes of later, different templates
        self.errors: list[str] = []
        self.process: pp.ProxyProcess | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return pp.local_url(HOST, self.port)

    def volume(self, name: str) -> Path:
        return self.workdir / "volumes" / name

    # -- volumes ------------------------------------------------------------------

    def _source(self, volume: Obj) -> tuple[Obj | None, bool]:
        """The volume's Secret or ConfigMap (None if absent) and whether its data is base64."""
        if "secret" in volume:
            name = volume["secret"]["secretName"]
            return self.api.get("Secret", self.namespace, name), True
        return self.api.get("ConfigMap", self.namespace, volume["configMap"]["name"]), False

    def project(self) -> None:
        """Bring every Secret/ConfigMap volume up to date with its object."""
        for volume in self.template["spec"].get("volumes") or []:
            if "secret" not in volume and "configMap" not in volume:
                continue
            obj, encoded = self._source(volume)
            data = (obj or {}).get("data") or {}
            writer = self.projected.setdefault(
                volume["name"], AtomicWriter(self.volume(volume["name"]))
            )
            writer.write(_items(volume, data, encoded))

    def _prepare_volumes(self) -> None:
        for volume in self.template["spec"].get("volumes") or []:
            if "emptyDir" in volume:
                pp.fresh_token_dir(self.volume(volume["name"]))
        self.project()
        container = self.template["spec"]["containers"][0]
        for mount in container.get("volumeMounts") or []:
            self.mounts[mount["mountPath"]] = self.volume(mount["name"])

    # -- the container ------------------------------------------------------------

    def local_path(self, value: str) -> str:
        """`value` with a container mount path moved to its local folder."""
        for mount in sorted(self.mounts, key=len, reverse=True):
            if value == mount or value.startswith(mount + "/"):
                return str(self.mounts[mount]) + value[len(mount) :]
        return value

    def argv(self, container: Obj) -> list[str]:
        argv = [*container.get("command", []), *container.get("args", [])]
        network = {"--host": HOST, "--port": str(self.port)}
        for i, arg in enumerate(argv[:-1]):
            if arg in network:
                argv[i + 1] = network[arg]
        argv = [self.local_path(a) for a in argv]
        return [pp.executable(argv[0]), *argv[1:]]

    def environment(self, container: Obj) -> dict[str, str]:
        env = host_environment(POD_DROP_ENV)
        for item in container.get("env") or []:
            name = item["name"]
            if "valueFrom" in item:
                ref = item["valueFrom"]["secretKeyRef"]
                secret = self.api.get("Secret", self.namespace, ref["name"]) or {}
                env[name] = base64.b64decode(secret["data"][ref["key"]]).decode()
            else:
                env[name] = self.local_path(item["value"])
        env.update(self.env_overrides)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout: float = pp.START_TIMEOUT) -> Kubelet:
        deployment = self.api.get("Deployment", self.namespace, self.deployment)
        assert deployment is not None, f"no Deployment {self.namespace}/{self.deployment}"
        self.template = deployment["spec"]["template"]
        self.template_hash = template_hash(self.template)
        self._prepare_volumes()
        container = self.template["spec"]["containers"][0]
        self.process = pp.ProxyProcess(
            argv=self.argv(container),
            env=self.environment(container),
            url=self.url,
            log_path=self.workdir / "pod.log",
            cwd=self.workdir,
            probe_path=container["startupProbe"]["httpGet"]["path"],
        )
        self._thread = threading.Thread(target=self._sync, name="kubelet", daemon=True)
        self._thread.start()
        start_live(self.process, timeout, self.stop)
        self.api.set_deployment_ready(self.namespace, self.deployment)
        return self

    def _sync(self) -> None:
        while not self._stop.wait(self.period):
            try:
                deployment = self.api.get("Deployment", self.namespace, self.deployment) or {}
                now = template_hash((deployment.get("spec") or {}).get("template") or {})
                if now != self.template_hash and now not in self.template_changes:
                    self.template_changes.append(now)
                self.project()
            except Exception as error:  # noted; the pod keeps running, as with kubelet
                self.errors.append(f"{type(error).__name__}: {error}"[:300])

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self.process is not None:
            self.process.stop(pp.STOP_GRACE)
        if not os.environ.get("KEEP_PROXY_WORKDIR"):
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.api.http.close()

    def log_tail(self, lines: int = 60) -> str:
        return self.process.log_tail(lines) if self.process is not None else ""

    def __enter__(self) -> Kubelet:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
