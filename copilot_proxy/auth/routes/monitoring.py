"""Liveness, readiness (the store answers) and Prometheus metrics."""

from __future__ import annotations

import asyncio

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
    usages = await asyncio.gather(*(manager.usage(i) for i in infos))
    metrics.observe([(i, u) for i, (u, _) in zip(infos, usages, strict=True)], clock())
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
