"""create_app(): settings, database, middleware, routers, static files and error pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from backend import maintenance, pages
from backend.accounts import reset_routes
from backend.accounts import routes as accounts_routes
from backend.admin import routes as admin_routes
from backend.certificates import seal as certificate_seal
from backend.certificates.routes import routers as certificate_routers
from backend.cohorts.routes import routers as cohort_routers
from backend.config import Settings, get_settings
from backend.courses import authoring_routes
from backend.courses import routes as courses_routes
from backend.db import REQUEST_THREADS, make_engine, write_queue, writer_engine
from backend.errors import DomainError, LoginRequired
from backend.exams.routes import routers as exam_routers
from backend.i18n import _
from backend.jobs import routes as jobs_routes
from backend.jobs.after_commit import AfterCommitMiddleware
from backend.jobs.service import resume_stale_in_background
from backend.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from backend.notifications import routes as notifications_routes
from backend.renewal.routes import routers as renewal_routers
from backend.roster.routes import routers as roster_routers
from backend.web import load_user_for_page, login_url, render, templates, verify_csrf

STATIC_DIR = Path(__file__).parent / "static"
log = logging.getLogger("academy")


@asynccontextmanager
async def _lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # Handlers and dependencies written as `def` run in anyio's thread pool; as many threads as each
    # process has database connections (backend/db.py), so a burst queues for a thread, not for a
    # connection (whose wait ends in an error after the pool timeout).
    anyio.to_thread.current_default_thread_limiter().total_tokens = REQUEST_THREADS
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Broker Academy API",
        version="1",
        dependencies=[Depends(verify_csrf)],
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    # Re-reading templates from disk on every render is for development only (it costs ~1 ms a page).
    templates.env.auto_reload = settings.env == "development"
    app.state.engine = make_engine(settings.database_url)
    app.state.writer_engine = writer_engine(app.state.engine)
    app.state.write_queue = write_queue(app.state.engine)

    app.add_middleware(
        RequestContextMiddleware, secret=settings.secret_key, secure_cookies=settings.is_production
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production)
    app.add_middleware(AfterCommitMiddleware)  # mail and jobs a request queued start once it has committed
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    for router in (
        pages.router,
        accounts_routes.router,
        accounts_routes.api,
        admin_routes.router,
        courses_routes.router,
        courses_routes.api,
        authoring_routes.router,
        reset_routes.router,
        notifications_routes.router,
        jobs_routes.router,
        jobs_routes.api,
        *cohort_routers,
        *exam_routers,
        certificate_seal.router,  # before /admin/certificates/{number}
        *certificate_routers,
        *roster_routers,
        *renewal_routers,
    ):
        app.include_router(router)
    _install_error_pages(app)
    if settings.run_jobs_on_startup:
        resume_stale_in_background(app.state.engine, settings)
        maintenance.start(app.state.engine, settings)  # exam sweep, outbox, expiry reminders
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status_code: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status_code)
    load_user_for_page(request)  # the request's own session is rolled back and closed by now
    template = f"errors/{status_code}.html" if status_code in (403, 404, 500) else "errors/error.html"
    return render(
        request, template, {"status_code": status_code, "message": message}, status_code=status_code
    )


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": _("Not signed in.")}, status_code=401)
        from fastapi.responses import RedirectResponse

        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": login_url(target)})
        return RedirectResponse(login_url(target), status_code=303)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _error_page(request, exc.status_code, exc.message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        messages = {404: _("This page does not exist."), 405: _("This action is not allowed here.")}
        message = exc.detail if isinstance(exc.detail, str) and exc.status_code not in messages else ""
        return _error_page(
            request, exc.status_code, message or messages.get(exc.status_code, str(exc.detail))
        )

    @app.exception_handler(OverflowError)
    async def id_out_of_range(request: Request, _exc: OverflowError) -> Response:
        # An id larger than the database's integer (from a typed URL or a fuzzer) names no record.
        return _error_page(request, 404, _("This page does not exist."))

    @app.exception_handler(DataError)
    async def database_rejected_value(request: Request, _exc: DataError) -> Response:
        return _error_page(request, 404, _("This page does not exist."))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": jsonable(exc.errors())}, status_code=422)
        return _error_page(
            request, 400, _("The request was not complete or not valid. Go back and check it.")
        )

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        message = _(
            "Something went wrong on our side. Please try again; if it keeps happening, tell the training base."
        )
        return _error_page(request, 500, message)


def jsonable(errors: object) -> object:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)
