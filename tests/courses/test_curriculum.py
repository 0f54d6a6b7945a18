"""The shipped curriculum in courses/ meets the acceptance rules: the three courses exist with the right
number of modules, validate cleanly, and each module has enough teaching text and enough questions,
every answer explained with a citation."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from backend.courses.format import Course, Problem, check_courses, load_course

COURSES_DIR = Path(__file__).parents[2] / "courses"
MODULE_COUNTS = {
    "broker-junior": range(11, 12),
    "broker-intermediate": range(6, 9),
    "ce-refresher": range(3, 4),
}
LONG_FORM = ("broker-junior", "broker-intermediate")
TEACHING_CHARS = range(1500, 4001)
MIN_QUESTIONS, MIN_TYPES, MIN_ESSAYS = 12, 3, 2
# An article (第四十五条, 第3条) or a named source (《...》).
CITATION = re.compile(r"第[一二三四五六七八九十百千零〇\d]+条|《")

ALL = sorted(MODULE_COUNTS)


@functools.cache
def _load(slug: str) -> tuple[Course | None, list[Problem]]:
    return load_course(COURSES_DIR / slug)


def _course(slug: str) -> Course:
    course, problems = _load(slug)
    if course is None:
        pytest.fail(f"courses/{slug} does not load:\n" + "\n".join(map(str, problems)), pytrace=False)
    return course


def test_check_courses_reports_no_problem() -> None:
    problems = check_courses(COURSES_DIR)

    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("slug", ALL)
def test_course_exists_with_its_number_of_modules(slug: str) -> None:
    """broker-junior has exactly 11 modules, broker-intermediate 6 to 8, ce-refresher exactly 3."""
    assert (COURSES_DIR / slug / "course.yaml").is_file(), f"courses/{slug}/course.yaml is missing"
    course = _course(slug)

    assert len(course.modules) in MODULE_COUNTS[slug]


@pytest.mark.parametrize("slug", LONG_FORM)
def test_teaching_text_length(slug: str) -> None:
    """Each module's teaching text (the body without question blocks, `len(teaching_text().strip())`,
    counting every character including inner whitespace and markdown syntax) is 1,500 to 4,000 characters."""
    too_short_or_long = [
        f"{module.name}: {len(module.teaching_text().strip())} characters"
        for module in _course(slug).modules
        if len(module.teaching_text().strip()) not in TEACHING_CHARS
    ]

    assert not too_short_or_long, "\n".join(too_short_or_long)


@pytest.mark.parametrize("slug", ALL)
def test_each_module_has_enough_questions_of_several_types(slug: str) -> None:
    """At least 12 questions per module, of at least 3 distinct types."""
    short = []
    for module in _course(slug).modules:
        types = sorted({question.type for question in module.questions})
        if len(module.questions) < MIN_QUESTIONS or len(types) < MIN_TYPES:
            short.append(f"{module.name}: {len(module.questions)} questions of types {types}")

    assert not short, "\n".join(short)


@pytest.mark.parametrize("slug", ALL)
def test_each_course_has_essays_with_marking_guides(slug: str) -> None:
    essays = [q for module in _course(slug).modules for q in module.questions if q.type == "essay"]

    assert len(essays) >= MIN_ESSAYS, f"{slug} has {len(essays)} essay questions; it needs {MIN_ESSAYS}"
    assert all(essay.explanation.strip() for essay in essays), "an essay has no marking guide"


@pytest.mark.parametrize("slug", ALL)
def test_every_answer_is_explained_with_a_citation(slug: str) -> None:
    """Every non-essay question has an explanation citing an article (第…条) or a named source (《…》)."""
    uncited = [
        f"{module.path.name}:{q.line}: {q.id}"
        for module in _course(slug).modules
        for q in module.questions
        if q.type != "essay" and not CITATION.search(q.explanation)
    ]

    assert not uncited, "explanation missing or without 第…条 / 《…》:\n" + "\n".join(uncited)


@pytest.mark.parametrize("slug", ALL)
def test_question_ids_are_unique_within_the_course(slug: str) -> None:
    ids = [q.id for module in _course(slug).modules for q in module.questions]

    assert sorted({i for i in ids if ids.count(i) > 1}) == []


@pytest.mark.parametrize("slug", ALL)
def test_every_module_states_objectives_and_sources(slug: str) -> None:
    missing = [
        f"{module.name}: objectives={len(module.objectives)} sources={len(module.sources)}"
        for module in _course(slug).modules
        if not module.objectives or not module.sources
    ]

    assert not missing, "\n".join(missing)
