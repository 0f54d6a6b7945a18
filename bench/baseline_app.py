"""The baseline: a minimal FastAPI app that renders a Jinja2 page of exactly N bytes at /page/{N}, with
no middleware and no database. It runs under the same uvicorn, flags and worker count as the app, so a
page's requests/s divided by the baseline's at the same size says what the app's own work costs.

Run: uvicorn bench.baseline_app:create_app --factory --port 8100
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import DictLoader, Environment

MAX_BYTES = 4 * 1024 * 1024
# The same page served by the app itself (bench/app_with_baseline.py).
SAME_APP_PATH = "/_baseline/page/{size}"

# A page shaped like the app's: a head, a header and nav, paragraphs in a loop, a footer. The padding
# sits in an HTML comment so the rendered size can be made exact.
PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>{{ title }}</title><link rel="stylesheet" href="/static/app.css"></head>
<body>
<header><a href="/">{{ site }}</a><nav>{% for item in nav %}<a href="{{ item.href }}">{{ item.label }}</a>{% endfor %}</nav></header>
<main>
<h1>{{ title }}</h1>
{% for paragraph in paragraphs %}<p>{{ paragraph }}</p>
{% endfor %}</main>
<footer>{{ site }}</footer>
<!--{{ pad }}-->
</body>
</html>
"""
TINY = "{{ pad }}"  # for sizes below the page's skeleton (a JSON health check, say)

SENTENCE = "技术经纪人在科技成果转化中连接实验室与企业，帮助双方就技术许可、转让与作价投资达成协议。"
NAV = [
    {"href": "/courses", "label": "课程"},
    {"href": "/me", "label": "我的学习"},
    {"href": "/verify", "label": "证书查验"},
    {"href": "/roster", "label": "名录"},
]

templates = Jinja2Templates(
    env=Environment(loader=DictLoader({"page.html": PAGE, "tiny.html": TINY}), autoescape=True)
)


@lru_cache(maxsize=64)
def page_context(size: int) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """The template and context whose rendering is exactly `size` bytes (worked out once per size;
    every request still renders the template)."""
    base: dict[str, Any] = {"title": "基准页面", "site": "技术经纪人学院", "nav": NAV, "pad": ""}
    skeleton = _rendered_size("page.html", {**base, "paragraphs": []})
    if size < skeleton:
        return "tiny.html", (("pad", "x" * size),)
    paragraph_bytes = len(f"<p>{SENTENCE}</p>\n".encode())
    count = (size - skeleton) // paragraph_bytes
    context = {**base, "paragraphs": [SENTENCE] * count}
    context["pad"] = "x" * (size - _rendered_size("page.html", context))
    return "page.html", tuple(context.items())


def _rendered_size(name: str, context: dict[str, Any]) -> int:
    return len(templates.get_template(name).render(context).encode())


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    # A plain `def`, as the app's page handlers are: both run in the same threadpool.
    @app.get("/page/{size}")
    def page(request: Request, size: int) -> Response:
        if not 0 <= size <= MAX_BYTES:
            return JSONResponse({"detail": "size out of range"}, status_code=400)
        name, context = page_context(size)
        return templates.TemplateResponse(request, name, dict(context))

    @app.get("/healthz")
    def healthz() -> Response:
        return JSONResponse({"status": "ok"})

    return app
