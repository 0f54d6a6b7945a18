"""ASGI middleware: security headers on every response, and per-request locale and CSRF cookie."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend import i18n
from backend.security import CSRF_COOKIE, csrf_token_is_valid, new_csrf_token

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ONE_YEAR = 365 * 24 * 3600


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestContextMiddleware:
    """Picks the locale (?lang=, cookie, Accept-Language) and makes sure the browser has a CSRF cookie."""

    def __init__(self, app: ASGIApp, *, secret: str, secure_cookies: bool) -> None:
        self.app = app
        self.secret = secret
        self.secure = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        query_lang = parse_qs(scope.get("query_string", b"").decode()).get("lang", [None])[0]
        accept = _header(scope, b"accept-language")
        locale = i18n.choose_locale(query_lang, cookies.get(i18n.LANG_COOKIE), accept)
        csrf = cookies.get(CSRF_COOKIE)
        new_csrf = None if csrf_token_is_valid(self.secret, csrf) else new_csrf_token(self.secret)
        state = scope.setdefault("state", {})
        state["locale"] = locale
        state["csrf_token"] = new_csrf or csrf
        set_lang = i18n.normalise_locale(query_lang)

        async def send_with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                flags = "; Path=/; SameSite=Lax" + ("; Secure" if self.secure else "")
                if new_csrf:
                    headers.append("Set-Cookie", f"{CSRF_COOKIE}={new_csrf}; HttpOnly{flags}")
                if set_lang:
                    headers.append("Set-Cookie", f"{i18n.LANG_COOKIE}={set_lang}; Max-Age={ONE_YEAR}{flags}")
                vary = headers.get("Vary")
                if "HX-Request" not in (vary or ""):
                    headers["Vary"] = f"{vary}, HX-Request" if vary else "HX-Request"
            await send(message)

        token = i18n.current_locale.set(locale)
        try:
            await self.app(scope, receive, send_with_cookies)
        finally:
            i18n.current_locale.reset(token)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, str]:
    raw = _header(scope, b"cookie")
    if not raw:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
