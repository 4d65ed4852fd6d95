"""Benchmarks (`make bench`, i.e. `python -m bench`): not tests, nothing here asserts a time.

Suites, each printed as a table of ratios against a baseline measured in the
same run (interleaved where the baseline can run alongside):
1. overhead  - the proxy with our rendered config vs direct calls to the fake
               Copilot vs the original setup's config: p50/p99 at 1 and 16
               clients, throughput, streaming time to first token, proxy CPU.
2. fallback  - steady-state latency when the primary answers 402, as a ratio to
               asking the serving model directly through the same proxy.
3. operator  - the operator (`copilot-proxy operator`, a subprocess) against the
               Kubernetes emulator: reaction to a CopilotProxy change and to a
               token Secret change; 200 proxies from a cold start, peak RSS.
4. startup   - proxy time to liveliness/readiness and RSS per worker.
5. cost      - premium requests and AI credits of a Claude Code-shaped session
               through the proxy vs the same requests from a client that sets
               X-Initiator ideally; premium requests per prompt of the real
               Claude Code CLI (`claude -p` and interactive).

Reuses the project's test set-up, testkit/: testkit.fake_github (the fake GitHub +
Copilot), testkit.proxy_harness (the real `litellm` process as the Deployment runs
it) and testkit.kube (the emulated API server). See docs/benchmarks.md.
"""
