"""The question bank as instructors see it: each module's questions (current versions, in the text's order)
with item statistics; GIFT import into a module and GIFT export of a module's questions.

Import writes the questions as question blocks at the end of the module's text and saves a new module
version through backend.courses.versions.save_module_version, so the module files (and their export)
stay the source of truth and the whole course is validated as for any edit.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from backend.courses.format import Problem, find_question_fences, split_lines
from backend.courses.importer import CourseProblems
from backend.courses.versions import current_module_version, save_module_version
from backend.errors import NotFound
from backend.exams import gift, gift_reader, stats
from backend.i18n import _
from backend.models import Course, CourseModule, ModuleVersion, Question, QuestionVersion, User


@dataclass(frozen=True)
class BankQuestion:
    qid: str
    question_id: int
    version: QuestionVersion
    stats: stats.ItemStats


@dataclass(frozen=True)
class BankModule:
    module: CourseModule
    title: str
    group: str
    questions: list[BankQuestion]


def course_list(session: Session) -> list[tuple[Course, int]]:
    """Every course with its number of current questions."""
    counts = dict(
        session.exec(
            select(Question.course_id, func.count())
            .where(col(Question.archived_at).is_(None))
            .group_by(col(Question.course_id))
        ).all()
    )
    courses = session.exec(select(Course).order_by(col(Course.title))).all()
    return [(course, int(counts.get(course.id or 0, 0))) for course in courses]


def question_bank(session: Session, *, course: Course) -> list[BankModule]:
    """The course's modules in order, each with its current questions and their statistics."""
    modules = session.exec(
        select(CourseModule, ModuleVersion)
        .join(
            ModuleVersion,
            and_(
                col(ModuleVersion.module_id) == CourseModule.id,
                col(ModuleVersion.number) == CourseModule.current_version,
            ),
        )
        .where(CourseModule.course_id == course.id, col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position))
    ).all()
    by_module: dict[int, list[tuple[str, int, QuestionVersion]]] = {}
    for qid, question_id, module_id, question in _current_questions(session, course_id=course.id or 0):
        by_module.setdefault(module_id, []).append((qid, question_id, question))
    figures = stats.item_statistics(session, course_id=course.id or 0)
    bank = []
    for module, version in modules:
        order = {qid: index for index, qid in enumerate(text_order(version.text))}
        rows = sorted(
            by_module.get(module.id or 0, []), key=lambda row: (order.get(row[0], len(order)), row[0])
        )
        questions = [BankQuestion(qid, qn, ver, figures.get(qn, stats.EMPTY)) for qid, qn, ver in rows]
        bank.append(BankModule(module, version.title, version.group, questions))
    return bank


def _current_questions(session: Session, *, course_id: int) -> list[tuple[str, int, int, QuestionVersion]]:
    query = (
        select(Question.qid, Question.id, Question.module_id, QuestionVersion)
        .join(
            QuestionVersion,
            and_(
                col(QuestionVersion.question_id) == Question.id,
                col(QuestionVersion.number) == Question.current_version,
            ),
        )
        .where(Question.course_id == course_id, col(Question.archived_at).is_(None))
    )
    return [
        (qid, question_id or 0, module_id, version)
        for qid, question_id, module_id, version in session.exec(query)
    ]


def text_order(text: str) -> list[str]:
    """Question ids in the order their blocks appear in a module's text."""
    ids = []
    for fence in find_question_fences(text):
        try:
            words = shlex.split(fence.info)
        except ValueError:
            words = fence.info.split()
        attrs = dict(word.partition("=")[::2] for word in words[1:])
        if attrs.get("id"):
            ids.append(attrs["id"])
    return ids


def _module(session: Session, *, course: Course, name: str) -> CourseModule:
    module = session.exec(
        select(CourseModule).where(
            CourseModule.course_id == course.id,
            CourseModule.name == name,
            col(CourseModule.archived_at).is_(None),
        )
    ).first()
    if module is None:
        raise NotFound(_("There is no such module in this course."))
    return module


# ---- GIFT -----------------------------------------------------------------------------------------------------


def gift_question(qid: str, version: QuestionVersion) -> gift.GiftQuestion:
    return gift.GiftQuestion(
        line=0,
        id=qid,
        type=version.type,
        stem=version.stem,
        points=version.points,
        exam=version.exam,
        scoring=version.scoring,
        tags=list(version.tags),
        options=[(str(option.get("text", "")), bool(option.get("correct"))) for option in version.options],
        accepted=list(version.accepted),
        truth=version.truth,
        low=version.numeric_low,
        high=version.numeric_high,
        explanation=version.explanation,
    )


def export_module_gift(session: Session, *, course: Course, module_name: str) -> str:
    """The module's current questions as a GIFT file (in the text's order)."""
    module = _module(session, course=course, name=module_name)
    current = current_module_version(session, module)
    rows = [row for row in _current_questions(session, course_id=course.id or 0) if row[2] == module.id]
    order = {qid: index for index, qid in enumerate(text_order(current.text))}
    rows.sort(key=lambda row: (order.get(row[0], len(order)), row[0]))
    header = f"// {course.slug} / {module.name}: {current.title}\n// Exported from Broker Academy as Moodle GIFT.\n\n"
    return header + "\n".join(gift.to_gift(gift_question(qid, version)) for qid, _id, _m, version in rows)


def import_module_gift(session: Session, *, course: Course, module_name: str, text: str, author: User) -> int:
    """Append the GIFT file's questions to the module and save a new version; returns how many. Raises
    GiftProblems (every problem with its GIFT line) and then changes nothing."""
    module = _module(session, course=course, name=module_name)
    current = current_module_version(session, module)
    taken = set(session.exec(select(Question.qid).where(Question.course_id == course.id)))
    questions = gift_reader.parse_gift(text, taken_ids=taken, id_prefix=f"{module.name}-gift")
    base = current.text.replace("\r\n", "\n").rstrip("\n") + "\n"
    starts, blocks, line = [], [], len(split_lines(base)) + 2
    for question in questions:
        block = gift.question_block(question)
        starts.append((line, line + len(split_lines(block)), question.line))
        blocks.append(block)
        line += len(split_lines(block)) + 1
    new_text = base + "\n" + "\n".join(blocks)
    message = f"Imported {len(questions)} questions from GIFT"
    try:
        save_module_version(session, module=module, text=new_text, author=author, message=message)
    except CourseProblems as failed:
        mapped = [_gift_problem(problem, starts, module.name) for problem in failed.problems]
        raise gift.GiftProblems(mapped) from None
    return len(questions)


def _gift_problem(problem: Problem, starts: list[tuple[int, int, int]], name: str) -> Problem:
    """A course problem found after the import, pointed back at the GIFT line of its question."""
    for first, end, gift_line in starts:
        if problem.path.name == f"{name}.md" and first <= problem.line < end:
            return Problem(gift.GIFT_PATH, gift_line, problem.message)
    return Problem(gift.GIFT_PATH, 1, f"{problem.path}:{problem.line}: {problem.message}")
