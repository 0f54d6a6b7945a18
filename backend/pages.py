"""Public pages that belong to no single domain: the home page, language switch and health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from backend import schema
from backend.accounts.deps import OptionalUser
from backend.web import redirect, render

router = APIRouter()


@router.get("/")
def home(request: Request, user: OptionalUser) -> Response:
    return render(request, "pages/home.html")


@router.get("/language")
def switch_language(request: Request, lang: str = "zh_CN", next: str = "/") -> Response:
    """The middleware has already stored ?lang= in the cookie; go back where the person was."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    return redirect(request, target)


@router.get("/healthz", include_in_schema=False)
def healthz(request: Request) -> Response:
    try:
        ready = schema.is_up_to_date(request.app.state.engine)
    except Exception:
        ready = False
    if not ready:
        return JSONResponse({"status": "migrations pending"}, status_code=503)
    return JSONResponse({"status": "ok"})
