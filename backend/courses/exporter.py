"""Writing stored courses back to course folders: course.yaml and each module's current text exactly as
stored, so a course nobody edited comes out byte for byte as it was imported.

Media are not stored in the database; they are copied from the course's media folder on disk (normally
`settings.courses_dir/<slug>/media`) when one is given. Exporting onto an existing course folder removes
the module files that are no longer in the course (the course's own history keeps them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import and_
from sqlmodel import Session, col, select

from backend.audit import record_event
from backend.courses.storage import current_texts, row_id
from backend.models import Course, CourseModule, ModuleVersion, User


def export_course(
    session: Session,
    course: Course,
    out_dir: Path,
    *,
    media_source: Path | None = None,
    actor: User | None = None,
) -> Path:
    """Write the course into `out_dir/<slug>/` and return that folder."""
    folder = out_dir / course.slug
    _write_course(folder, course.yaml_text, current_texts(session, course), media_source)
    _record(session, course, folder, actor)
    return folder


def export_all(
    session: Session, out_dir: Path, *, courses_dir: Path | None = None, actor: User | None = None
) -> list[Path]:
    """Every course into `out_dir/<slug>/`, media from `courses_dir/<slug>/media` where that exists."""
    courses = list(session.exec(select(Course).order_by(col(Course.slug))))
    texts = _all_current_texts(session)
    folders = []
    for course in courses:
        media = courses_dir / course.slug / "media" if courses_dir is not None else None
        folder = out_dir / course.slug
        _write_course(folder, course.yaml_text, texts.get(row_id(course), {}), media)
        _record(session, course, folder, actor)
        folders.append(folder)
    return folders


def _all_current_texts(session: Session) -> dict[int, dict[str, str]]:
    """Course id → module name → current text, non-archived modules only, in one query."""
    query = (
        select(CourseModule.course_id, CourseModule.name, ModuleVersion.text)
        .join(
            ModuleVersion,
            and_(
                col(ModuleVersion.module_id) == CourseModule.id,
                col(ModuleVersion.number) == CourseModule.current_version,
            ),
        )
        .where(col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position), col(CourseModule.id))
    )
    found: dict[int, dict[str, str]] = {}
    for course_id, name, text in session.exec(query):
        found.setdefault(course_id, {})[name] = text
    return found


def _write_course(folder: Path, yaml_text: str, texts: dict[str, str], media_source: Path | None) -> None:
    was_course = (folder / "course.yaml").is_file()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_bytes(yaml_text.encode("utf-8"))
    for name, text in texts.items():
        (folder / f"{name}.md").write_bytes(text.encode("utf-8"))
    if was_course:
        for path in folder.glob("*.md"):
            if path.stem not in texts and path.name.lower() != "readme.md":
                path.unlink()
    if media_source is not None and media_source.is_dir():
        target = folder / "media"
        if not (target.exists() and target.resolve() == media_source.resolve()):
            shutil.copytree(media_source, target, dirs_exist_ok=True)


def _record(session: Session, course: Course, folder: Path, actor: User | None) -> None:
    record_event(
        session,
        actor=actor,
        action="course.exported",
        target_type="course",
        target_id=row_id(course),
        after={"slug": course.slug, "folder": str(folder)},
    )
