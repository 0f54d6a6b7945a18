"""Drawing an attempt's own paper from the course's question bank by the course's `draw` rules.

Per module (course order): N questions picked at random among the module's exam questions (exam=true,
not an essay, not archived; current versions), then `essay` essays picked from the whole course. Choice
options are shuffled per attempt when the course says `shuffle_options`. Randomness comes from the
operating system (`random.SystemRandom`), so one trainee's paper cannot be predicted from another's.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_
from sqlmodel import Session, col, select

from backend.models import Course, CourseModule, ModuleVersion, Question, QuestionVersion

CHOICE_TYPES = ("single", "multiple")
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class DrawnItem:
    question_id: int
    version: QuestionVersion
    group: str
    option_order: list[int]  # shown position → index in version.options


@dataclass(frozen=True)
class _Candidate:
    question_id: int
    qid: str
    module_id: int
    version: QuestionVersion


def draw_counts(rules: Mapping[str, Any], module_names: list[str]) -> dict[str, int]:
    """How many objective questions to draw from each module, by module name, from Course.exam_rules."""
    draw = rules.get("draw") or {}
    per_module = draw.get("per_module")
    listed = draw.get("modules") or (per_module if isinstance(per_module, list) else [])
    if listed:
        counts: dict[str, int] = {}
        for entry in listed:
            if isinstance(entry, dict) and isinstance(entry.get("module"), str):
                counts[entry["module"]] = int(entry.get("count") or 0)
        return counts
    count = int(per_module) if isinstance(per_module, int | float) and not isinstance(per_module, bool) else 0
    return dict.fromkeys(module_names, count)


def draw_paper(session: Session, *, course: Course, rng: random.Random | None = None) -> list[DrawnItem]:
    """A fresh paper: objective questions module by module (shuffled within each), essays last."""
    rng = rng or _system_random
    rules = course.exam_rules or {}
    modules = _modules_with_groups(session, course_id=course.id or 0)
    counts = draw_counts(rules, [name for _, name, _ in modules])
    candidates = _candidates(session, course_id=course.id or 0)
    shuffle = bool(rules.get("shuffle_options"))
    groups = {module_id: group for module_id, _, group in modules}
    paper: list[DrawnItem] = []
    for module_id, name, _group in modules:
        pool = [c for c in candidates if c.module_id == module_id and c.version.type != "essay"]
        paper += [_item(c, groups, shuffle, rng) for c in _pick(pool, counts.get(name, 0), rng)]
    essays = [c for c in candidates if c.version.type == "essay" and c.module_id in groups]
    essay_count = int((rules.get("draw") or {}).get("essay") or 0)
    paper += [_item(c, groups, shuffle, rng) for c in _pick(essays, essay_count, rng)]
    return paper


def _pick(pool: list[_Candidate], count: int, rng: random.Random) -> list[_Candidate]:
    # Sorted first so that the same random stream always gives the same paper (tests seed it).
    ordered = sorted(pool, key=lambda candidate: candidate.qid)
    return rng.sample(ordered, min(max(count, 0), len(ordered)))


def _item(candidate: _Candidate, groups: dict[int, str], shuffle: bool, rng: random.Random) -> DrawnItem:
    order: list[int] = []
    if candidate.version.type in CHOICE_TYPES:
        order = list(range(len(candidate.version.options)))
        if shuffle:
            rng.shuffle(order)
    return DrawnItem(candidate.question_id, candidate.version, groups.get(candidate.module_id, ""), order)


def _modules_with_groups(session: Session, *, course_id: int) -> list[tuple[int, str, str]]:
    """(module id, name, syllabus group of its current version) for the course's modules in order."""
    query = (
        select(CourseModule.id, CourseModule.name, ModuleVersion.group)
        .join(
            ModuleVersion,
            and_(
                col(ModuleVersion.module_id) == CourseModule.id,
                col(ModuleVersion.number) == CourseModule.current_version,
            ),
        )
        .where(CourseModule.course_id == course_id, col(CourseModule.archived_at).is_(None))
        .order_by(col(CourseModule.position), col(CourseModule.id))
    )
    return [(module_id or 0, name, group) for module_id, name, group in session.exec(query)]


def _candidates(session: Session, *, course_id: int) -> list[_Candidate]:
    """Every exam question of the course that may be drawn now, at its current version (one query)."""
    query = (
        select(Question.id, Question.qid, Question.module_id, QuestionVersion)
        .join(
            QuestionVersion,
            and_(
                col(QuestionVersion.question_id) == Question.id,
                col(QuestionVersion.number) == Question.current_version,
            ),
        )
        .where(
            Question.course_id == course_id,
            col(Question.archived_at).is_(None),
            col(QuestionVersion.exam).is_(True),
        )
    )
    return [
        _Candidate(question_id or 0, qid, module_id, version)
        for question_id, qid, module_id, version in session.exec(query)
    ]
