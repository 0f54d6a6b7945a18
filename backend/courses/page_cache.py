"""The module page's HTML that is the same for every reader, rendered once per process and joined per view.

A module page is mostly the module's text. What differs between two readers of the same module is small:
the CSRF token, the reader's name in the header, their self-check blocks (cached per answer by
`routes._question_blocks`) and the completion box. So the page is rendered once per *skeleton key*
(module version, the course and neighbour facts it shows, path, language, the reader's role and status in
the module) with marks in place of those parts, cut at the marks, and every view joins the pieces with
this reader's parts. Pages with a flash message or an error message, and htmx requests, are rendered
whole (`web.render`), as before.

A skeleton holds nothing of any reader: no token, name or answer. The test
tests/courses/test_module_page_cache.py renders the page both ways in every state it can be in and
requires the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2_fragments import render_block
from markupsafe import Markup, escape

from backend import i18n
from backend.courses import reading, service
from backend.web import base_context, is_htmx, templates, using_csrf_token

MARK = "\ue002"  # a private-use character: never in a module's text (see `_holds_mark`)
CSRF_MARK = f"{MARK}csrf-token{MARK}"
NAME_MARK = f"{MARK}reader-name{MARK}"
COMPLETE_MARK = f"{MARK}complete-box{MARK}"
_QUESTION_PREFIX = "question:"
_HOLE = re.compile(f"{MARK}([^{MARK}]*){MARK}")

enabled = True  # tests switch it off to render the reference page


@dataclass(frozen=True)
class _Reader:
    """What the skeleton may know of the reader: the role (it picks the navigation), not the name."""

    role: str
    name: str = NAME_MARK


@dataclass(frozen=True)
class Skeleton:
    """The page cut at its holes: text, hole name, text, hole name, ..., text."""

    pieces: tuple[str, ...]

    def fill(self, holes: Callable[[str], str]) -> str:
        parts = list(self.pieces)
        for index in range(1, len(parts), 2):
            parts[index] = holes(parts[index])
        return "".join(parts)


_UNCACHEABLE = Skeleton(())


def module_page_response(
    request: Request, template: str, page: service.ModulePage, context: dict[str, Any]
) -> Response | None:
    """The whole module page from the skeleton cache; None when this view must be rendered whole."""
    base = base_context(request)
    if not enabled or is_htmx(request) or base["flashes"] or context.get("error"):
        return None
    user = base["user"]
    key = (
        template,
        page.version_id,
        page.version_hash,
        page.course,
        page.module,
        page.previous,
        page.next,
        bool(page.selfchecks),
        page.status,
        base["request_path"],
        i18n.current_locale.get(),
        user.role if user is not None else None,
    )
    full = {**base, **context}
    skeleton: Skeleton = reading.page_skeletons.get_or_make(key, lambda: _make_skeleton(template, page, full))
    if skeleton is _UNCACHEABLE:
        return None
    token = str(escape(base["csrf_token"]))
    question_html = context["question_html"]

    def hole(name: str) -> str:
        if name == "csrf-token":
            return token
        if name == "reader-name":
            return str(escape(user.name)) if user is not None else ""
        if name == "complete-box":
            return _complete_box(template, page, full).replace(CSRF_MARK, token)
        return str(question_html(name.removeprefix(_QUESTION_PREFIX)))

    return HTMLResponse(skeleton.fill(hole))


def _make_skeleton(template: str, page: service.ModulePage, context: dict[str, Any]) -> Skeleton:
    if _holds_mark(page):
        return _UNCACHEABLE
    user = context["user"]
    context = {
        **context,
        "user": _Reader(user.role) if user is not None else None,
        "csrf_token": CSRF_MARK,
        "complete_box": Markup(COMPLETE_MARK),
        "question_html": lambda qid: Markup(f"{MARK}{_QUESTION_PREFIX}{qid}{MARK}"),
    }
    with using_csrf_token(CSRF_MARK):
        html = templates.get_template(template).render(context)
    return Skeleton(tuple(_HOLE.split(html)))


def _complete_box(template: str, page: service.ModulePage, context: dict[str, Any]) -> str:
    """The "complete this module" box for this reader's state (with the CSRF mark in place of the token)."""
    user = context["user"]
    key = (
        template,
        context["page_url"],
        i18n.current_locale.get(),
        user is not None,
        page.status,
        page.unanswered,
        page.hours_credited,
        page.module.hours,
        page.module.archived,
    )
    block_context = {**context, "csrf_token": CSRF_MARK}
    return reading.complete_boxes.get_or_make(
        key, lambda: render_block(templates.env, template, "module_complete", block_context)
    )


def _holds_mark(page: service.ModulePage) -> bool:
    """A text that holds the mark character itself is never cached: its pieces would be cut wrongly."""
    texts = [page.rendered.html, page.course.title, page.course.title_en, page.module.title]
    texts += [page.module.title_en, *(m.title + m.title_en for m in (page.previous, page.next) if m)]
    return any(MARK in text for text in texts)
