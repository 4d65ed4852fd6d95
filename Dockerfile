# One image for the operator, the login service and the LiteLLM proxy:
#   copilot-proxy operator | copilot-proxy auth-service | litellm --config ...
# (the default command is the operator; Kubernetes manifests set `command`).
# `docker build .` builds it (the last stage). A second image, the target `mcp`
# (`docker build --target mcp .`), runs the MCP servers the operator deploys:
# Node.js, the stdio-to-HTTP bridge and the servers of npm/package-lock.json.
#
# The install step is `make install-runtime`, the same target the test suite
# runs into a fresh virtualenv (tests/image/): the hash-pinned runtime lock,
# then the project without dependencies.
#
# The base image is pinned by the digest of its multi-platform index (so
# linux/amd64 and linux/arm64 builds each get their own variant of the same
# release): python:3.12-slim-bookworm, Python 3.12.14, built 2026-08-25, as
# recorded by Docker's docker-library/repo-info (repos/python/remote/
# 3.12-slim-bookworm.md at commit 33a22f41ac7bf613bc03380b0317536a9a7fb5e8,
# "Manifest MIME: application/vnd.oci.image.index.v1+json"). To move it: read
# the tag's new index digest there (or `docker buildx imagetools inspect`) and
# change both FROM lines. Python 3.12 is one of the versions the lock serves.

FROM python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579 AS builder

# make runs the install target; everything the lock holds is a wheel, so no
# compiler is needed (and none reaches the final stage anyway).
RUN apt-get update \
    && apt-get install -y --no-install-recommends make=4.3-4.1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Makefile pyproject.toml README.md ./
COPY requirements/runtime.txt requirements/overrides.txt requirements/check_installed.py requirements/
COPY copilot_proxy/ copilot_proxy/
RUN make install-runtime TARGET=/opt/venv

# The MCP image: the locked npm packages baked in, so a cluster without
# registry access runs exactly what the lock names (no `npx` at start). Only
# `dependencies` (the MCP servers and supergateway); the test tools are
# devDependencies. Base: node:22-bookworm-slim, Node.js 22.23.2, built
# 2026-09-19, index digest from docker-library/repo-info
# (repos/node/remote/22-bookworm-slim.md at commit
# 3179cb4d576b9929bf86873c87f279ac67661c6e, "Manifest MIME:
# application/vnd.oci.image.index.v1+json"; linux/amd64 and linux/arm64).
FROM node:22-bookworm-slim@sha256:48e4b67d85f87bd551df43704e24d252f56cc5f8e9718841aace50f19948f0f9 AS mcp

WORKDIR /opt/mcp
COPY npm/package.json npm/package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
    && npm cache clean --force

# Read-only root filesystem at runtime: HOME is an emptyDir at /tmp. The pod
# runs `supergateway --stdio "<server>" ...` (copilot_proxy/core/mcp_workloads.py).
ENV PATH=/opt/mcp/node_modules/.bin:$PATH \
    HOME=/tmp \
    NODE_ENV=production
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
ENTRYPOINT []
CMD ["supergateway", "--help"]

FROM python:3.12-slim-bookworm@sha256:0f5b26b9518d002b6173fd61daad821fa340635ebfec5bba471013f9ca114579

# Writable paths are emptyDirs at runtime (the root filesystem is read-only):
# HOME points into /tmp.
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LITELLM_LOCAL_MODEL_COST_MAP=True

RUN groupadd --system --gid 10001 copilot \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
       --shell /usr/sbin/nologin copilot

COPY --from=builder /opt/venv /opt/venv

USER 10001:10001
WORKDIR /tmp
# 4000: LiteLLM proxy, 4001: login service, 8080: operator metrics, 8081: operator health.
EXPOSE 4000 4001 8080 8081
CMD ["copilot-proxy", "operator"]
