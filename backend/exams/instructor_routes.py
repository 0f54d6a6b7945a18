"""Instructor pages of the exams: the grading queue and grading one attempt's essays (/instructor/grading),
and the question bank with item statistics, GIFT import and export (/instructor/questions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import Response

from backend.accounts.deps import StaffUser, get_staff_user
from backend.cohorts.service import beijing_time
from backend.courses.render import render_fragment, render_inline
from backend.courses.service import media_url
from backend.db import SessionDep
from backend.errors import ValidationFailed
from backend.exams import bank, grading_queue, service
from backend.exams.deps import base_url, schedule_mail
from backend.exams.gift import GiftProblems
from backend.i18n import _
from backend.models import User
from backend.web import redirect, render

router = APIRouter(
    prefix="/instructor",
    tags=["instructor"],
    dependencies=[Depends(get_staff_user)],
    include_in_schema=False,
)
HELPERS: dict[str, Any] = {
    "markdown": render_fragment,
    "inline_markdown": render_inline,
    "local_time": beijing_time,
}
GIFT_LIMIT = 1_000_000  # characters of an uploaded GIFT file


# ---- grading ------------------------------------------------------------------------------------------------


@router.get("/grading")
def queue(request: Request, session: SessionDep, user: StaffUser) -> Response:
    rows = grading_queue.grading_queue(session, staff=user, include_final=True)
    waiting = [row for row in rows if row.pending]
    released = [row for row in rows if not row.pending][:50]
    return render(
        request, "instructor_exams/queue.html", {"waiting": waiting, "released": released, **HELPERS}
    )


@router.get("/grading/attempts/{attempt_id}")
def grade_page(request: Request, session: SessionDep, user: StaffUser, attempt_id: int) -> Response:
    return _grade_page(request, session, user, attempt_id)


def _grade_page(
    request: Request,
    session: SessionDep,
    user: User,
    attempt_id: int,
    *,
    errors: dict[int, dict[str, str]] | None = None,
    typed: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    attempt = grading_queue.gradable_attempt(session, attempt_id=attempt_id, staff=user)
    course = service.get_course_by_id(session, course_id=attempt.course_id)
    context = {
        "attempt": attempt,
        "course": course,
        "trainee": session.get(User, attempt.user_id),
        "essays": grading_queue.essay_items(session, attempt=attempt),
        "media_url": media_url(course.slug),
        "errors": errors or {},
        "typed": typed or {},
        **HELPERS,
    }
    return render(request, "instructor_exams/grade.html", context, status_code=status_code)


@router.post("/grading/attempts/{attempt_id}/items/{position}")
def grade(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    attempt_id: int,
    position: int,
    points: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    attempt = grading_queue.gradable_attempt(session, attempt_id=attempt_id, staff=user)
    essay = next(
        (e for e in grading_queue.essay_items(session, attempt=attempt) if e.item.position == position), None
    )
    try:
        if essay is None:
            raise ValidationFailed({"points": _("There is no such essay question in this attempt.")})
        value = grading_queue.parse_points(points, essay.item.points)
        was_final = attempt.status == "graded"
        attempt = grading_queue.grade_item(
            session,
            attempt_id=attempt_id,
            position=position,
            grader=user,
            points=value,
            comment=comment,
            base_url=base_url(request),
            ip=request.client.host if request.client else "",
        )
    except ValidationFailed as failed:
        typed = {position: {"points": points, "comment": comment}}
        return _grade_page(
            request, session, user, attempt_id, errors={position: failed.errors}, typed=typed, status_code=422
        )
    schedule_mail(request)
    if attempt.status == "graded" and not was_final:
        message = _("Grade saved. Every answer is graded: the result is released to the trainee.")
        return redirect(request, "/instructor/grading", flash=message)
    message = _("Grade saved for question %(number)d.") % {"number": position}
    if was_final:
        message = _(
            "Grade changed for question %(number)d; the result was updated and the change logged."
        ) % {"number": position}
    return redirect(request, f"/instructor/grading/attempts/{attempt_id}#e-{position}", flash=message)


# ---- question bank ------------------------------------------------------------------------------------------


@router.get("/questions")
def bank_courses(request: Request, session: SessionDep) -> Response:
    return render(request, "instructor_exams/bank_courses.html", {"courses": bank.course_list(session)})


@router.get("/questions/{slug}")
def bank_page(request: Request, session: SessionDep, slug: str) -> Response:
    return _bank_page(request, session, slug)


def _bank_page(
    request: Request,
    session: SessionDep,
    slug: str,
    *,
    module_name: str = "",
    problems: list[str] | None = None,
    typed: str = "",
    status_code: int = 200,
) -> Response:
    course = service.get_course(session, slug=slug)
    context = {
        "course": course,
        "modules": bank.question_bank(session, course=course),
        "media_url": media_url(course.slug),
        "problem_module": module_name,
        "problems": problems or [],
        "typed": typed,
        **HELPERS,
    }
    return render(request, "instructor_exams/bank.html", context, status_code=status_code)


@router.get("/questions/{slug}/modules/{name}/export.gift")
def export_gift(session: SessionDep, slug: str, name: str) -> Response:
    course = service.get_course(session, slug=slug)
    text = bank.export_module_gift(session, course=course, module_name=name)
    headers = {"Content-Disposition": f'attachment; filename="{slug}-{name}.gift.txt"'}
    return Response(text, media_type="text/plain; charset=utf-8", headers=headers)


@router.post("/questions/{slug}/modules/{name}/import")
async def import_gift(
    request: Request,
    session: SessionDep,
    user: StaffUser,
    slug: str,
    name: str,
    gift: Annotated[str, Form()] = "",
    file: UploadFile | None = None,
) -> Response:
    text = gift
    if file is not None and file.filename:
        data = await file.read(GIFT_LIMIT * 4 + 1)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return _bank_page(
                request,
                session,
                slug,
                module_name=name,
                problems=[_("The file is not UTF-8 text.")],
                status_code=422,
            )
    if not text.strip() or len(text) > GIFT_LIMIT:
        problem = (
            _("Paste GIFT text or choose a GIFT file.")
            if not text.strip()
            else _("The GIFT text is too long.")
        )
        return _bank_page(
            request, session, slug, module_name=name, problems=[problem], typed=gift, status_code=422
        )
    course = service.get_course(session, slug=slug)
    try:
        with session.begin_nested():
            added = bank.import_module_gift(session, course=course, module_name=name, text=text, author=user)
    except GiftProblems as failed:
        problems = [str(problem) for problem in failed.problems]
        return _bank_page(
            request, session, slug, module_name=name, problems=problems, typed=gift, status_code=422
        )
    message = _("%(count)d questions imported into the module; a new version of its text was saved.") % {
        "count": added
    }
    return redirect(request, f"/instructor/questions/{slug}#m-{name}", flash=message)
