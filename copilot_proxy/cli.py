"""`copilot-proxy`: one command for every part of the product.

copilot-proxy render -f cr.yaml        the LiteLLM config the operator would deploy
copilot-proxy run -f cr.yaml           the product on this machine (login page + proxy)
copilot-proxy operator [--namespace]   the Kubernetes operator
copilot-proxy auth-service [...]       the GitHub login service
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from copilot_proxy.core import render
from copilot_proxy.core.github import GitHubConfigError, hosts_from
from copilot_proxy.core.manifest import ManifestError
from copilot_proxy.local.manifest_file import load_manifest


def _render(args: argparse.Namespace) -> int:
    spec = load_manifest(Path(args.file), hosts_from(args.github_host, os.environ))
    sys.stdout.write(render.config_text(spec))
    return 0


def _operator(args: argparse.Namespace) -> int:
    import kopf

    from copilot_proxy.operator.handlers import registry

    os.environ.setdefault("COPILOT_PROXY_METRICS_PORT", str(args.metrics_port))
    os.environ["COPILOT_PROXY_HEALTH_PORT"] = str(args.health_port)  # /healthz, /readyz
    if args.namespace:
        os.environ["COPILOT_PROXY_NAMESPACED"] = ",".join(args.namespace)
    kopf.configure(verbose=args.verbose)
    kopf.run(
        registry=registry,
        standalone=True,
        clusterwide=not args.namespace,
        namespaces=args.namespace or (),
    )
    return 0


def _auth_service(args: argparse.Namespace) -> int:
    from copilot_proxy.auth.app import make_store, serve

    store = make_store(args.store, args.token_dir, args.namespace or [])
    serve(store, host=args.host, port=args.port)
    return 0


def _run(args: argparse.Namespace) -> int:
    from copilot_proxy.local.main import run_local

    return run_local(Path(args.file), args)


def _github_host_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--github-host",
        action="append",
        default=[],
        metavar="NAME[=WEB_URL,API_URL]",
        help="a GitHub host spec.github.host may name (repeat; default: github.com, or the"
        " JSON list in COPILOT_PROXY_GITHUB_HOSTS); URLs default to https://NAME and"
        " https://api.NAME",
    )


def _claim_folder(value: str) -> tuple[str, Path]:
    claim, sep, folder = value.partition("=")
    if not sep or not claim or not folder:
        raise argparse.ArgumentTypeError(f"{value!r}: write CLAIM=DIR, e.g. team-docs=./docs")
    return claim, Path(folder).resolve()


def _run_flags(p: argparse.ArgumentParser) -> None:
    """The flags of `copilot-proxy run`."""
    p.add_argument("-f", "--file", required=True, help="a CopilotProxy YAML manifest")
    p.add_argument(
        "--state-dir",
        default=".copilot-proxy",
        help="folder for the GitHub token, master key and logs (default: %(default)s)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address both listen on (default: %(default)s, this machine only)",
    )
    p.add_argument(
        "--proxy-port", type=int, default=4000, help="the proxy's port (default: %(default)s)"
    )
    p.add_argument(
        "--auth-port", type=int, default=4001, help="the login page's port (default: %(default)s)"
    )
    _github_host_flag(p)
    p.add_argument(
        "--mcp-volume",
        action="append",
        type=_claim_folder,
        metavar="CLAIM=DIR",
        help="the folder standing for an MCP server's PersistentVolumeClaim (repeat;"
        " default: <state-dir>/mcp/volumes/<claim>)",
    )
    p.add_argument(
        "--github-app-key",
        metavar="FILE",
        help="the GitHub App's private key (PEM) when the manifest declares"
        " spec.credential.githubApp: the proxy's installation tokens are minted and renewed"
        " with it, nobody signs in (spec.credential.githubApp.privateKeySecretRef is the"
        " operator's and is ignored here)",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="copilot-proxy", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("render", help="print the LiteLLM config for a CopilotProxy manifest")
    p.add_argument("-f", "--file", required=True, help="a CopilotProxy YAML manifest")
    _github_host_flag(p)
    p.set_defaults(func=_render)

    p = sub.add_parser("run", help="run the login page and the proxy on this machine")
    _run_flags(p)
    p.set_defaults(func=_run)

    p = sub.add_parser("operator", help="run the Kubernetes operator")
    p.add_argument("--namespace", action="append", help="watch only this namespace (repeat)")
    p.add_argument("--metrics-port", type=int, default=8080)
    p.add_argument("--health-port", type=int, default=8081)
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=_operator)

    p = sub.add_parser("auth-service", help="run the GitHub login service")
    p.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a pod's own interface
    p.add_argument("--port", type=int, default=4001)
    p.add_argument("--store", choices=["kubernetes", "directory"], default="kubernetes")
    p.add_argument("--token-dir", default=None, help="with --store directory: the folder")
    p.add_argument("--namespace", action="append", help="serve proxies of this namespace")
    p.set_defaults(func=_auth_service)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (ManifestError, GitHubConfigError) as error:
        print(f"copilot-proxy: {error}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
