"""create_app(): wiring only: routers, middleware, error handlers, lifespan."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.apikeys.service import authenticate
from app.audit import sealing
from app.audited import AUDITED_TABLES
from app.core.body_guard import install_body_guard
from app.core.coalesce import close_coalesced_reads
from app.core.common_responses import install_common_responses
from app.core.config import Settings, get_settings
from app.core.db import RequestSessions, create_engine, create_sessionmaker
from app.core.handlers import install_error_handlers
from app.core.health import router as health_router
from app.core.logging import configure_logging, get_logger
from app.core.middleware import RequestContextMiddleware
from app.docs import TAGS, install_docs
from app.events.webhooks import dispatch
from app.reports.dashboard.pages import install_dashboard
from app.routers import API_ROUTERS
from app.workers import background_workers

API_PREFIX = "/api/v1"

DESCRIPTION = """
Post-trade back office: trades from the front office are validated and booked, then confirmed,
cleared and settled. Click **Authorize** and paste an API key (`make run` prints one per role).

Money, prices and quantities are exact decimals sent as JSON strings (`"1234.50"`). Errors are
RFC 9457 `application/problem+json`. Creating POSTs take an `Idempotency-Key`; amendments take
`If-Match` with the version you read.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine, audit_trail=settings.audit_trail)
        if not settings.audit_trail:
            get_logger(__name__).warning(
                "audit_trail_disabled", detail="changes leave no audit record: benchmarks only"
            )
        # What start-up built lives as long as the process: keep the cyclic collector from
        # walking it again at every full collection (a settlement run triggers many).
        gc.collect()
        gc.freeze()
        async with background_workers(settings, engine, app.state.sessionmaker):
            yield
        await close_coalesced_reads(engine)
        await engine.dispose()

    app = FastAPI(
        title="Settlement back office",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.readiness_reports = {"audit": sealing.readiness, "webhooks": dispatch.backlog}
    app.state.authenticate = authenticate
    app.state.audited_tables = AUDITED_TABLES
    app.add_middleware(RequestSessions)  # innermost: sessions close inside the request context
    install_body_guard(app, settings, prefix=API_PREFIX)  # inside the request context
    app.add_middleware(RequestContextMiddleware)
    install_error_handlers(app)
    install_docs(app)
    install_common_responses(app, prefix=API_PREFIX)
    install_dashboard(app)
    app.include_router(health_router)
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    return app
