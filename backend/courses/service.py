"""Reading courses and learning them: the catalogue, a course's outline, a module with its self-check questions,
answering a self-check, completing a module and the hours (学时) a trainee has earned. No HTTP here.

Reads go through reading.py (prebuilt Core statements, a page's data in one to three queries, nothing left to
load lazily in templates). Module text is rendered once per module version: kept in each worker's memory and
in ModuleVersion.rendered_html (see render.py). Writes are ORM/INSERT statements in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend.courses import reading
from backend.courses.format import GROUPS
from backend.courses.grading import GradeResult, grade_answer, is_blank
from backend.courses.reading import CourseRef, ModuleRow, ModuleSummary, Progress, QuestionSnapshot
from backend.courses.render import RenderedModule, render_module, rendered_from_html
from backend.errors import Conflict, NotFound, ValidationFailed
from backend.i18n import _
from backend.models import ModuleProgress, ModuleVersion, SelfCheckAnswer, utcnow

# Stored in front of cached HTML; bump it when render.py changes its output, so old caches render anew.
RENDER_STAMP = "<!--academy-render:2-->"

NOT_STARTED, IN_PROGRESS, COMPLETED = "not_started", "in_progress", "completed"
LEVEL_ORDER = {"junior": 0, "intermediate": 1, "senior": 2}

__all__ = ["CourseRef", "ModuleSummary", "QuestionSnapshot"]  # re-exported for schemas and templates


def media_url(slug: str) -> str:
    return f"/courses/{slug}/media"


def module_url(slug: str, name: str) -> str:
    return f"/courses/{slug}/modules/{name}"


# ---- what pages and the API read ------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseSummary:
    course: CourseRef
    module_count: int
    total_hours: float


@dataclass(frozen=True)
class ModuleStatus:
    module: ModuleSummary
    status: str  # not_started | in_progress | completed


@dataclass(frozen=True)
class GroupOutline:
    group: str
    modules: list[ModuleStatus]
    hours: float  # of the group's modules
    hours_done: float


@dataclass(frozen=True)
class CourseOutline:
    course: CourseRef
    groups: list[GroupOutline]
    total_hours: float
    hours_done: float  # 0 for a visitor

    @property
    def hours_left(self) -> float:
        return max(0.0, round(self.course.min_hours - self.hours_done, 4))


@dataclass(frozen=True)
class SelfCheck:
    """One question of a module as a trainee sees it: the current version and their answer to it, if any."""

    qid: str
    question_id: int
    version: QuestionSnapshot
    number: int  # 1, 2, ... in the module's order
    answer: dict[str, Any] | None = None
    result: GradeResult | None = None


@dataclass(frozen=True)
class ModulePage:
    course: CourseRef
    module: ModuleSummary
    version_id: int
    version_hash: str
    rendered: RenderedModule
    fresh_html: str | None  # HTML rendered by this request, for the caller to cache; None when it was cached
    previous: ModuleSummary | None
    next: ModuleSummary | None
    selfchecks: list[SelfCheck]
    status: str
    hours_credited: float

    @property
    def unanswered(self) -> int:
        return sum(item.answer is None for item in self.selfchecks)

    def selfcheck(self, qid: str) -> SelfCheck | None:
        return next((item for item in self.selfchecks if item.qid == qid), None)


@dataclass
class CourseProgress:
    """What a trainee has earned in one course they started."""

    course: CourseRef
    hours_by_group: dict[str, float]
    hours_available_by_group: dict[str, float]
    completed_modules: list[str] = field(default_factory=list)
    next_module: ModuleSummary | None = None

    @property
    def hours_done(self) -> float:
        return round(sum(self.hours_by_group.values()), 4)

    @property
    def hours_left(self) -> float:
        return max(0.0, round(self.course.min_hours - self.hours_done, 4))


# ---- the catalogue and a course ---------------------------------------------------------------------------


def list_courses(session: Session) -> list[CourseSummary]:
    """Every course, junior to senior, with the count and total hours of its listed (not archived) modules."""
    summaries = [CourseSummary(*row) for row in reading.catalogue(session)]
    return sorted(summaries, key=lambda summary: _course_order(summary.course))


def course_modules(
    session: Session, *, course_id: int, include_archived: bool = False
) -> list[ModuleSummary]:
    """The course's modules in order, with their current version's title, group and hours (one query)."""
    summaries = reading.module_summaries(session, course_ids=[course_id], include_archived=include_archived)
    return summaries.get(course_id, [])


def course_outline(session: Session, *, slug: str, user_id: int | None) -> CourseOutline:
    """The course page: listed modules by syllabus group (in the syllabus order), each with the trainee's
    status, and the hours they have earned in the course (archived modules included: earned stays earned)."""
    found = reading.course_with_modules(session, slug=slug, user_id=user_id)
    if found is None:
        raise NotFound(_("There is no such course."))
    course, modules = found
    listed = [(module, progress) for module, progress in modules if not module.archived]
    groups = []
    for group in _groups_in_order(module.group for module, _progress in listed):
        members = [(module, progress) for module, progress in listed if module.group == group]
        groups.append(
            GroupOutline(
                group=group,
                modules=[ModuleStatus(module, _status(progress)) for module, progress in members],
                hours=sum(module.hours for module, _progress in members),
                hours_done=sum(progress.hours_credited for _module, progress in members),
            )
        )
    total = sum(module.hours for module, _progress in listed)
    done = round(sum(progress.hours_credited for _module, progress in modules), 4)
    return CourseOutline(course, groups, total, done)


# ---- a module ----------------------------------------------------------------------------------------------


def get_module(session: Session, *, slug: str, name: str, user_id: int | None = None) -> ModuleRow:
    """A module (archived ones too) with its current version's facts and the trainee's progress in it."""
    row = reading.module_row(session, slug=slug, name=name, user_id=user_id)
    if row is None:
        raise NotFound(_("There is no such module in this course."))
    return row


def module_page(session: Session, *, slug: str, name: str, user_id: int | None) -> ModulePage:
    """Everything the module page shows, in two queries when this worker's caches are warm."""
    found = reading.module_with_siblings(session, slug=slug, name=name, user_id=user_id)
    if found is None:
        raise NotFound(_("There is no such module in this course."))
    row, modules = found
    rendered, fresh = _rendered(session, row)
    listed = [item for item in modules if not item.archived]
    position = next((i for i, item in enumerate(listed) if item.id == row.summary.id), None)
    previous = listed[position - 1] if position is not None and position > 0 else None
    following = listed[position + 1] if position is not None and position + 1 < len(listed) else None
    return ModulePage(
        course=row.course,
        module=row.summary,
        version_id=row.version_id,
        version_hash=row.version_hash,
        rendered=rendered,
        fresh_html=RENDER_STAMP + rendered.html if fresh else None,
        previous=previous,
        next=following,
        selfchecks=module_selfchecks(
            session, module_id=row.summary.id, order=rendered.question_ids, user_id=user_id
        ),
        status=_status(row.progress),
        hours_credited=row.progress.hours_credited,
    )


def module_selfchecks(
    session: Session, *, module_id: int, order: Iterable[str] = (), user_id: int | None
) -> list[SelfCheck]:
    """The module's questions (current versions) in `order` (the text's order; any others after, by id),
    each with the trainee's answer when it was given to that version."""
    rows = reading.module_questions(session, module_id=module_id, user_id=user_id)
    versions = reading.question_snapshots(session, [(row.version_id, row.version_hash) for row in rows])
    rank = {qid: index for index, qid in enumerate(order)}
    items = []
    ordered = sorted(rows, key=lambda row: (rank.get(row.qid, len(rank)), row.qid))
    for number, row in enumerate(ordered, start=1):
        version = versions[row.version_id]
        if row.answer is not None and row.answered_version_id == row.version_id:
            result = grade_answer(version, row.answer)
            items.append(SelfCheck(row.qid, row.question_id, version, number, row.answer, result))
        else:  # not answered, or answered before the question changed: asked again
            items.append(SelfCheck(row.qid, row.question_id, version, number))
    return items


def answer_self_check(
    session: Session, *, user_id: int, slug: str, name: str, qid: str, answer: Mapping[str, Any]
) -> SelfCheck:
    """Grade and keep the trainee's latest answer to a self-check question; the module counts as started.

    Raises ValidationFailed ({"answer": message}) for a blank answer, which changes nothing."""
    row = get_module(session, slug=slug, name=name)
    checks = module_selfchecks(session, module_id=row.summary.id, user_id=None)
    item = next((check for check in checks if check.qid == qid), None)
    if item is None:
        raise NotFound(_("There is no such question in this module."))
    if is_blank(item.version.type, answer):
        choose = item.version.type in ("single", "multiple", "truefalse")
        message = _("Choose an answer first.") if choose else _("Write an answer first.")
        raise ValidationFailed({"answer": message})
    result = grade_answer(item.version, answer)
    values = {
        "user_id": user_id,
        "question_id": item.question_id,
        "question_version_id": item.version.id,
        "answer": dict(answer),
        "correct": result.correct,
        "answered_at": utcnow(),
    }
    changed = {key: values[key] for key in ("question_version_id", "answer", "correct", "answered_at")}
    insert = _insert_for(session)
    session.execute(
        insert(SelfCheckAnswer)
        .values(**values)
        .on_conflict_do_update(index_elements=["user_id", "question_id"], set_=changed)
    )
    session.execute(
        insert(ModuleProgress)
        .values(user_id=user_id, module_id=row.summary.id, started_at=utcnow(), hours_credited=0)
        .on_conflict_do_nothing(index_elements=["user_id", "module_id"])
    )
    return SelfCheck(item.qid, item.question_id, item.version, item.number, dict(answer), result)


def complete_module(session: Session, *, user_id: int, slug: str, name: str) -> ModuleProgress:
    """Mark the module completed and credit its current version's hours; completing again changes nothing.

    Refused (Conflict) while a self-check question of the module is unanswered, and for an archived module."""
    row = get_module(session, slug=slug, name=name)
    progress = session.exec(
        select(ModuleProgress).where(
            ModuleProgress.user_id == user_id, ModuleProgress.module_id == row.summary.id
        )
    ).first()
    if progress is not None and progress.completed_at is not None:
        return progress
    if row.summary.archived:
        raise Conflict(_("This module has been withdrawn from the course and can no longer be completed."))
    checks = module_selfchecks(session, module_id=row.summary.id, user_id=user_id)
    left = sum(item.answer is None for item in checks)
    if left:
        raise Conflict(_("Answer every self-check question first: %(count)d left.") % {"count": left})
    if progress is None:
        progress = ModuleProgress(user_id=user_id, module_id=row.summary.id)
    progress.completed_at = utcnow()
    progress.hours_credited = row.summary.hours
    session.add(progress)
    session.flush()
    return progress


def store_rendered_html(engine: Engine, *, version_id: int, html: str) -> None:
    """Cache a version's rendered HTML in its own short transaction, so a page view (a read) never has to
    upgrade its snapshot to a write. Losing a race to another worker is harmless: both wrote the same HTML."""
    with Session(engine) as session:
        session.execute(
            update(ModuleVersion).where(col(ModuleVersion.id) == version_id).values(rendered_html=html)
        )
        session.commit()


# ---- progress ----------------------------------------------------------------------------------------------


def progress_summary(session: Session, *, user_id: int) -> list[CourseProgress]:
    """Every course the trainee has started: hours per syllabus group, completed modules, the next module."""
    started = reading.user_progress(session, user_id=user_id)
    if not started:
        return []
    course_ids = sorted({course_id for course_id, _module_id, _progress in started})
    progress_by_module = {module_id: progress for _course_id, module_id, progress in started}
    modules = reading.module_summaries(session, course_ids=course_ids, include_archived=True)
    summaries = []
    for course in sorted(reading.courses_by_id(session, course_ids=course_ids), key=_course_order):
        summary = CourseProgress(
            course=course,
            hours_by_group=dict.fromkeys(GROUPS, 0.0),
            hours_available_by_group=dict.fromkeys(GROUPS, 0.0),
        )
        for module in modules.get(course.id, []):
            progress = progress_by_module.get(module.id, reading.NO_PROGRESS)
            if not module.archived:
                available = summary.hours_available_by_group
                available[module.group] = available.get(module.group, 0.0) + module.hours
            if progress.completed:
                done = summary.hours_by_group
                done[module.group] = done.get(module.group, 0.0) + progress.hours_credited
                summary.completed_modules.append(module.name)
            elif summary.next_module is None and not module.archived:
                summary.next_module = module
        summaries.append(summary)
    return summaries


# ---- helpers -----------------------------------------------------------------------------------------------


def _rendered(session: Session, row: ModuleRow) -> tuple[RenderedModule, bool]:
    """The version's rendered text: from this worker's cache, else the database's, else rendered now (then
    True: the caller stores it)."""
    key = (row.version_id, row.version_hash, row.course.slug)
    cached = reading.rendered_modules.get(key)
    if cached is not None:
        return cached, False
    stored, text = reading.version_html(session, version_id=row.version_id)
    fresh = not (stored and stored.startswith(RENDER_STAMP))
    if fresh:
        rendered = render_module(text, media_url=media_url(row.course.slug))
    else:
        rendered = rendered_from_html((stored or "")[len(RENDER_STAMP) :])
    reading.rendered_modules.put(key, rendered)
    return rendered, fresh


def _insert_for(session: Session) -> Any:
    """INSERT ... ON CONFLICT for the database in use: a double-clicked answer must not fail on the unique key."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _status(progress: Progress) -> str:
    if progress.completed:
        return COMPLETED
    return IN_PROGRESS if progress.started else NOT_STARTED


def _groups_in_order(groups: Iterable[str]) -> list[str]:
    present = set(groups)
    return [group for group in GROUPS if group in present] + sorted(present - set(GROUPS))


def _course_order(course: CourseRef) -> tuple[int, str]:
    return LEVEL_ORDER.get(course.level, len(LEVEL_ORDER)), course.slug
