"""Authoring in the browser (issue 3, item 7), for instructors and administrators: the courses, a module
editor with a live preview and line-numbered problems, versions with a diff and a revert, new modules, the
module order and the course settings.

Every write goes through backend.courses.versions, which validates the whole course and records the audit
event. A write is tried inside a savepoint so a refused one leaves nothing behind, and the page is shown
again with what was typed and the reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlmodel import Session, col, func, select
from starlette.datastructures import FormData

from backend.accounts.deps import SettingsDep, StaffUser, get_staff_user
from backend.courses import authoring
from backend.courses.authoring_preview import draft_title
from backend.courses.authoring_preview import preview as draft_preview
from backend.courses.diff import line_diff
from backend.courses.format import GROUPS, Problem
from backend.courses.importer import CourseProblems
from backend.courses.versions import (
    create_module,
    current_module_version,
    reorder_modules,
    revert_module,
    save_module_version,
    update_course_settings,
)
from backend.db import SessionDep
from backend.errors import DomainError, ValidationFailed
from backend.exams.grading_queue import waiting_count
from backend.i18n import _
from backend.models import Course, CourseModule
from backend.web import add_flash, redirect, render

router = APIRouter(
    prefix="/instructor",
    tags=["instructor"],
    dependencies=[Depends(get_staff_user)],
    include_in_schema=False,
)

T = TypeVar("T")
EDITOR = "instructor/editor.html"


async def _posted_form(request: Request) -> FormData:
    """A form whose field names depend on the course (one per module); read here so that the route
    itself can stay synchronous and run its database work off the event loop."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(_posted_form)]


def _attempt(session: Session, write: Callable[[], T]) -> T:
    """Run a write in a savepoint: when it raises, nothing it added stays in the request's transaction."""
    with session.begin_nested():
        return write()


# ---- home and courses ----------------------------------------------------------------------------------


@router.get("")
def home(request: Request, session: SessionDep, user: StaffUser) -> Response:
    count = session.exec(select(func.count(col(Course.id)))).one()
    waiting = waiting_count(session, staff=user)
    return render(request, "instructor/home.html", {"course_count": count, "grading_waiting": waiting})


@router.get("/courses")
def courses(request: Request, session: SessionDep) -> Response:
    return render(request, "instructor/courses.html", {"rows": authoring.course_rows(session)})


@router.get("/courses/{slug}")
def course_page(request: Request, session: SessionDep, slug: str) -> Response:
    course = authoring.get_course(session, slug)
    return _course_page(request, session, course)


def _course_page(
    request: Request,
    session: Session,
    course: Course,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    create_error: str = "",
    order_error: str = "",
    status_code: int = 200,
) -> Response:
    rows = authoring.module_rows(session, course)
    context = {
        "course": course,
        "exam_summary": authoring.exam_summary(course),
        "modules": [row for row in rows if row.module.archived_at is None],
        "archived": [row for row in rows if row.module.archived_at is not None],
        "groups": GROUPS,
        "form": form or {"name": "", "title": "", "group": GROUPS[0], "hours": ""},
        "errors": errors or {},
        "create_error": create_error,
        "order_error": order_error,
    }
    return render(request, "instructor/course.html", context, status_code=status_code)


@router.post("/courses/{slug}/modules")
def new_module(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    slug: str,
    name: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    group: Annotated[str, Form()] = "",
    hours: Annotated[str, Form()] = "",
) -> Response:
    course = authoring.get_course(session, slug)
    form = {"name": name.strip(), "title": title.strip(), "group": group, "hours": hours.strip()}
    try:
        module = _attempt(
            session,
            lambda: create_module(
                session,
                course=course,
                name=form["name"],
                title=form["title"],
                group=group,
                hours=authoring.hours_value(form["hours"]),
                author=user,
                media_dir=authoring.media_dir(settings, course),
            ),
        )
    except ValidationFailed as error:
        return _course_page(request, session, course, form=form, errors=error.errors, status_code=422)
    except CourseProblems as error:
        message = "; ".join(authoring.readable_problem(problem.message) for problem in error.problems)
        return _course_page(request, session, course, form=form, create_error=message, status_code=422)
    except DomainError as error:
        return _course_page(request, session, course, form=form, create_error=error.message, status_code=422)
    url = authoring.module_base(course, module.name) + "/edit"
    return redirect(request, url, flash=_("Module %(name)s created.") % {"name": module.name})


@router.post("/courses/{slug}/order")
def reorder(request: Request, session: SessionDep, user: StaffUser, slug: str, form: PostedForm) -> Response:
    course = authoring.get_course(session, slug)
    rows = [row for row in authoring.module_rows(session, course) if row.module.archived_at is None]
    names = [row.module.name for row in rows]
    order, problem = authoring.order_from_form(names, form)
    if problem:
        return _course_page(request, session, course, order_error=problem, status_code=422)
    if order == names:
        return redirect(
            request, f"/instructor/courses/{slug}", flash=_("The order is unchanged."), category="info"
        )
    try:
        _attempt(session, lambda: reorder_modules(session, course=course, names=order, author=user))
    except CourseProblems as error:
        message = "; ".join(authoring.readable_problem(problem.message) for problem in error.problems)
        return _course_page(request, session, course, order_error=message, status_code=422)
    except DomainError as error:  # ValidationFailed: the order did not list every module once
        return _course_page(request, session, course, order_error=error.message, status_code=422)
    return redirect(request, f"/instructor/courses/{slug}#modules", flash=_("The new module order is saved."))


# ---- course settings -----------------------------------------------------------------------------------


@router.get("/courses/{slug}/settings")
def settings_page(request: Request, session: SessionDep, slug: str) -> Response:
    course = authoring.get_course(session, slug)
    return _settings_page(request, session, course, authoring.settings_form(course), {})


def _settings_page(
    request: Request,
    session: Session,
    course: Course,
    form: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    rows = authoring.module_rows(session, course)
    context = {
        "course": course,
        "form": form,
        "errors": errors,
        "draw_list": authoring.uses_draw_list(course),
        "module_titles": [
            (row.module.name, row.version.title) for row in rows if row.module.archived_at is None
        ],
    }
    return render(request, "instructor/settings.html", context, status_code=status_code)


@router.post("/courses/{slug}/settings")
def save_settings(
    request: Request, session: SessionDep, user: StaffUser, slug: str, posted: PostedForm
) -> Response:
    course = authoring.get_course(session, slug)
    names = authoring.active_names(session, course)
    form = authoring.settings_form_from_post(posted, names)
    values, errors = authoring.check_settings(form, names, draw_list=authoring.uses_draw_list(course))
    if errors or values is None:
        return _settings_page(request, session, course, form, errors, status_code=422)
    url = f"/instructor/courses/{slug}"
    if authoring.settings_unchanged(course, values):
        return redirect(request, url, flash=_("The settings are unchanged."), category="info")
    try:
        _attempt(session, lambda: update_course_settings(session, course=course, author=user, **values))
    except CourseProblems as error:
        errors = authoring.settings_problems(
            error.problems, names, draw_list=authoring.uses_draw_list(course)
        )
        return _settings_page(request, session, course, form, errors, status_code=422)
    except ValidationFailed as error:
        return _settings_page(request, session, course, form, error.errors, status_code=422)
    except DomainError as error:
        return _settings_page(request, session, course, form, {"_form": error.message}, status_code=422)
    return redirect(request, url, flash=_("The course settings are saved."))


# ---- the module editor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What the author typed: shown again as it was whenever a save is refused."""

    text: str
    message: str = ""
    base_version: int = 0  # the version the editor was opened on


@router.get("/courses/{slug}/modules/{name}/edit")
def editor(request: Request, session: SessionDep, slug: str, name: str) -> Response:
    course, module = authoring.get_module(session, slug, name)
    current = current_module_version(session, module)
    return _editor(request, course, module, Draft(current.text, base_version=current.number))


def _editor(
    request: Request,
    course: Course,
    module: CourseModule,
    draft: Draft,
    *,
    problems: list[Problem] | None = None,
    save_error: str = "",
    message_error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "course": course,
        "module": module,
        "title": draft_title(draft.text) or module.name,
        "text": draft.text,
        "message": draft.message,
        "base_version": draft.base_version or module.current_version,
        "save_error": save_error,
        "message_error": message_error,
        **draft_preview(draft.text, course=course, module=module, problems=problems),
    }
    return render(request, EDITOR, context, block="preview", status_code=status_code)


@router.post("/courses/{slug}/modules/{name}/preview")
def preview(
    request: Request,
    session: SessionDep,
    slug: str,
    name: str,
    text: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
    base_version: Annotated[int, Form()] = 0,
) -> Response:
    """The preview block for htmx; a whole editor page with the preview for a plain form post."""
    course, module = authoring.get_module(session, slug, name)
    draft = Draft(authoring.normalise_text(text), message, base_version)
    return _editor(request, course, module, draft)


@router.post("/courses/{slug}/modules/{name}/edit")
def save(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    slug: str,
    name: str,
    text: Annotated[str, Form()] = "",
    message: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
    base_version: Annotated[int, Form()] = 0,
) -> Response:
    """Save a new version, or (the Preview button without JavaScript) show the page with the preview."""
    course, module = authoring.get_module(session, slug, name)
    draft = Draft(authoring.normalise_text(text), message.strip(), base_version)
    if action == "preview":
        return _editor(request, course, module, draft)
    url = authoring.module_base(course, module.name) + "/edit"
    current = current_module_version(session, module)
    if draft.text == current.text:
        flash = _("Nothing to save: the text is the same as version %(n)d.") % {"n": current.number}
        return redirect(request, url, flash=flash, category="info")
    if not draft.message:
        return _editor(
            request,
            course,
            module,
            draft,
            save_error=_("Not saved: write a change message."),
            message_error=_("Say what you changed; the message is shown in the history."),
            status_code=422,
        )
    try:
        version = _attempt(
            session,
            lambda: save_module_version(
                session,
                module=module,
                text=draft.text,
                author=user,
                message=draft.message,
                media_dir=authoring.media_dir(settings, course),
            ),
        )
    except ValidationFailed as error:
        return _editor(
            request,
            course,
            module,
            draft,
            save_error=_("Not saved: correct the change message."),
            message_error=error.errors.get("message", error.message),
            status_code=422,
        )
    except CourseProblems as error:
        count = len(error.problems)
        save_error = _("Not saved: the text has problems (%(n)d). Nothing was changed.") % {"n": count}
        return _editor(
            request, course, module, draft, problems=error.problems, save_error=save_error, status_code=422
        )
    except DomainError as error:
        return _editor(request, course, module, draft, save_error=error.message, status_code=409)
    if version is None:
        return redirect(request, url, flash=_("Nothing to save: the text is unchanged."), category="info")
    response = redirect(request, url, flash=_("Saved as version %(n)d.") % {"n": version.number})
    if base_version and version.number - 1 > base_version:
        note = _("Someone else saved a version while you were editing; compare version %(a)d with %(b)d.")
        add_flash(request, response, note % {"a": base_version, "b": version.number}, "info")
    return response


# ---- history, diff, revert -----------------------------------------------------------------------------


@router.get("/courses/{slug}/modules/{name}/history")
def history(request: Request, session: SessionDep, slug: str, name: str) -> Response:
    course, module = authoring.get_module(session, slug, name)
    rows = authoring.version_rows(session, module)
    context = {
        "course": course,
        "module": module,
        "title": authoring.current_title(rows, module),
        "versions": rows,
        "default_b": rows[0].version.number if rows else 0,
        "default_a": rows[1].version.number if len(rows) > 1 else 0,
    }
    return render(request, "instructor/history.html", context)


@router.get("/courses/{slug}/modules/{name}/versions/{number}")
def version_page(request: Request, session: SessionDep, slug: str, name: str, number: int) -> Response:
    course, module = authoring.get_module(session, slug, name)
    rows = authoring.version_rows(session, module)
    row = authoring.find_version(rows, number)
    context = {"course": course, "module": module, "title": authoring.current_title(rows, module), "row": row}
    return render(request, "instructor/version.html", context)


@router.get("/courses/{slug}/modules/{name}/diff")
def diff_page(
    request: Request, session: SessionDep, slug: str, name: str, a: int = 0, b: int = 0
) -> Response:
    course, module = authoring.get_module(session, slug, name)
    rows = authoring.version_rows(session, module)
    new = authoring.find_version(rows, b or module.current_version)
    old = authoring.find_version(rows, a or max(new.version.number - 1, 1))
    context = {
        "course": course,
        "module": module,
        "title": authoring.current_title(rows, module),
        "old": old,
        "new": new,
        "diff": line_diff(old.version.text, new.version.text),
    }
    return render(request, "instructor/diff.html", context)


@router.post("/courses/{slug}/modules/{name}/revert")
def revert(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: StaffUser,
    slug: str,
    name: str,
    to: Annotated[int, Form()],
    confirmed: Annotated[str, Form()] = "",
) -> Response:
    course, module = authoring.get_module(session, slug, name)
    rows = authoring.version_rows(session, module)
    target = authoring.find_version(rows, to)
    url = authoring.module_base(course, module.name) + "/history"
    if to == module.current_version:
        flash = _("Version %(n)d is already the current version.") % {"n": to}
        return redirect(request, url, flash=flash, category="info")
    if confirmed != "yes":
        current = authoring.find_version(rows, module.current_version)
        context = {
            "course": course,
            "module": module,
            "title": authoring.current_title(rows, module),
            "target": target,
            "diff": line_diff(current.version.text, target.version.text),
        }
        return render(request, "instructor/revert.html", context)
    try:
        version = _attempt(
            session,
            lambda: revert_module(
                session,
                module=module,
                to_number=to,
                author=user,
                media_dir=authoring.media_dir(settings, course),
            ),
        )
    except CourseProblems as error:
        reasons = "; ".join(authoring.readable_problem(problem.message) for problem in error.problems)
        flash = _("Not reverted: version %(n)d no longer fits the course (%(reasons)s).")
        return redirect(request, url, flash=flash % {"n": to, "reasons": reasons}, category="error")
    except DomainError as error:
        return redirect(request, url, flash=error.message, category="error")
    flash = _("Version %(old)d restored as version %(new)d.") % {"old": to, "new": version.number}
    return redirect(request, url, flash=flash)
