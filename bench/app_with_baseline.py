"""The app with the bare page added: `backend.main:create_app()` plus `/_baseline/page/{N}`, the same
Jinja2 page of exactly N bytes as `bench/baseline_app.py`, served by the app itself (the same middleware,
global dependencies, error handling and uvicorn). Issue #3's target compares the module page with this
page: "a bare Jinja2 page of the same size served by the same app". The load runs start the app with this
factory; the extra route exists only in the bench's servers, never in `academy serve`.

Run: uvicorn bench.app_with_baseline:create_app --factory --port 8100
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from backend.main import create_app as create_academy_app
from bench.baseline_app import MAX_BYTES, SAME_APP_PATH, page_context, templates


def create_app() -> FastAPI:
    app = create_academy_app()

    # A plain `def`, as the app's page handlers and the separate baseline's are.
    @app.get(SAME_APP_PATH, include_in_schema=False)
    def bare_page(request: Request, size: int) -> Response:
        if not 0 <= size <= MAX_BYTES:
            return JSONResponse({"detail": "size out of range"}, status_code=400)
        name, context = page_context(size)
        return templates.TemplateResponse(request, name, dict(context))

    return app
