"""The read queries behind the course pages: prebuilt Core statements (no ORM loading, no statement building
per request) and per-process caches of what never changes.

A module version's rendered text and a question version's content are immutable, so each worker keeps them
in a small LRU: rendered text and question content keyed by (row id, content hash), so a reused id (SQLite
reuses the highest rowid after a delete) is a cache miss rather than stale content; a version's title and
hours keyed by (module id, version number), which is safe because versions are never deleted (a process
that outlives an emptied database, like the test suite, calls `clear_caches`). Nothing another worker needs lives here: a cold
cache only costs a query. What can change (current versions, archiving, positions, a trainee's answers and
progress) is read on every view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlmodel import Session, SQLModel

import backend.models  # noqa: F401  (registers the tables)
from backend.courses.render import RenderedModule

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_tables = SQLModel.metadata.tables
course_t = _tables["course"]
module_t = _tables["course_module"]
version_t = _tables["module_version"]
progress_t = _tables["module_progress"]
question_t = _tables["question"]
qversion_t = _tables["question_version"]
answer_t = _tables["self_check_answer"]


class LRU(Generic[K, V]):
    """A bounded, thread-safe mapping that forgets the least recently used entry."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


# ---- rows ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseRef:
    """A course's facts for pages and the API (not course.yaml, not the exam rules)."""

    id: int
    slug: str
    title: str
    title_en: str
    level: str
    language: str
    description: str
    min_hours: float


@dataclass(frozen=True)
class ModuleSummary:
    """A module with the facts of its current version (no text)."""

    id: int
    name: str
    position: int
    title: str
    title_en: str
    group: str
    hours: float
    archived: bool


@dataclass(frozen=True)
class VersionFacts:
    """The small columns of a module version (module_id, number): never changed once the version exists."""

    id: int
    content_hash: str
    title: str
    title_en: str
    group: str
    hours: float


@dataclass(frozen=True)
class Progress:
    """A trainee's state in one module."""

    started: bool
    completed: bool
    hours_credited: float  # 0 until completed


NO_PROGRESS = Progress(False, False, 0.0)


@dataclass(frozen=True)
class ModuleRow:
    """One module found by course slug and name: its current version's facts and the trainee's progress."""

    course: CourseRef
    summary: ModuleSummary
    version_id: int
    version_hash: str
    progress: Progress


@dataclass(frozen=True)
class QuestionSnapshot:
    """The fields of a QuestionVersion that pages and grading read (it satisfies grading.GradableQuestion)."""

    id: int
    content_hash: str
    type: str
    points: float
    exam: bool
    scoring: str
    stem: str
    options: list[dict[str, Any]]
    accepted: list[str]
    truth: bool | None
    numeric_low: float | None
    numeric_high: float | None
    explanation: str


@dataclass(frozen=True)
class QuestionRow:
    """A current question of a module, its current version, and the trainee's latest answer (to any version)."""

    question_id: int
    qid: str
    version_id: int
    version_hash: str
    answered_version_id: int | None
    answer: dict[str, Any] | None


# ---- statements ---------------------------------------------------------------------------------------

_COURSE_COLUMNS = [
    course_t.c[name]
    for name in ("id", "slug", "title", "title_en", "level", "language", "description", "min_hours")
]
# course_module rows are small; the version facts come from `version_facts` (see its docstring).
_MODULE_COLUMNS = [
    module_t.c.id,
    module_t.c.name,
    module_t.c.position,
    module_t.c.current_version,
    module_t.c.archived_at,
]
_PROGRESS_COLUMNS = [progress_t.c.id, progress_t.c.completed_at, progress_t.c.hours_credited]
_N_COURSE, _N_MODULE = len(_COURSE_COLUMNS), len(_MODULE_COLUMNS)


def _modules_query(*, only_named: bool, progress_of_named: bool) -> Select[Any]:
    """A course's modules by slug (or only the one named), with the trainee's progress (in every module, or
    only in the named one)."""
    progress_on = and_(progress_t.c.module_id == module_t.c.id, progress_t.c.user_id == bindparam("user_id"))
    if progress_of_named:
        progress_on = and_(progress_on, module_t.c.name == bindparam("name"))
    query = (
        select(*_COURSE_COLUMNS, *_MODULE_COLUMNS, *_PROGRESS_COLUMNS)
        .select_from(
            course_t.join(module_t, module_t.c.course_id == course_t.c.id).outerjoin(progress_t, progress_on)
        )
        .where(course_t.c.slug == bindparam("slug"))
        .order_by(module_t.c.position, module_t.c.name)
    )
    return query.where(module_t.c.name == bindparam("name")) if only_named else query


_ONE_MODULE = _modules_query(only_named=True, progress_of_named=True)
_MODULE_AND_SIBLINGS = _modules_query(only_named=False, progress_of_named=True)
_COURSE_OUTLINE = _modules_query(only_named=False, progress_of_named=False)
_ALL_COURSES = select(*_COURSE_COLUMNS)
_COURSES_BY_ID = select(*_COURSE_COLUMNS).where(course_t.c.id.in_(bindparam("course_ids", expanding=True)))
_MODULES_OF_COURSES = select(module_t.c.course_id, *_MODULE_COLUMNS).order_by(
    module_t.c.position, module_t.c.name
)
_USER_PROGRESS = (
    select(
        module_t.c.course_id, progress_t.c.module_id, progress_t.c.completed_at, progress_t.c.hours_credited
    )
    .select_from(progress_t.join(module_t, module_t.c.id == progress_t.c.module_id))
    .where(progress_t.c.user_id == bindparam("user_id"))
)
_VERSION_FACT_COLUMNS = [
    version_t.c.module_id,
    version_t.c.number,
    version_t.c.id,
    version_t.c.content_hash,
    version_t.c.title,
    version_t.c.title_en,
    version_t.c.group,
    version_t.c.hours,
]

_QUESTIONS = (
    select(
        question_t.c.id,
        question_t.c.qid,
        qversion_t.c.id,
        qversion_t.c.content_hash,
        answer_t.c.question_version_id,
        answer_t.c.answer,
    )
    .select_from(
        question_t.join(
            qversion_t,
            and_(
                qversion_t.c.question_id == question_t.c.id,
                qversion_t.c.number == question_t.c.current_version,
            ),
        ).outerjoin(
            answer_t,
            and_(answer_t.c.question_id == question_t.c.id, answer_t.c.user_id == bindparam("user_id")),
        )
    )
    .where(question_t.c.module_id == bindparam("module_id"), question_t.c.archived_at.is_(None))
)
_SNAPSHOT_COLUMNS = [
    qversion_t.c[name]
    for name in (
        "id",
        "content_hash",
        "type",
        "points",
        "exam",
        "scoring",
        "stem",
        "options",
        "accepted",
        "truth",
        "numeric_low",
        "numeric_high",
        "explanation",
    )
]

_snapshots: LRU[tuple[int, str], QuestionSnapshot] = LRU(8192)
_facts: LRU[tuple[int, int], VersionFacts] = LRU(8192)
# (module version id, content hash, course slug) → its rendered text; the slug is in the media URLs.
rendered_modules: LRU[tuple[int, str, str], RenderedModule] = LRU(512)
# The module page's HTML that is the same for every reader (backend/courses/page_cache.py): skeletons
# (about 40-80 KB each) and the small "complete this module" boxes, per state.
page_skeletons: LRU[tuple[Any, ...], Any] = LRU(256)
complete_boxes: LRU[tuple[Any, ...], str] = LRU(1024)


# ---- queries ------------------------------------------------------------------------------------------


def catalogue(session: Session) -> list[tuple[CourseRef, int, float]]:
    """Every course with the count and total hours of its listed (not archived) modules."""
    courses = [CourseRef(*row) for row in session.connection().execute(_ALL_COURSES).all()]
    modules = module_summaries(session, course_ids=[course.id for course in courses], include_archived=False)
    return [
        (course, len(modules[course.id]), sum(module.hours for module in modules[course.id]))
        for course in courses
    ]


def courses_by_id(session: Session, *, course_ids: list[int]) -> list[CourseRef]:
    rows = session.connection().execute(_COURSES_BY_ID, {"course_ids": course_ids}).all()
    return [CourseRef(*row) for row in rows]


def course_with_modules(
    session: Session, *, slug: str, user_id: int | None
) -> tuple[CourseRef, list[tuple[ModuleSummary, Progress]]] | None:
    """A course, and each of its modules (archived ones too) with the trainee's progress in it; None when the
    course does not exist. A course without modules comes back with an empty list."""
    rows = session.connection().execute(_COURSE_OUTLINE, {"slug": slug, "user_id": user_id}).all()
    if not rows:
        courses = session.connection().execute(_ALL_COURSES.where(course_t.c.slug == slug)).all()
        return (CourseRef(*courses[0]), []) if courses else None
    facts = version_facts(session, [_version_key(row) for row in rows])
    return CourseRef(*rows[0][:_N_COURSE]), [(_summary(row, facts), _progress(row)) for row in rows]


def module_row(session: Session, *, slug: str, name: str, user_id: int | None) -> ModuleRow | None:
    params = {"slug": slug, "name": name, "user_id": user_id}
    row = session.connection().execute(_ONE_MODULE, params).first()
    if row is None:
        return None
    return _module_row(row, version_facts(session, [_version_key(row)]))


def module_with_siblings(
    session: Session, *, slug: str, name: str, user_id: int | None
) -> tuple[ModuleRow, list[ModuleSummary]] | None:
    """The named module (as `module_row`) and every module of its course in order, archived ones too: one
    query for all the module page needs besides its questions."""
    params = {"slug": slug, "name": name, "user_id": user_id}
    rows = session.connection().execute(_MODULE_AND_SIBLINGS, params).all()
    named = next((row for row in rows if row[_N_COURSE + 1] == name), None)
    if named is None:
        return None
    facts = version_facts(session, [_version_key(row) for row in rows])
    return _module_row(named, facts), [_summary(row, facts) for row in rows]


def module_summaries(
    session: Session, *, course_ids: list[int], include_archived: bool
) -> dict[int, list[ModuleSummary]]:
    """Course id → its modules in order, each with its current version's facts."""
    query = _MODULES_OF_COURSES.where(module_t.c.course_id.in_(course_ids))
    if not include_archived:
        query = query.where(module_t.c.archived_at.is_(None))
    rows = session.connection().execute(query).all()
    facts = version_facts(session, [_version_key(row, start=1) for row in rows])
    by_course: dict[int, list[ModuleSummary]] = defaultdict(list)
    for row in rows:
        by_course[row[0]].append(_summary(row, facts, start=1))
    return by_course


def version_facts(session: Session, keys: list[tuple[int, int]]) -> dict[tuple[int, int], VersionFacts]:
    """Facts of module versions by (module id, number), from this worker's cache; the missing ones in one query.

    Why a cache: a module_version row holds the whole markdown text (and its rendered HTML) in front of the
    small columns, so SQLite walks the text's overflow pages to reach `title` or `hours`; reading them for
    every module of a course on every page view costs more than the rest of the page."""
    found = {key: facts for key in keys if (facts := _facts.get(key)) is not None}
    missing = [key for key in keys if key not in found]
    if missing:
        wanted = or_(*(and_(version_t.c.module_id == m, version_t.c.number == n) for m, n in missing))
        for row in session.connection().execute(select(*_VERSION_FACT_COLUMNS).where(wanted)).all():
            key, facts = (row[0], row[1]), VersionFacts(*row[2:])
            found[key] = facts
            _facts.put(key, facts)
    return found


def user_progress(session: Session, *, user_id: int) -> list[tuple[int, int, Progress]]:
    """(course id, module id, progress) of every module the trainee has started."""
    rows = session.connection().execute(_USER_PROGRESS, {"user_id": user_id}).all()
    return [(row[0], row[1], Progress(True, row[2] is not None, row[3] if row[2] else 0.0)) for row in rows]


def module_questions(session: Session, *, module_id: int, user_id: int | None) -> list[QuestionRow]:
    rows = session.connection().execute(_QUESTIONS, {"module_id": module_id, "user_id": user_id}).all()
    return [QuestionRow(*row) for row in rows]


def question_snapshots(session: Session, keys: list[tuple[int, str]]) -> dict[int, QuestionSnapshot]:
    """Question versions by id, from the cache; the missing ones are loaded in one query."""
    found = {key[0]: snapshot for key in keys if (snapshot := _snapshots.get(key)) is not None}
    missing = {key[0]: key for key in keys if key[0] not in found}
    if missing:
        query = select(*_SNAPSHOT_COLUMNS).where(qversion_t.c.id.in_(list(missing)))
        for row in session.connection().execute(query).all():
            snapshot = QuestionSnapshot(*row)
            found[snapshot.id] = snapshot
            _snapshots.put(missing[snapshot.id], snapshot)
    return found


def version_html(session: Session, *, version_id: int) -> tuple[str | None, str]:
    """(cached rendered HTML or None, markdown text) of a module version."""
    query = select(version_t.c.rendered_html, version_t.c.text).where(version_t.c.id == version_id)
    row = session.connection().execute(query).one()
    return row[0], row[1]


def clear_caches() -> None:
    """Forget everything cached in this process (for tests that rewrite rows behind the app's back)."""
    _snapshots.clear()
    _facts.clear()
    rendered_modules.clear()
    page_skeletons.clear()
    complete_boxes.clear()


def _version_key(row: Sequence[Any], *, start: int = _N_COURSE) -> tuple[int, int]:
    return row[start], row[start + 3]  # (module id, current version number)


def _summary(
    row: Sequence[Any], facts: dict[tuple[int, int], VersionFacts], *, start: int = _N_COURSE
) -> ModuleSummary:
    module_id, name, position, number, archived_at = row[start : start + _N_MODULE]
    version = facts[(module_id, number)]
    return ModuleSummary(
        module_id,
        name,
        position,
        version.title,
        version.title_en,
        version.group,
        version.hours,
        archived_at is not None,
    )


def _progress(row: Sequence[Any]) -> Progress:
    progress_id, completed_at, hours = row[_N_COURSE + _N_MODULE : _N_COURSE + _N_MODULE + 3]
    if progress_id is None:
        return NO_PROGRESS
    return Progress(True, completed_at is not None, hours if completed_at is not None else 0.0)


def _module_row(row: Sequence[Any], facts: dict[tuple[int, int], VersionFacts]) -> ModuleRow:
    version = facts[_version_key(row)]
    return ModuleRow(
        course=CourseRef(*row[:_N_COURSE]),
        summary=_summary(row, facts),
        version_id=version.id,
        version_hash=version.content_hash,
        progress=_progress(row),
    )
