"""Turning parsed course content (backend.courses.format) into versioned rows, shared by the importer and
the browser editor: a new ModuleVersion or QuestionVersion only when the text's content hash changed,
questions archived (never deleted) when they leave their module and restored when they come back.

Reads are bulk (one query per table for a whole course), so storing a course costs a handful of queries
however many modules and questions it has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from backend.courses import format as fmt
from backend.models import Course, CourseModule, ModuleVersion, Question, QuestionVersion, User, utcnow

# owner id (module or question) → version number → content hash
VersionHashes = dict[int, dict[int, str]]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def row_id(row: Course | CourseModule | Question | User) -> int:
    """The primary key of a flushed row (mypy sees `int | None`)."""
    assert row.id is not None, "flush the row first"
    return row.id


def exam_rules_json(exam: fmt.ExamRules) -> dict[str, Any]:
    """Course.exam_rules: the exam section as JSON; `draw` always has per_module (int or None), modules
    (a list of {module, count}, empty unless the list form is used) and essay."""
    return {
        "title": exam.title,
        "time_limit_minutes": exam.time_limit_minutes,
        "pass_score": exam.pass_score,
        "max_attempts": exam.max_attempts,
        "draw": {
            "per_module": exam.draw_per_module,
            "modules": [{"module": name, "count": count} for name, count in exam.draw_modules],
            "essay": exam.essay,
        },
        "shuffle_options": exam.shuffle_options,
    }


def course_columns(parsed: fmt.Course) -> dict[str, Any]:
    """The Course columns that come from course.yaml."""
    return {
        "title": parsed.title,
        "title_en": parsed.title_en,
        "level": parsed.level,
        "language": parsed.language,
        "description": parsed.description,
        "min_hours": parsed.min_hours,
        "exam_rules": exam_rules_json(parsed.exam),
        "certificate_title": parsed.certificate_title,
        "validity_years": parsed.validity_years,
        "yaml_text": parsed.yaml_text,
        "content_hash": text_hash(parsed.yaml_text),
    }


def assign_columns(course: Course, columns: dict[str, Any]) -> bool:
    """Set the columns that differ; True when any did."""
    changed = False
    for name, value in columns.items():
        if getattr(course, name) != value:
            setattr(course, name, value)
            changed = True
    return changed


def current_texts(session: Session, course: Course) -> dict[str, str]:
    """Module name → current text, for the course's modules that are not archived, in course order."""
    query = (
        select(CourseModule.name, ModuleVersion.text)
        .join(
            ModuleVersion,
            and_(
                col(ModuleVersion.module_id) == CourseModule.id,
                col(ModuleVersion.number) == CourseModule.current_version,
            ),
        )
        .where(CourseModule.course_id == row_id(course), col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position), col(CourseModule.id))
    )
    return {name: text for name, text in session.exec(query)}


def active_modules(session: Session, course: Course) -> list[CourseModule]:
    query = (
        select(CourseModule)
        .where(CourseModule.course_id == row_id(course), col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position), col(CourseModule.id))
    )
    return list(session.exec(query))


def module_version_hashes(session: Session, module_ids: Iterable[int]) -> VersionHashes:
    ids = list(module_ids)
    found: VersionHashes = {module_id: {} for module_id in ids}
    if ids:
        query = select(ModuleVersion.module_id, ModuleVersion.number, ModuleVersion.content_hash).where(
            col(ModuleVersion.module_id).in_(ids)
        )
        for module_id, number, content_hash in session.exec(query):
            found[module_id][number] = content_hash
    return found


def add_module_version(
    session: Session,
    row: CourseModule,
    module: fmt.Module,
    *,
    number: int,
    author: User | None,
    message: str,
) -> ModuleVersion:
    """Add version `number` with the module's text and make it the current one."""
    version = ModuleVersion(
        module_id=row_id(row),
        number=number,
        text=module.text,
        content_hash=module.content_hash(),
        title=module.title,
        title_en=module.title_en,
        group=module.group,
        hours=module.hours,
        author_id=author.id if author else None,
        message=message,
    )
    session.add(version)
    row.current_version = number
    return version


def sync_questions(
    session: Session,
    course_id: int,
    placed: Sequence[tuple[CourseModule, Sequence[fmt.Question]]],
    *,
    scope: set[int],
) -> tuple[int, bool]:
    """Bring the Question rows in line with the questions now in the `placed` modules: new rows, a new
    version per changed block, moves between modules, restores. Questions of the `scope` modules that are
    in none of them any more are archived. Returns (versions added, whether any row moved or was
    archived or restored)."""
    rows = {row.qid: row for row in session.exec(select(Question).where(Question.course_id == course_id))}
    hashes = _question_version_hashes(session, course_id)
    added, changed, seen = 0, False, set()
    fresh: list[tuple[Question, fmt.Question]] = []
    for module_row, questions in placed:
        for parsed in questions:
            seen.add(parsed.id)
            row = rows.get(parsed.id)
            if row is None:
                row = Question(course_id=course_id, module_id=row_id(module_row), qid=parsed.id)
                fresh.append((row, parsed))
                continue
            if row.module_id != module_row.id or row.archived_at is not None:
                row.module_id, row.archived_at, changed = row_id(module_row), None, True
            numbers = hashes.get(row_id(row), {})
            if numbers.get(row.current_version) != parsed.content_hash():
                row.current_version = max(numbers, default=0) + 1
                session.add(question_version(row_id(row), row.current_version, parsed))
                added += 1
    now = utcnow()
    for row in rows.values():
        if row.qid not in seen and row.archived_at is None and row.module_id in scope:
            row.archived_at, changed = now, True
    session.add_all([row for row, _ in fresh])
    session.flush()
    session.add_all([question_version(row_id(row), 1, parsed) for row, parsed in fresh])
    session.flush()
    return added + len(fresh), changed


def _question_version_hashes(session: Session, course_id: int) -> VersionHashes:
    query = (
        select(QuestionVersion.question_id, QuestionVersion.number, QuestionVersion.content_hash)
        .join(Question, col(Question.id) == QuestionVersion.question_id)
        .where(Question.course_id == course_id)
    )
    found: VersionHashes = {}
    for question_id, number, content_hash in session.exec(query):
        found.setdefault(question_id, {})[number] = content_hash
    return found


def question_version(question_id: int, number: int, parsed: fmt.Question) -> QuestionVersion:
    return QuestionVersion(
        question_id=question_id,
        number=number,
        content_hash=parsed.content_hash(),
        type=parsed.type,
        points=parsed.points,
        exam=parsed.exam,
        scoring=parsed.scoring,
        tags=list(parsed.tags),
        stem=parsed.stem,
        options=[{"text": option.text, "correct": option.correct} for option in parsed.options],
        accepted=list(parsed.accepted),
        truth=parsed.truth,
        numeric_low=parsed.numeric_low,
        numeric_high=parsed.numeric_high,
        explanation=parsed.explanation,
        source=parsed.source,
    )
