"""Liveness, readiness and metrics: open to probes and scrapers, no API key."""

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.migrations import head_revision

router = APIRouter(tags=["Health"])

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# What a ready service also reports (the wiring registers them in ``app.state``): a name and a
# read in the caller's session, e.g. the audit sealer's backlog.
ReadinessReport = Callable[[AsyncSession], Awaitable[dict[str, Any]]]


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and its schema is at the latest migration")
async def readyz(request: Request) -> JSONResponse:
    expected = head_revision()
    try:
        async with request.app.state.engine.connect() as connection:
            current = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).scalar()
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable", "detail": type(exc).__name__},
            status_code=503,
        )
    if current != expected:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "migration": current, "expected": expected},
            status_code=503,
        )
    body: dict[str, Any] = {"status": "ok", "database": "ok", "migration": current}
    async with request.app.state.sessionmaker() as session:
        for name, report in request.app.state.readiness_reports.items():
            body[name] = await report(session)
    return JSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
