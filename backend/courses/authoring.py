"""What the authoring pages read and check (no HTTP): courses and modules with their current versions and
authors, the forms for a new module, the module order and the course settings, with a message per field.

The live preview of a module's draft lives in authoring_preview.py; the writes in versions.py.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from backend.config import Settings
from backend.courses.format import Problem
from backend.courses.validate import DEFAULT_EXAM_TITLE
from backend.courses.versions import module_history
from backend.errors import NotFound
from backend.i18n import _
from backend.models import Course, CourseModule, ModuleVersion, User

MAX_TITLE = 200
_DRAW_MODULE = re.compile(
    r"exam draws (\d+) questions from module '(.+)' but it has only (\d+) exam questions"
)
_DRAW_ESSAY = re.compile(
    r"exam draws (\d+) essay questions but the course has only (\d+) exam essay questions"
)


@dataclass(frozen=True)
class CourseRow:
    course: Course
    module_count: int
    last_change: datetime | None


@dataclass(frozen=True)
class ModuleRow:
    module: CourseModule
    version: ModuleVersion  # the current one
    author: User | None


@dataclass(frozen=True)
class VersionRow:
    version: ModuleVersion
    author: User | None


# ---- reads ---------------------------------------------------------------------------------------------


def get_course(session: Session, slug: str) -> Course:
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(_("There is no such course."))
    return course


def get_module(session: Session, slug: str, name: str) -> tuple[Course, CourseModule]:
    course = get_course(session, slug)
    module = session.exec(
        select(CourseModule).where(CourseModule.course_id == course.id, CourseModule.name == name)
    ).first()
    if module is None:
        raise NotFound(_("There is no such module in this course."))
    return course, module


def module_base(course: Course, name: str) -> str:
    return f"/instructor/courses/{course.slug}/modules/{name}"


def course_rows(session: Session) -> list[CourseRow]:
    """Every course with its listed modules and the time of its latest change (a version or settings)."""
    courses = session.exec(select(Course).order_by(col(Course.slug))).all()
    counts = dict(
        session.exec(
            select(CourseModule.course_id, func.count(col(CourseModule.id)))
            .where(col(CourseModule.archived_at).is_(None))
            .group_by(col(CourseModule.course_id))
        ).all()
    )
    latest = dict(
        session.exec(
            select(CourseModule.course_id, func.max(ModuleVersion.created_at))
            .join(ModuleVersion, col(ModuleVersion.module_id) == CourseModule.id)
            .group_by(col(CourseModule.course_id))
        ).all()
    )
    rows = []
    for course in courses:
        course_id = course.id or 0
        times = [time for time in (latest.get(course_id), course.updated_at) if time is not None]
        rows.append(CourseRow(course, counts.get(course_id, 0), max(times) if times else None))
    return rows


def module_rows(session: Session, course: Course) -> list[ModuleRow]:
    """The course's modules in order (archived ones last) with their current version and its author."""
    query = (
        select(CourseModule, ModuleVersion, User)
        .join(
            ModuleVersion,
            and_(
                col(ModuleVersion.module_id) == CourseModule.id,
                col(ModuleVersion.number) == CourseModule.current_version,
            ),
        )
        .outerjoin(User, col(User.id) == ModuleVersion.author_id)
        .where(CourseModule.course_id == course.id)
        .order_by(
            col(CourseModule.archived_at).is_not(None), col(CourseModule.position), col(CourseModule.id)
        )
    )
    return [ModuleRow(module, version, author) for module, version, author in session.exec(query).all()]


def active_names(session: Session, course: Course) -> list[str]:
    query = (
        select(CourseModule.name)
        .where(CourseModule.course_id == course.id, col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position), col(CourseModule.id))
    )
    return list(session.exec(query).all())


def version_rows(session: Session, module: CourseModule) -> list[VersionRow]:
    """Every version of the module, newest first, with its author."""
    versions = module_history(session, module)
    ids = {version.author_id for version in versions if version.author_id is not None}
    authors = {user.id: user for user in session.exec(select(User).where(col(User.id).in_(ids))).all()}
    return [VersionRow(version, authors.get(version.author_id)) for version in versions]


def find_version(rows: list[VersionRow], number: int) -> VersionRow:
    for row in rows:
        if row.version.number == number:
            return row
    raise NotFound(_("This module has no version %(n)d.") % {"n": number})


def current_title(rows: list[VersionRow], module: CourseModule) -> str:
    current = next((row for row in rows if row.version.number == module.current_version), None)
    return current.version.title if current else module.name


def exam_summary(course: Course) -> str:
    rules = course.exam_rules or {}
    return _("%(minutes)s minutes, pass at %(score)s%%, %(attempts)s attempts") % {
        "minutes": rules.get("time_limit_minutes", "—"),
        "score": _number(rules.get("pass_score", "—")),
        "attempts": rules.get("max_attempts", "—"),
    }


# ---- a new module and the module order -----------------------------------------------------------------


def hours_value(text: str) -> float:
    """The hours typed for a new module; 0 (refused with its message by create_module) when not a number."""
    return _to_number(text) or 0.0


def media_dir(settings: Settings, course: Course) -> Path:
    """The course's media folder, where the media route serves images from; edits are checked against it."""
    return settings.courses_dir / course.slug / "media"


def order_from_form(names: list[str], form: Mapping[str, Any]) -> tuple[list[str], str]:
    """The order asked for: one module moved up or down, or every module's position number."""
    for direction, step in (("up", -1), ("down", 1)):
        moved = form.get(direction)
        if moved:
            if moved not in names:
                return names, _("There is no such module in this course.")
            order, index = list(names), names.index(moved)
            other = min(max(index + step, 0), len(names) - 1)
            order[index], order[other] = order[other], order[index]
            return order, ""
    keys = []
    for index, name in enumerate(names):
        position = _to_int(str(form.get(f"position-{name}", "")))
        if position is None:
            return names, _("Give every module a position number.")
        # A module given a new number goes before the one that already had it.
        keys.append((position, position == index + 1, index, name))
    return [key[3] for key in sorted(keys)], ""


# ---- course settings -----------------------------------------------------------------------------------


def uses_draw_list(course: Course) -> bool:
    """True when exam.draw.per_module is the list form (a count per module) rather than one number."""
    draw = (course.exam_rules or {}).get("draw") or {}
    return draw.get("per_module") is None and bool(draw.get("modules"))


def settings_form(course: Course) -> dict[str, Any]:
    rules = course.exam_rules or {}
    draw = rules.get("draw") or {}
    form: dict[str, Any] = {
        "title": course.title,
        "description": course.description,
        "min_hours": _number(course.min_hours),
        "exam_title": rules.get("title", ""),
        "time_limit_minutes": _number(rules.get("time_limit_minutes", "")),
        "pass_score": _number(rules.get("pass_score", "")),
        "max_attempts": _number(rules.get("max_attempts", "")),
        "draw_per_module": _number(draw.get("per_module") or ""),
        "draw_essay": _number(draw.get("essay", 0)),
        "shuffle_options": bool(rules.get("shuffle_options", True)),
    }
    for item in draw.get("modules") or []:
        form[f"draw-{item['module']}"] = _number(item["count"])
    return form


def settings_form_from_post(raw: Mapping[str, Any], names: list[str]) -> dict[str, Any]:
    keys = (
        *("title", "description", "min_hours", "exam_title", "time_limit_minutes", "pass_score"),
        *("max_attempts", "draw_per_module", "draw_essay"),
    )
    form: dict[str, Any] = {key: str(raw.get(key, "")).strip() for key in keys}
    form["description"] = str(raw.get("description", "")).replace("\r\n", "\n").strip()
    form["shuffle_options"] = raw.get("shuffle_options") == "true"
    for name in names:
        form[f"draw-{name}"] = str(raw.get(f"draw-{name}", "")).strip()
    return form


def check_settings(
    form: Mapping[str, Any], names: list[str], *, draw_list: bool
) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The keyword arguments for update_course_settings, or the message of each field that is wrong."""
    errors: dict[str, str] = {}

    def number(key: str, *, whole: bool, low: float, high: float | None = None, message: str) -> Any:
        value = _to_int(form[key]) if whole else _to_number(form[key])
        if value is None or value < low or (high is not None and value > high):
            errors[key] = message
        return value

    if not form["title"]:
        errors["title"] = _("Enter a title.")
    elif len(form["title"]) > MAX_TITLE:
        errors["title"] = _("The title is too long (at most %(n)d characters).") % {"n": MAX_TITLE}
    min_hours = number("min_hours", whole=False, low=0, message=_("Enter the hours as a number, 0 or more."))
    minutes = number(
        "time_limit_minutes", whole=True, low=1, message=_("Enter a whole number of minutes, at least 1.")
    )
    score = number("pass_score", whole=False, low=0, high=100, message=_("Enter a pass score from 0 to 100."))
    attempts = number(
        "max_attempts", whole=True, low=1, message=_("Enter a whole number of attempts, at least 1.")
    )
    essay = number("draw_essay", whole=True, low=0, message=_("Enter a whole number, 0 or more."))
    per_module, modules = None, []
    if draw_list:
        for name in names:  # an empty count (a module added since the draw was set) draws nothing
            key = f"draw-{name}"
            count = (
                number(key, whole=True, low=0, message=_("Enter a whole number, 0 or more."))
                if form[key]
                else 0
            )
            if count:
                modules.append({"module": name, "count": count})
        if not errors and not modules:
            errors[f"draw-{names[0]}" if names else "_form"] = _("Draw questions from at least one module.")
    else:
        per_module = number(
            "draw_per_module", whole=True, low=1, message=_("Enter a whole number of questions, at least 1.")
        )
    if errors:
        return None, errors
    exam = {
        "title": form["exam_title"] or DEFAULT_EXAM_TITLE,
        "time_limit_minutes": minutes,
        "pass_score": score,
        "max_attempts": attempts,
        "draw": {"per_module": per_module, "modules": modules, "essay": essay},
        "shuffle_options": bool(form["shuffle_options"]),
    }
    values = {"title": form["title"], "description": form["description"], "min_hours": min_hours}
    return {**values, "exam": exam}, {}


def settings_unchanged(course: Course, values: Mapping[str, Any]) -> bool:
    rules = course.exam_rules or {}
    same_exam = all(
        _comparable(rules.get(key)) == _comparable(value) for key, value in values["exam"].items()
    )
    return (
        same_exam
        and course.title == values["title"]
        and course.description.strip() == values["description"]
        and float(course.min_hours) == float(values["min_hours"])
    )


def settings_problems(problems: list[Problem], names: list[str], *, draw_list: bool) -> dict[str, str]:
    """The course validator's problems with new settings, each put next to the field it is about."""
    errors: dict[str, str] = {}
    for problem in problems:
        field, message = _settings_field(problem.message, draw_list=draw_list)
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    return errors


def readable_problem(message: str) -> str:
    """The validator's message, in the reader's language where it is one an edit here commonly causes
    (an exam draw larger than what a module or the course still has); otherwise as the validator wrote it."""
    if match := _DRAW_MODULE.match(message):
        text = _("Module %(module)s has only %(have)s exam questions; %(wanted)s cannot be drawn from it.")
        return text % {"module": match[2], "have": match[3], "wanted": match[1]}
    if match := _DRAW_ESSAY.match(message):
        text = _("The course has only %(have)s exam essay questions; %(wanted)s cannot be drawn.")
        return text % {"have": match[2], "wanted": match[1]}
    return message


def _settings_field(message: str, *, draw_list: bool) -> tuple[str, str]:
    if match := _DRAW_MODULE.match(message):
        return (f"draw-{match[2]}" if draw_list else "draw_per_module"), readable_problem(message)
    if _DRAW_ESSAY.match(message):
        return "draw_essay", readable_problem(message)
    for key, field in (
        ("pass_score", "pass_score"),
        ("time_limit_minutes", "time_limit_minutes"),
        ("max_attempts", "max_attempts"),
        ("essay", "draw_essay"),
        ("per_module", "draw_per_module"),
        ("min_hours", "min_hours"),
        ("description", "description"),
        ("exam.title", "exam_title"),
        ("title", "title"),
    ):
        if key in message:
            return field, message
    return "_form", message


# ---- small conversions ---------------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """A textarea sends CRLF line endings; modules are stored with LF."""
    return text.replace("\r\n", "\n")


def _to_number(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _to_int(value: str) -> int | None:
    number = _to_number(value)
    return int(number) if number is not None and number.is_integer() else None


def _number(value: Any) -> Any:
    """32.0 → "32" for a form field; anything else as it is."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value
