"""Liveness, readiness (the store answers) and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from copilot_proxy.auth.deps import ClockDep, ManagerDep, MetricsDep, StoreDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(store: StoreDep, manager: ManagerDep) -> Response:
    await manager.call_store(store.check)
    return JSONResponse({"status": "ok", "store": store.kind})


@router.get("/metrics")
async def metrics_endpoint(
    store: StoreDep, manager: ManagerDep, metrics: MetricsDep, clock: ClockDep
) -> Response:
    infos = await manager.call_store(store.list_proxies)
    # The quota as last read in the background: a scrape never makes us call GitHub.
    metrics.observe([(i, manager.usage(i)[0]) for i in infos], clock())
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
