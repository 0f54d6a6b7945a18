"""The final exam in the browser: the eligibility page, starting, taking the paper (whole or one question at
a time, with a navigator), saving each answer (htmx as it is given, or a plain save button), flags,
the submit confirmation, and the result. Every page works without JavaScript."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from backend.accounts.deps import CurrentUser
from backend.cohorts.service import beijing_time
from backend.courses.render import render_fragment, render_inline
from backend.courses.service import media_url
from backend.db import SessionDep
from backend.errors import NotFound, ValidationFailed
from backend.exams import attempts, results, service
from backend.exams.deps import base_url, load_attempt, own_attempt, schedule_mail
from backend.i18n import _
from backend.models import AttemptStatus, ExamAttempt, User
from backend.web import is_htmx, redirect, render, templates

router = APIRouter(tags=["exams"], include_in_schema=False)

ATTEMPT_PAGE = "exams/attempt.html"
HELPERS: dict[str, Any] = {
    "markdown": render_fragment,
    "inline_markdown": render_inline,
    "local_time": beijing_time,
}


def attempt_url(attempt_id: int | None, *, position: int | None = None, one: bool = False) -> str:
    url = f"/exams/attempts/{attempt_id}"
    if one and position:
        return f"{url}?q={position}"
    return f"{url}#q-{position}" if position else url


@router.get("/exams/{slug}")
def exam_page(request: Request, session: SessionDep, user: CurrentUser, slug: str) -> Response:
    course = service.get_course(session, slug=slug)
    state = service.eligibility(session, user=user, course=course)
    if state.open_attempt is not None and attempts.is_overdue(state.open_attempt):
        load_attempt(request, session, attempt_id=state.open_attempt.id or 0, viewer=user)
        course = service.get_course(session, slug=slug)
        state = service.eligibility(session, user=user, course=course)
    rules = course.exam_rules or {}
    size = service.paper_size(session, course=course)
    context = {"course": course, "state": state, "rules": rules, "paper_size": size, **HELPERS}
    return render(request, "exams/eligibility.html", context)


@router.post("/exams/{slug}/attempts")
def start(request: Request, session: SessionDep, user: CurrentUser, slug: str) -> Response:
    course = service.get_course(session, slug=slug)
    attempt = attempts.start_attempt(session, user=user, course=course, base_url=base_url(request))
    schedule_mail(request)  # an overdue attempt may have been submitted first
    return redirect(request, attempt_url(attempt.id))


@router.get("/exams/attempts/{attempt_id}")
def take(
    request: Request, session: SessionDep, user: CurrentUser, attempt_id: int, q: int | None = None
) -> Response:
    attempt = load_attempt(request, session, attempt_id=attempt_id, viewer=user)
    if attempt.user_id != user.id or attempt.status != AttemptStatus.open.value:
        flash = None
        if attempt.user_id == user.id and attempt.auto_submitted:
            flash = _("Time ran out: your exam was submitted automatically with every answer you had saved.")
        return redirect(request, f"/exams/attempts/{attempt_id}/result", flash=flash, category="info")
    paper = service.attempt_paper(session, attempt=attempt)
    if q is not None and not 1 <= q <= len(paper):
        raise NotFound(_("There is no such question in this exam."))
    return render(request, ATTEMPT_PAGE, _attempt_context(session, attempt, paper, one=q))


def _attempt_context(
    session: SessionDep,
    attempt: ExamAttempt,
    paper: list[service.PaperItem],
    *,
    one: int | None,
    **extra: Any,
) -> dict[str, Any]:
    course = service.get_course_by_id(session, course_id=attempt.course_id)
    shown = [item for item in paper if one is None or item.position == one]
    return {
        "attempt": attempt,
        "course": course,
        "paper": paper,
        "shown": shown,
        "one": one,
        "seconds_left": service.seconds_left(attempt),
        "answered_count": sum(item.answered for item in paper),
        "media_url": media_url(course.slug),
        "attempt_id": attempt.id,
        "oob": False,
        "errors": {},
        **HELPERS,
        **extra,
    }


@router.post("/exams/attempts/{attempt_id}/answers/{position}")
def save(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    attempt_id: int,
    position: int,
    choice: Annotated[list[str] | None, Form()] = None,
    truth: Annotated[str | None, Form()] = None,
    text: Annotated[str | None, Form()] = None,
    value: Annotated[str | None, Form()] = None,
    go: Annotated[str, Form()] = "stay",
    view: Annotated[str, Form()] = "all",
) -> Response:
    """Save one answer: one read and one upsert. htmx gets the question's save status and its navigator
    entry; a plain form goes back to the question (or on to the next one, or to the review)."""
    fields = {"choice": choice or [], "truth": [truth or ""], "text": [text or ""], "value": [value or ""]}
    one = view == "one"
    try:
        saved = attempts.save_answer(
            session, attempt_id=attempt_id, position=position, user_id=user.id or 0, form=fields
        )
    except (attempts.TimeUp, attempts.AnswersClosed) as closed:
        return _closed_response(request, session, attempt_id, position, closed)
    except ValidationFailed as failed:
        return _save_failed(request, session, attempt_id, position, failed, user=user, one=one)
    if go == "review":
        return redirect(request, f"/exams/attempts/{attempt_id}/submit")
    if go in ("next", "prev") or not is_htmx(request):
        target = max(1, position + (1 if go == "next" else -1 if go == "prev" else 0))
        flash = None if is_htmx(request) else _("Answer %(number)d saved.") % {"number": position}
        return redirect(request, attempt_url(attempt_id, position=target, one=one), flash=flash)
    return _item_fragment(request, attempt_id, saved, message=_("Saved"), one=one)


@router.post("/exams/attempts/{attempt_id}/flags/{position}")
def flag(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    attempt_id: int,
    position: int,
    flagged: Annotated[str, Form()] = "1",
    view: Annotated[str, Form()] = "all",
) -> Response:
    try:
        saved = attempts.set_flag(
            session, attempt_id=attempt_id, position=position, user_id=user.id or 0, flagged=flagged == "1"
        )
    except (attempts.TimeUp, attempts.AnswersClosed) as closed:
        return _closed_response(request, session, attempt_id, position, closed)
    one = view == "one"
    if not is_htmx(request):
        return redirect(request, attempt_url(attempt_id, position=position, one=one))
    return _item_fragment(
        request, attempt_id, saved, message="", one=one, blocks=["flag_control", "nav_entry"]
    )


@router.get("/exams/attempts/{attempt_id}/submit")
def confirm(request: Request, session: SessionDep, user: CurrentUser, attempt_id: int) -> Response:
    attempt = own_attempt(request, session, attempt_id=attempt_id, user=user)
    if attempt.status != AttemptStatus.open.value:
        return redirect(request, f"/exams/attempts/{attempt_id}/result")
    paper = service.attempt_paper(session, attempt=attempt)
    context = _attempt_context(session, attempt, paper, one=None)
    context["unanswered"] = [item for item in paper if not item.answered]
    context["flagged"] = [item for item in paper if item.flagged]
    return render(request, "exams/confirm.html", context)


@router.post("/exams/attempts/{attempt_id}/submit")
def submit(request: Request, session: SessionDep, user: CurrentUser, attempt_id: int) -> Response:
    own_attempt(request, session, attempt_id=attempt_id, user=user)
    attempt = attempts.submit_attempt(
        session, attempt_id=attempt_id, by_user_id=user.id, base_url=base_url(request)
    )
    schedule_mail(request)
    message = _("Your exam has been submitted.")
    if attempt.auto_submitted:
        message = _("Time ran out: your exam was submitted automatically with every answer you had saved.")
    return redirect(request, f"/exams/attempts/{attempt_id}/result", flash=message)


@router.get("/exams/attempts/{attempt_id}/result")
def result(request: Request, session: SessionDep, user: CurrentUser, attempt_id: int) -> Response:
    attempt = load_attempt(request, session, attempt_id=attempt_id, viewer=user)
    outcome = results.attempt_result(session, attempt=attempt)
    course = service.get_course_by_id(session, course_id=attempt.course_id)
    trainee = session.get(User, attempt.user_id)
    context = {
        "attempt": attempt,
        "outcome": outcome,
        "course": course,
        "trainee": trainee,
        "is_owner": attempt.user_id == user.id,
        "media_url": media_url(course.slug),
        **HELPERS,
    }
    return render(request, "exams/result.html", context)


# ---- helpers ------------------------------------------------------------------------------------------------


def _item_fragment(
    request: Request,
    attempt_id: int,
    item: attempts.SavedAnswer,
    *,
    message: str,
    one: bool,
    error: str = "",
    blocks: list[str] | None = None,
) -> Response:
    """The blocks of one question that htmx swaps in (its save status, or its flag button) and its
    navigator entry out of band, rendered from the save's own result: no further query."""
    context: dict[str, Any] = {
        "attempt_id": attempt_id,
        "item": item,
        "one": item.position if one else None,  # one question at a time: the saved one is the current one
        "oob": True,
        "message": message,
        "error": error,
        "user": request.state.user,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        **HELPERS,
    }
    names = blocks or ["save_status", "nav_entry"]
    return templates.TemplateResponse(request, ATTEMPT_PAGE, context, block_names=names)


def _closed_response(
    request: Request, session: SessionDep, attempt_id: int, position: int, closed: Exception
) -> Response:
    """A save or flag refused because time is up (the attempt is submitted now) or it was submitted."""
    if isinstance(closed, attempts.TimeUp):
        attempts.submit_attempt(session, attempt_id=attempt_id, base_url=base_url(request))
        schedule_mail(request)
    message = str(getattr(closed, "message", closed))
    context = {"position": position, "message": message, "result_url": f"/exams/attempts/{attempt_id}/result"}
    if is_htmx(request):
        context |= {"user": request.state.user, "csrf_token": getattr(request.state, "csrf_token", "")}
        return templates.TemplateResponse(request, "exams/closed.html", context, block_name="closed_status")
    return render(request, "exams/closed.html", context, status_code=409)


def _save_failed(
    request: Request,
    session: SessionDep,
    attempt_id: int,
    position: int,
    failed: ValidationFailed,
    *,
    user: User,
    one: bool,
) -> Response:
    message = failed.errors.get("answer", failed.message)
    if is_htmx(request):
        saved = service.saved_state(session, attempt_id=attempt_id, position=position)
        return _item_fragment(request, attempt_id, saved, message="", error=message, one=one)
    attempt = own_attempt(request, session, attempt_id=attempt_id, user=user)
    paper = service.attempt_paper(session, attempt=attempt)
    context = _attempt_context(session, attempt, paper, one=position if one else None)
    context["errors"] = {position: message}
    return render(request, ATTEMPT_PAGE, context, status_code=422)


def _all_routers() -> tuple[APIRouter, ...]:
    from backend.exams.api import api
    from backend.exams.instructor_routes import router as instructor

    return (router, api, instructor)


routers = _all_routers()
