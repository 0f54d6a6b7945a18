"""Course pages (catalogue, course, module with self-checks, completing a module, module media) and the
read-only course API. Anyone may read; answering and completing need a signed-in trainee."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2_fragments import render_block
from markupsafe import Markup, escape
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from backend import i18n
from backend.accounts.deps import ApiUser, OptionalUser, SettingsDep, get_reader
from backend.courses import page_cache, service
from backend.courses.grading import answer_from_form
from backend.courses.reading import LRU
from backend.courses.render import render_fragment, render_inline
from backend.courses.schemas import (
    CourseDetail,
    CourseProgressPublic,
    CoursePublic,
    ModulePublic,
    ProgressPublic,
)
from backend.db import SessionDep, run_read
from backend.errors import NotFound, ValidationFailed
from backend.exams.overview import course_exam
from backend.i18n import _
from backend.web import is_htmx, login_url, redirect, render, templates

router = APIRouter(tags=["courses"])
api = APIRouter(prefix="/api/v1", tags=["courses"])
log = logging.getLogger("academy.courses")

MODULE_TEMPLATE = "courses/module.html"
ANSWERED_EVENT = "selfcheck-answered"  # htmx event: the module's completion box reloads itself on it
_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
# Functions the course templates call: markdown fragments (cached per text) and the sign-in link.
_blocks: LRU[tuple[Any, ...], str] = LRU(4096)
HELPERS: dict[str, Any] = {
    "markdown": render_fragment,
    "inline_markdown": render_inline,
    "login_url": login_url,
}


@router.get("/courses")
def catalogue(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    return render(request, "courses/catalogue.html", {"courses": service.list_courses(session), **HELPERS})


@router.get("/courses/{slug}")
def course_page(request: Request, session: SessionDep, user: OptionalUser, slug: str) -> Response:
    outline = service.course_outline(session, slug=slug, user_id=user.id if user else None)
    exam = course_exam(session, course_id=outline.course.id, user=user)
    return render(request, "courses/course.html", {"outline": outline, "exam": exam, **HELPERS})


@router.get("/courses/{slug}/modules/{name}")
async def module_page(request: Request, session: SessionDep, slug: str, name: str) -> Response:
    # The most viewed page: who is signed in, the page's data and its rendering in one call, without a
    # trip to the thread pool on SQLite (db.run_read). The first view of a new version also stores its
    # rendered text: a write, which may wait for the lock, so in the thread pool.
    response, page = await run_read(request, session, _module_page, request, session, slug, name)
    if page.fresh_html is not None:
        await run_in_threadpool(_store_rendered_html, request, page)
    return response


def _module_page(
    request: Request, session: Session, slug: str, name: str
) -> tuple[Response, service.ModulePage]:
    user = get_reader(request, session, request.app.state.settings)
    page = service.module_page(session, slug=slug, name=name, user_id=user.id if user else None)
    context = _module_context(request, page)
    cached = page_cache.module_page_response(request, MODULE_TEMPLATE, page, context)
    return cached or render(request, MODULE_TEMPLATE, context, block="module_complete"), page


def _store_rendered_html(request: Request, page: service.ModulePage) -> None:
    """Keep a version's freshly rendered text in the database, for the other workers and the next start.
    Only a cache: the page is right without it, and the next view tries again. (Never from a POST: its
    transaction already holds SQLite's write lock, which this second connection would wait for in vain.)"""
    try:
        service.store_rendered_html(
            request.app.state.writer_engine, version_id=page.version_id, html=page.fresh_html or ""
        )
    except SQLAlchemyError:
        log.warning("could not cache the rendered HTML of module version %s", page.version_id)


@router.get("/courses/{slug}/modules/{name}/questions/{qid}", include_in_schema=False)
def question_link(slug: str, name: str, qid: str, request: Request) -> Response:
    """Where a sign-in for answering comes back to: the question on its module page."""
    return redirect(request, f"{service.module_url(slug, name)}#q-{qid}")


@router.post("/courses/{slug}/modules/{name}/questions/{qid}")
def answer_question(
    request: Request,
    session: SessionDep,
    user: OptionalUser,
    slug: str,
    name: str,
    qid: str,
    choice: Annotated[list[str] | None, Form()] = None,
    truth: Annotated[str | None, Form()] = None,
    text: Annotated[str | None, Form()] = None,
    value: Annotated[str | None, Form()] = None,
) -> Response:
    anchor = f"{service.module_url(slug, name)}#q-{qid}"
    if user is None:
        return redirect(request, login_url(anchor))
    page = service.module_page(session, slug=slug, name=name, user_id=user.id)
    item = page.selfcheck(qid)
    if item is None:
        raise NotFound(_("There is no such question in this module."))
    fields = {"choice": choice or [], "truth": [truth or ""], "text": [text or ""], "value": [value or ""]}
    answer = answer_from_form(item.version.type, fields)
    try:
        answered = service.answer_self_check(
            session, user_id=user.id or 0, slug=slug, name=name, qid=qid, answer=answer
        )
        item = dataclasses.replace(answered, number=item.number)
    except ValidationFailed as failed:
        return _question_response(request, page, item, error=failed.errors.get("answer", failed.message))
    if is_htmx(request):
        return _question_response(request, page, item)
    return redirect(request, anchor)


@router.post("/courses/{slug}/modules/{name}/complete")
def complete_module(
    request: Request, session: SessionDep, user: OptionalUser, slug: str, name: str
) -> Response:
    page_url = service.module_url(slug, name)
    if user is None:
        return redirect(request, login_url(page_url))
    progress = service.complete_module(session, user_id=user.id or 0, slug=slug, name=name)
    message = _("Module completed: %(hours)s hours credited.") % {"hours": f"{progress.hours_credited:g}"}
    return redirect(request, page_url, flash=message)


@router.get("/courses/{slug}/media/{path:path}", include_in_schema=False)
def module_media(slug: str, path: str, settings: SettingsDep) -> Response:
    """Images and files of a course's media/ folder; nothing outside it is ever served."""
    if not _SAFE_SLUG.match(slug):
        raise NotFound(_("This page does not exist."))
    root = (settings.courses_dir / slug / "media").resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        raise NotFound(_("This page does not exist."))
    return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})


# ---- API -------------------------------------------------------------------------------------------------


@api.get("/courses", response_model=list[CoursePublic])
def api_courses(session: SessionDep) -> list[CoursePublic]:
    return [CoursePublic.of(summary) for summary in service.list_courses(session)]


@api.get("/courses/{slug}", response_model=CourseDetail)
def api_course(session: SessionDep, slug: str) -> CourseDetail:
    summary = next((item for item in service.list_courses(session) if item.course.slug == slug), None)
    if summary is None:
        raise NotFound(_("There is no such course."))
    modules = service.course_modules(session, course_id=summary.course.id or 0)
    return CourseDetail(
        **CoursePublic.of(summary).model_dump(), modules=[ModulePublic.of(module) for module in modules]
    )


@api.get("/me/progress", response_model=ProgressPublic)
def api_progress(session: SessionDep, user: ApiUser) -> ProgressPublic:
    summaries = service.progress_summary(session, user_id=user.id or 0)
    return ProgressPublic(courses=[CourseProgressPublic.of(summary) for summary in summaries])


# ---- helpers -----------------------------------------------------------------------------------------------


def _module_context(
    request: Request,
    page: service.ModulePage,
    *,
    answered: service.SelfCheck | None = None,
    error: str = "",
    error_qid: str = "",
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "page": page,
        "course": page.course,
        "module": page.module,
        "page_url": service.module_url(page.course.slug, page.module.name),
        "media_url": service.media_url(page.course.slug),
        "ANSWERED_EVENT": ANSWERED_EVENT,
        "error": error,  # the message at the top of the page; the question's block shows it too
        "error_qid": error_qid,
        **HELPERS,
    }
    context["question_html"] = _question_blocks(request, page, context, answered, error, error_qid)
    return context


def _question_blocks(
    request: Request,
    page: service.ModulePage,
    context: dict[str, Any],
    answered: service.SelfCheck | None,
    error: str,
    error_qid: str,
) -> Callable[[str], Markup]:
    """`question_html(qid)` for the template: the question's block, rendered once per process for each
    (question version, number, answer, language, signed in or not) and then reused with this visitor's CSRF
    token put in. A module has a dozen questions; rendering them all on every view would dominate it."""
    items = {item.qid: item for item in page.selfchecks}
    if answered is not None:
        items[answered.qid] = answered
    signed_in = getattr(request.state, "user", None) is not None
    token = str(escape(getattr(request.state, "csrf_token", "")))
    locale = i18n.current_locale.get()

    def question_html(qid: str) -> Markup:
        item = items.get(qid)
        if item is None:
            return Markup("")
        message = error if qid == error_qid else ""
        answer = (
            json.dumps(item.answer, sort_keys=True, ensure_ascii=False) if item.answer is not None else None
        )
        version = item.version
        key = (
            version.id,
            version.content_hash,
            qid,
            item.number,
            context["page_url"],
            locale,
            signed_in,
            answer,
            message,
        )
        block_context = {
            **context,
            "item": item,
            "error": message,
            "user": signed_in,
            "csrf_token": page_cache.CSRF_MARK,
        }
        html = _blocks.get_or_make(
            key, lambda: render_block(templates.env, MODULE_TEMPLATE, "question", block_context)
        )
        return Markup(html.replace(page_cache.CSRF_MARK, token))

    return question_html


def _question_response(
    request: Request, page: service.ModulePage, item: service.SelfCheck, *, error: str = ""
) -> Response:
    """One question's block. htmx swaps it into the element with id q-<qid>; `web.render` picks a block by
    an HX-Target equal to the block's name, which cannot hold for ids that differ per question, so the block
    is answered here. Without JavaScript (an unreadable answer) the whole page comes back with the message."""
    context = _module_context(request, page, answered=item, error=error, error_qid=item.qid if error else "")
    if not (is_htmx(request) and request.headers.get("HX-Target") == f"q-{item.qid}"):
        return render(request, MODULE_TEMPLATE, context, status_code=422 if error else 200)
    headers = {} if error else {"HX-Trigger": ANSWERED_EVENT}
    return HTMLResponse(context["question_html"](item.qid), headers=headers)
