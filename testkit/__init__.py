"""Test support shared by tests/ and bench/ (not shipped in the wheel).

- `fake_github`: the fake GitHub + Copilot server (OAuth device flow, token
  exchange, the Copilot API), in a thread of its own.
- `kube`: the Kubernetes API server emulator (kmock behind one adapter), its
  sync client for tests, injected faults, and kopf run in a thread.
- `proxy_harness`: the real `litellm` proxy process, started as its Deployment runs it.
- `ports`: free local ports; `waiting`: polling until something is true.

pytest fixtures built on these live in tests/ (tests/*/plugin.py).
"""
