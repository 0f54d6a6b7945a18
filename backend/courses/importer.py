"""Importing course folders into the database: validated whole, then stored idempotently.

A course with any problem is refused and nothing changes. Re-importing adds a ModuleVersion only for a
module file that changed since it was last imported (so edits made in the browser meanwhile survive a
re-import of the same files), a QuestionVersion only for a question block that changed, and archives
(never deletes) the modules dropped from course.yaml and the questions dropped from their module.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlmodel import Session, SQLModel, select

from backend.audit import record_event
from backend.courses import format as fmt
from backend.courses.format import Problem, load_course
from backend.courses.storage import (
    add_module_version,
    assign_columns,
    course_columns,
    module_version_hashes,
    row_id,
    sync_questions,
    text_hash,
)
from backend.errors import DomainError
from backend.models import Course, CourseModule, Question, User, utcnow

IMPORT_MESSAGE = "Imported from the course files"
_MISSING_IMAGE = re.compile(r"image '(.+)' does not exist\Z")


@dataclass(frozen=True)
class CourseImportResult:
    slug: str
    created: bool
    modules_added: int  # new modules, and archived ones listed again
    module_versions_added: int
    questions_versions_added: int
    modules_archived: int
    unchanged: bool


class CourseProblems(DomainError):
    """A course (or an edit of one) that does not validate; its message lists `path:line: message`."""

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = list(problems)


def import_course(session: Session, course_dir: Path, *, author: User | None = None) -> CourseImportResult:
    """Validate one course folder and store it; raises CourseProblems (and changes nothing) on any problem."""
    parsed, problems = read_course(course_dir)
    if parsed is None:
        raise CourseProblems(problems)
    return store_course(session, parsed, author=author)


def import_course_tree(
    session: Session, root: Path, *, author: User | None = None
) -> list[CourseImportResult]:
    """Every course folder under `root` (or `root` itself when it is one). All of them are validated
    first; if any has a problem, CourseProblems lists every problem of every course and none is stored."""
    folders, problems = course_folders(root)
    loaded = []
    for folder in folders:
        parsed, found = read_course(folder)
        problems += found
        if parsed is not None:
            loaded.append(parsed)
    if problems:
        raise CourseProblems(problems)
    return [store_course(session, parsed, author=author) for parsed in loaded]


def course_folders(root: Path) -> tuple[list[Path], list[Problem]]:
    """The course folders `check_courses` would check, and the problems of the tree's shape."""
    if not root.is_dir():
        return [], [Problem(root, 1, "no such folder")]
    if (root / "course.yaml").exists() or any(root.glob("*.md")):
        return [root], []
    folders: list[Path] = []
    problems: list[Problem] = []
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        if (folder / "course.yaml").exists():
            folders.append(folder)
        elif any(folder.glob("*.md")):
            problems.append(Problem(folder / "course.yaml", 1, "course.yaml is missing"))
    if not folders and not problems:
        problems.append(Problem(root, 1, "no course here: no course.yaml in this folder or its subfolders"))
    return folders, problems


def read_course(course_dir: Path) -> tuple[fmt.Course | None, list[Problem]]:
    """`load_course`, plus the limits of the database columns (a title of at most 200 characters, ...)."""
    parsed, problems = load_course(course_dir)
    if parsed is not None:
        problems = _length_problems(parsed)
    return (parsed if not problems else None), problems


def load_course_texts(
    slug: str, yaml_text: str, module_texts: dict[str, str], *, media_dir: Path | None = None
) -> tuple[fmt.Course | None, list[Problem]]:
    """Validate a course held in memory (as stored) exactly as a folder is validated; problems name files
    `<slug>/<file>`. Images are checked against the names in `media_dir`; without it, not at all."""
    with tempfile.TemporaryDirectory(prefix="academy-course-") as temp:
        folder = Path(temp) / slug
        folder.mkdir()
        (folder / "course.yaml").write_bytes(yaml_text.encode("utf-8"))
        for name, text in module_texts.items():
            (folder / f"{name}.md").write_bytes(text.encode("utf-8"))
        if media_dir is not None and media_dir.is_dir():
            for source in media_dir.rglob("*"):
                _placeholder(folder, folder / "media" / source.relative_to(media_dir))
        parsed, problems = read_course(folder)
        missing = [_missing_image(problem) for problem in problems] if media_dir is None else []
        if any(missing):  # the images live on disk elsewhere: do not judge them here
            for name in filter(None, missing):
                _placeholder(folder, folder / name)
            parsed, problems = read_course(folder)
        problems = [Problem(slug / p.path.relative_to(folder), p.line, p.message) for p in problems]
    return parsed, problems


def _missing_image(problem: Problem) -> str:
    match = _MISSING_IMAGE.match(problem.message)
    return unquote(urlsplit(match[1]).path) if match else ""


def _placeholder(folder: Path, path: Path) -> None:
    if path.resolve().is_relative_to(folder.resolve()) and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def _length_problems(parsed: fmt.Course) -> list[Problem]:
    """Values longer than their column; the validator has no such limits, but PostgreSQL has."""
    yaml_path, yaml_text = parsed.path / "course.yaml", parsed.yaml_text
    checks = [
        (yaml_path, _key_line(yaml_text, "slug"), "slug", parsed.slug, _limit(Course, "slug")),
        (yaml_path, _key_line(yaml_text, "title"), "title", parsed.title, _limit(Course, "title")),
        (
            yaml_path,
            _key_line(yaml_text, "title_en"),
            "title_en",
            parsed.title_en,
            _limit(Course, "title_en"),
        ),
        (
            yaml_path,
            _key_line(yaml_text, "language"),
            "language",
            parsed.language,
            _limit(Course, "language"),
        ),
        (
            yaml_path,
            _key_line(yaml_text, "certificate", "title"),
            "certificate.title",
            parsed.certificate_title,
            _limit(Course, "certificate_title"),
        ),
    ]
    for module in parsed.modules:
        name_line = _key_line(yaml_text, "modules") + parsed.module_names.index(module.name) + 1
        checks.append((yaml_path, name_line, "module name", module.name, _limit(CourseModule, "name")))
        checks.append((module.path, _key_line(module.text, "title"), "title", module.title, 200))
        checks.append((module.path, _key_line(module.text, "title_en"), "title_en", module.title_en, 200))
        for question in module.questions:
            checks.append((module.path, question.line, "question id", question.id, _limit(Question, "qid")))
    return [
        Problem(path, line, f"{what} is longer than {limit} characters ({len(value)})")
        for path, line, what, value, limit in checks
        if len(value) > limit
    ]


def _limit(model: type[SQLModel], column: str) -> int:
    return int(model.__table__.c[column].type.length)  # type: ignore[attr-defined]


def _key_line(text: str, *keys: str) -> int:
    """The 1-based line of `keys[-1]:`, searching each key after the line of the one before it."""
    lines, line = text.splitlines(), 0
    for key in keys:
        pattern = re.compile(rf"\s*{re.escape(key)}\s*:")
        line = next((i for i in range(line, len(lines)) if pattern.match(lines[i])), line)
    return line + 1


# ---- storing a validated course ------------------------------------------------------------------------


@dataclass
class _Tally:
    modules_added: int = 0
    module_versions_added: int = 0
    question_versions_added: int = 0
    modules_archived: int = 0
    changed: bool = False  # anything else a person would notice: settings, order, restored questions
    fresh: set[int] = field(default_factory=set)  # modules created or restored by this import
    archived: set[int] = field(default_factory=set)


def store_course(session: Session, parsed: fmt.Course, *, author: User | None = None) -> CourseImportResult:
    """Store a course that validated. course.yaml is taken (settings, module list and order) when it
    changed since the last import; each module file likewise."""
    course = session.exec(select(Course).where(Course.slug == parsed.slug)).first()
    created = course is None
    yaml_hash = text_hash(parsed.yaml_text)
    if course is None:
        course = Course(slug=parsed.slug, source_hash=yaml_hash, **course_columns(parsed))
        session.add(course)
        session.flush()
    tally = _Tally()
    rows = {
        row.name: row for row in session.exec(select(CourseModule).where(CourseModule.course_id == course.id))
    }
    listed = [rows.get(name) for name in parsed.module_names]
    if course.source_hash != yaml_hash or any(row is None or row.archived_at for row in listed):
        tally.changed |= assign_columns(course, course_columns(parsed))
        course.source_hash = yaml_hash
        _place_modules(session, course, parsed, rows, tally)
    placed = [(rows[module.name], module) for module in parsed.modules]
    synced = _take_module_files(session, placed, author, tally)
    scope = {row_id(row) for row, _ in synced} | tally.archived
    added, moved = sync_questions(session, row_id(course), synced, scope=scope)
    tally.question_versions_added = added
    counts = (tally.modules_added, tally.module_versions_added, added, tally.modules_archived)
    unchanged = not (created or tally.changed or moved or any(counts))
    if not unchanged:
        course.updated_at = utcnow()
        after = {"slug": course.slug, "created": created, "modules_added": counts[0]}
        after |= {"module_versions_added": counts[1], "question_versions_added": counts[2]}
        after |= {"modules_archived": counts[3]}
        record_event(
            session,
            actor=author,
            action="course.imported",
            target_type="course",
            target_id=row_id(course),
            after=after,
        )
    return CourseImportResult(parsed.slug, created, *counts, unchanged=unchanged)


def _place_modules(
    session: Session, course: Course, parsed: fmt.Course, rows: dict[str, CourseModule], tally: _Tally
) -> None:
    """Module rows in course.yaml's order: new ones created, archived ones restored, unlisted archived."""
    fresh, archived = [], []
    for position, name in enumerate(parsed.module_names):
        row = rows.get(name)
        if row is None:
            row = rows[name] = CourseModule(course_id=row_id(course), name=name, current_version=0)
            session.add(row)
            fresh.append(row)
        elif row.archived_at is not None:
            row.archived_at = None
            fresh.append(row)
        elif row.position != position:
            tally.changed = True
        row.position = position
    for row in rows.values():
        if row.name not in parsed.module_names and row.archived_at is None:
            row.archived_at = utcnow()
            archived.append(row)
    session.flush()
    tally.modules_added, tally.modules_archived = len(fresh), len(archived)
    tally.fresh = {row_id(row) for row in fresh}
    tally.archived = {row_id(row) for row in archived}


def _take_module_files(
    session: Session, placed: list[tuple[CourseModule, fmt.Module]], author: User | None, tally: _Tally
) -> list[tuple[CourseModule, tuple[fmt.Question, ...]]]:
    """A new version for each module file that changed since its last import (and differs from the
    current text); returns the modules whose questions now follow their file."""
    hashes = module_version_hashes(session, [row_id(row) for row, _ in placed])
    synced = []
    for row, module in placed:
        file_hash = module.content_hash()
        if file_hash == row.source_hash and row_id(row) not in tally.fresh:
            continue  # unchanged since imported: keep the stored text, edited or not
        numbers = hashes[row_id(row)]
        if numbers.get(row.current_version) != file_hash:
            number = max(numbers, default=0) + 1
            add_module_version(session, row, module, number=number, author=author, message=IMPORT_MESSAGE)
            tally.module_versions_added += 1
        row.source_hash = file_hash
        synced.append((row, module.questions))
    session.flush()
    return synced
