"""Editing a stored course (the browser editor's services): saving, reverting and creating modules,
reordering them, changing course settings. Each edit is validated with the whole course as it would be
after it, exactly as `academy courses check` validates files, and adds versions instead of overwriting.

Services only add and flush; the caller commits.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.courses import course_yaml
from backend.courses import format as fmt
from backend.courses.format import GROUPS
from backend.courses.importer import CourseProblems, load_course_texts
from backend.courses.storage import (
    active_modules,
    add_module_version,
    assign_columns,
    course_columns,
    current_texts,
    row_id,
    sync_questions,
)
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import _
from backend.models import Course, CourseModule, ModuleVersion, User, utcnow

MESSAGE_LIMIT = 500
NAME_LIMIT = 100
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def current_module_version(session: Session, module: CourseModule) -> ModuleVersion:
    version = _version(session, module, module.current_version)
    if version is None:
        raise NotFound(_("This module has no text yet."))
    return version


def module_history(session: Session, module: CourseModule) -> list[ModuleVersion]:
    """Every version of the module, newest first."""
    query = (
        select(ModuleVersion)
        .where(ModuleVersion.module_id == row_id(module))
        .order_by(col(ModuleVersion.number).desc())
    )
    return list(session.exec(query))


def save_module_version(
    session: Session,
    *,
    module: CourseModule,
    text: str,
    author: User,
    message: str,
    media_dir: Path | None = None,
) -> ModuleVersion | None:
    """A new version of the module with `text` (line endings made like the current text's, since a
    browser sends CRLF); None when the text is unchanged. Raises CourseProblems when the course would
    not validate with it; `media_dir` (the course's media folder) lets images be checked too."""
    current = current_module_version(session, module)
    newline = "\r\n" if "\r\n" in current.text else "\n"
    text = text.replace("\r\n", "\n").replace("\n", newline)
    return _save_text(session, module, text, author=author, message=message, media_dir=media_dir)


def revert_module(
    session: Session, *, module: CourseModule, to_number: int, author: User, media_dir: Path | None = None
) -> ModuleVersion:
    """A new version whose text is exactly that of version `to_number`."""
    target = _version(session, module, to_number)
    if target is None:
        raise NotFound(_("This version of the module does not exist."))
    message = f"Revert to version {to_number}"
    version = _save_text(session, module, target.text, author=author, message=message, media_dir=media_dir)
    if version is None:
        raise Conflict(_("The module's current text is already the text of that version."))
    return version


def _save_text(
    session: Session, module: CourseModule, text: str, *, author: User, message: str, media_dir: Path | None
) -> ModuleVersion | None:
    message = message.strip()
    if len(message) > MESSAGE_LIMIT:
        raise ValidationFailed({"message": _("The change note may be at most 500 characters long.")})
    module = _locked(session, module)
    if module.archived_at is not None:
        raise Conflict(_("This module is archived: list it in the course again before editing it."))
    current = current_module_version(session, module)
    if text == current.text:
        return None
    course = _course_of(session, module)
    texts = current_texts(session, course) | {module.name: text}
    parsed = _validated(course, course.yaml_text, texts, media_dir)
    stored = next(item for item in parsed.modules if item.name == module.name)
    version = add_module_version(
        session, module, stored, number=_next_number(session, module), author=author, message=message
    )
    sync_questions(session, row_id(course), [(module, stored.questions)], scope={row_id(module)})
    course.updated_at = utcnow()
    record_event(
        session,
        actor=author,
        action="module.saved",
        target_type="module",
        target_id=row_id(module),
        before={"version": current.number},
        after={"version": version.number, "message": message},
    )
    return version


def create_module(
    session: Session,
    *,
    course: Course,
    name: str,
    title: str,
    group: str,
    hours: float,
    author: User,
    media_dir: Path | None = None,
) -> CourseModule:
    """A new module at the end of the course, its file started from a template (front matter and a
    heading). A course that draws N questions from every module is switched to drawing N from each
    present module by name, so the new module, still without questions, keeps the course valid and the
    exam as it was; add the module to the draw in the course settings once it has questions."""
    name, title = name.strip(), title.strip()
    _check_new_module(session, course, name=name, title=title, group=group, hours=hours)
    text = module_template(title=title, group=group, hours=hours)
    texts = current_texts(session, course)
    sections: dict[str, Any] = {"modules": [*texts, name]}
    exam = course_yaml.draw_without_new_module(course.yaml_text)
    if exam is not None:
        sections["exam"] = exam
    yaml_text = course_yaml.replace_sections(course.yaml_text, sections)
    parsed = _validated(course, yaml_text, texts | {name: text}, media_dir)
    row = CourseModule(course_id=row_id(course), name=name, position=len(texts), current_version=0)
    session.add(row)
    session.flush()
    module = next(item for item in parsed.modules if item.name == name)
    add_module_version(session, row, module, number=1, author=author, message="Created")
    _store_course_yaml(course, parsed)
    after = {"name": name, "title": title, "group": group, "hours": hours}
    record_event(
        session,
        actor=author,
        action="module.created",
        target_type="module",
        target_id=row_id(row),
        after=after,
    )
    return row


def module_template(*, title: str, group: str, hours: float) -> str:
    front = course_yaml.plain_numbers({"title": title, "group": group, "hours": hours})
    front_matter = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=4096)
    return f"---\n{front_matter}---\n\n# {title}\n"


def _check_new_module(
    session: Session, course: Course, *, name: str, title: str, group: str, hours: float
) -> None:
    errors: dict[str, str] = {}
    if not name or not set(name) <= _NAME_CHARACTERS or not name[0].isalnum() or name.endswith(".md"):
        errors["name"] = _(
            "A module name is a file name without .md: letters, digits, '.', '_' and '-', starting with a letter or digit."
        )
    elif len(name) > NAME_LIMIT:
        errors["name"] = _("A module name may be at most 100 characters long.")
    else:
        query = select(CourseModule).where(
            CourseModule.course_id == row_id(course), CourseModule.name == name
        )
        existing = session.exec(query).first()
        if existing is not None and existing.archived_at is not None:
            errors["name"] = _("An archived module of this course has this name; choose another one.")
        elif existing is not None:
            errors["name"] = _("This course already has a module with this name.")
    if not title:
        errors["title"] = _("Enter a title.")
    elif len(title) > 200:
        errors["title"] = _("A title may be at most 200 characters long.")
    if group not in GROUPS:
        errors["group"] = _("Choose one of the four module groups.")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours < float("inf"):
        errors["hours"] = _("Hours must be a number greater than 0.")
    if errors:
        error = ValidationFailed(errors)
        error.field = next(iter(errors))  # for a form that shows one message at one field
        raise error


def reorder_modules(session: Session, *, course: Course, names: list[str], author: User) -> None:
    """Put the course's (non-archived) modules in the order of `names`, which must list each once."""
    rows = active_modules(session, course)
    before = [row.name for row in rows]
    if sorted(names) != sorted(before):
        raise ValidationFailed({"modules": _("The new order must list every module of the course once.")})
    if names == before:
        return
    by_name = {row.name: row for row in rows}
    for position, name in enumerate(names):
        by_name[name].position = position
    yaml_text = course_yaml.with_modules(course.yaml_text, names)
    texts = current_texts(session, course)
    _store_course_yaml(course, _validated(course, yaml_text, texts, None))
    record_event(
        session,
        actor=author,
        action="course.modules_reordered",
        target_type="course",
        target_id=row_id(course),
        before={"modules": before},
        after={"modules": names},
    )


def update_course_settings(
    session: Session,
    *,
    course: Course,
    title: str,
    description: str,
    min_hours: float,
    exam: dict[str, Any],
    author: User,
) -> None:
    """Change the title, description, hours needed and exam rules (`exam` in Course.exam_rules' shape);
    validated as course.yaml is (pass_score 0-100, time limit > 0, draws within the questions there
    are, ...). Problems name course.yaml lines as rewritten with the new settings."""
    sections = course_yaml.settings_sections(
        course.yaml_text, title=title.strip(), description=description, min_hours=min_hours, exam=exam
    )
    if not sections:
        return
    yaml_text = course_yaml.replace_sections(course.yaml_text, sections)
    parsed = _validated(course, yaml_text, current_texts(session, course), None)
    before = _settings(course)
    _store_course_yaml(course, parsed)
    record_event(
        session,
        actor=author,
        action="course.settings_changed",
        target_type="course",
        target_id=row_id(course),
        before=before,
        after=_settings(course),
    )


def _settings(course: Course) -> dict[str, Any]:
    return {
        "title": course.title,
        "description": course.description,
        "min_hours": course.min_hours,
        "exam": course.exam_rules,
    }


# ---- shared steps --------------------------------------------------------------------------------------


def _version(session: Session, module: CourseModule, number: int) -> ModuleVersion | None:
    query = select(ModuleVersion).where(
        ModuleVersion.module_id == row_id(module), ModuleVersion.number == number
    )
    return session.exec(query).first()


def _locked(session: Session, module: CourseModule) -> CourseModule:
    """The module row, locked for this transaction (PostgreSQL; SQLite's writer lock is the database's),
    so that two saves of one module get consecutive version numbers instead of a conflict."""
    query = (
        select(CourseModule)
        .where(CourseModule.id == row_id(module))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).one()


def _next_number(session: Session, module: CourseModule) -> int:
    query = select(func.max(ModuleVersion.number)).where(ModuleVersion.module_id == row_id(module))
    return (session.exec(query).one() or 0) + 1


def _course_of(session: Session, module: CourseModule) -> Course:
    course = session.get(Course, module.course_id)
    assert course is not None  # the foreign key guarantees it
    return course


def _validated(course: Course, yaml_text: str, texts: dict[str, str], media_dir: Path | None) -> fmt.Course:
    parsed, problems = load_course_texts(course.slug, yaml_text, texts, media_dir=media_dir)
    if parsed is None:
        raise CourseProblems(problems)
    return parsed


def _store_course_yaml(course: Course, parsed: fmt.Course) -> None:
    """The course columns from a rewritten course.yaml (`source_hash` still names the imported file)."""
    assign_columns(course, course_columns(parsed))
    course.updated_at = utcnow()
