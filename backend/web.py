"""Template rendering (a whole page, or one named block of it for htmx), flash messages and redirects."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks

from backend import i18n
from backend.security import CSRF_FIELD, sign_value, unsign_value

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
FLASH_COOKIE = "academy_flash"

templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
)
templates.env.globals["html_lang"] = lambda: i18n.HTML_LANG[i18n.current_locale.get()]
templates.env.globals["current_locale"] = lambda: i18n.current_locale.get()
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD
_csrf_for_render: ContextVar[str] = ContextVar("csrf_for_render", default="")
templates.env.globals["current_csrf_token"] = lambda: _csrf_for_render.get()


def is_htmx(request: Request) -> bool:
    """True for a real htmx swap; a history restore also sends HX-Request but wants the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """The whole page, or only `block` when an htmx request targets the element of that id."""
    ctx = base_context(request)
    _csrf_for_render.set(ctx["csrf_token"])
    ctx.update(context or {})
    if block is not None and is_htmx(request) and request.headers.get("HX-Target") == block:
        response = templates.TemplateResponse(
            request, template, ctx, block_name=block, status_code=status_code
        )
    else:
        response = templates.TemplateResponse(request, template, ctx, status_code=status_code)
    if ctx["flashes"]:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def base_context(request: Request) -> dict[str, Any]:
    """What every page's template reads besides its own context: who is signed in, the CSRF token, flash
    messages, settings, the path and the paths this build serves."""
    if not hasattr(request.state, "user"):
        load_user_for_page(request)
    return {
        "user": getattr(request.state, "user", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "flashes": _read_flashes(request),
        "settings": request.app.state.settings,
        "request_path": request.url.path,
        "known_paths": known_paths(request),
    }


@contextmanager
def using_csrf_token(token: str) -> Iterator[None]:
    """Renders inside this block see `token` from the templates' `current_csrf_token()`."""
    reset = _csrf_for_render.set(token)
    try:
        yield
    finally:
        _csrf_for_render.reset(reset)


def load_user_for_page(request: Request) -> None:
    """For pages whose handler did not ask who is signed in (and for error pages, whose request session is
    already closed): look the user up in a short session of its own, so every page shows the same navigation."""
    from sqlmodel import Session

    from backend.accounts.deps import get_optional_user

    request.state.user = None
    try:
        with Session(request.app.state.engine) as session:
            get_optional_user(request, session, request.app.state.settings)
    except Exception:
        request.state.user = None


def known_paths(request: Request) -> frozenset[str]:
    """Paths the app serves, so navigation only links to pages that exist in this build."""
    cached = getattr(request.app.state, "known_paths", None)
    if cached is None:
        from fastapi.routing import iter_route_contexts

        cached = frozenset(context.path for context in iter_route_contexts(request.app.routes))
        request.app.state.known_paths = cached
    return cached  # type: ignore[no-any-return]


def redirect(request: Request, url: str, *, flash: str | None = None, category: str = "success") -> Response:
    """303 for a plain form post; HX-Redirect for htmx, so the browser loads the whole next page."""
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash:
        add_flash(request, response, flash, category)
    return response


def add_flash(request: Request, response: Response, message: str, category: str = "success") -> None:
    flashes = [*_read_flashes(request), {"message": message, "category": category}]
    value = sign_value(request.app.state.settings.secret_key, quote(json.dumps(flashes)))
    response.set_cookie(
        FLASH_COOKIE,
        value,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.app.state.settings.is_production,
    )


def _read_flashes(request: Request) -> list[dict[str, str]]:
    from urllib.parse import unquote

    raw = unsign_value(request.app.state.settings.secret_key, request.cookies.get(FLASH_COOKIE))
    if not raw:
        return []
    try:
        value = json.loads(unquote(raw))
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def login_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: a state-changing browser request must send back the CSRF cookie's value,
    as the form field `csrf_token` (forms without JavaScript) or the X-CSRF-Token header (htmx).
    The JSON API under /api/ takes bearer tokens only, never cookies, so it is exempt."""
    if request.method in ("GET", "HEAD", "OPTIONS") or request.url.path.startswith("/api/"):
        return
    from fastapi import HTTPException

    from backend.security import CSRF_COOKIE, CSRF_HEADER

    expected = request.cookies.get(CSRF_COOKIE)
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(
            status_code=403,
            detail=i18n.gettext(
                "The form has expired or did not come from this site. Reload the page and try again."
            ),
        )
