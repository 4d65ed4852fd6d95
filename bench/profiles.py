"""Where a proxy's time goes: py-spy's raw stacks (`--py-spy`) summed into a few buckets.

`python -m bench.profiles test-output/bench/profile-rendered.txt` prints the
share of samples per bucket; a sample counts for the first bucket whose frame
is on its stack, in the order below (the inner buckets first).
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (bucket, a function name on the stack), innermost parts of a request first.
BUCKETS: list[tuple[str, str]] = [
    ("auth: LiteLLM's OTel import, failing on every request", "_seed_request_destinations"),
    ("auth: key check and common checks (user_api_key_auth)", "user_api_key_auth"),
    ("pre-call processing (proxy request data, hooks)", "_pre_call_with_fallbacks"),
    ("cost and usage bookkeeping (cost map, TPM/RPM counters)", "completion_cost"),
    ("cost and usage bookkeeping (cost map, TPM/RPM counters)", "_increment_deployment_usage"),
    ("success logging and callbacks", "async_success_handler"),
    ("the upstream HTTP call (openai SDK, httpx, aiohttp)", "AsyncAPIClient.post"),
    ("router and LiteLLM's call plumbing (acompletion)", "Router.acompletion"),
    ("request building in LiteLLM's thread pool", "_WorkItem.run"),
    ("HTTP server and ASGI middleware (uvicorn, starlette, LiteLLM)", "run_asgi"),
    ("event loop, other tasks", "Runner.run"),
]


def summarize(path: Path) -> list[tuple[str, float]]:
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        names = [frame.split(" (", 1)[0] for frame in stack.split(";")]
        bucket = next((b for b, fn in BUCKETS if any(name.endswith(fn) for name in names)), "other")
        counts[bucket] += int(n)
    order = [*dict.fromkeys(b for b, _ in BUCKETS), "other"]
    return [(b, 100.0 * counts[b] / total) for b in order if total and counts[b]]


def main(argv: list[str]) -> int:
    for arg in argv:
        print(arg)
        for bucket, share in summarize(Path(arg)):
            print(f"  {share:5.1f}%  {bucket}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
