"""The live preview of a module draft in the browser editor: the text as trainees will read it, each
question as a read-only card with its right answers marked, and the validator's problems with their lines.

A draft with problems is still shown as far as it can be: the text always renders, and every question
block that parses on its own gets its card; the others say where their problems are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from backend.courses.authoring import readable_problem
from backend.courses.format import (
    Problem,
    Question,
    find_question_fences,
    parse_module_text,
    split_lines,
)
from backend.courses.questions import parse_question
from backend.courses.render import render_fragment, render_inline, render_module
from backend.courses.service import media_url
from backend.models import Course, CourseModule


@dataclass(frozen=True)
class ProblemView:
    here: bool  # in the module being edited (else in another file of the course, e.g. course.yaml)
    file: str
    line: int
    message: str


@dataclass(frozen=True)
class OptionView:
    html: str
    correct: bool


@dataclass(frozen=True)
class QuestionView:
    id: str
    type: str
    points: float
    exam: bool
    scoring: str
    stem_html: str
    options: tuple[OptionView, ...]
    truth: bool | None
    accepted: tuple[str, ...]
    numeric_low: float | None
    numeric_high: float | None
    explanation_html: str


def preview(
    text: str, *, course: Course, module: CourseModule, problems: Sequence[Problem] | None = None
) -> dict[str, Any]:
    """Template context for the editor's preview block. `problems` replaces the module's own check (a
    refused save passes the problems of the whole course)."""
    file_name = f"{module.name}.md"
    path = Path(course.slug) / file_name
    if problems is None:
        problems = parse_module_text(text, name=module.name, path=path)[1]
    media = media_url(course.slug)
    title, questions = _draft(text, path)
    return {
        "problems": [
            ProblemView(p.path.name == file_name, p.path.name, p.line, readable_problem(p.message))
            for p in sorted(problems, key=lambda p: (p.path.name != file_name, str(p.path), p.line))
        ],
        "preview_title": title,
        "segments": render_module(text, media_url=media).segments(),
        "questions": {question.id: _question_view(question, media) for question in questions},
    }


def draft_title(text: str) -> str:
    """The title in a draft's front matter, when it can be read."""
    return _draft(text, None)[0]


def _draft(text: str, path: Path | None) -> tuple[str, list[Question]]:
    """The front matter's title (if it reads) and every question block that parses on its own."""
    lines = split_lines(text)
    body_start, title = 0, ""
    if lines and lines[0].lstrip("\ufeff").rstrip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
        if end is not None:
            body_start, title = end + 1, _title("".join(lines[1:end]))
    body = "".join(lines[body_start:])
    questions: list[Question] = []
    if path is None:
        return title, questions
    for fence in find_question_fences(body):
        first, end = body_start + fence.start, body_start + fence.end
        source = "".join(lines[first:end]).rstrip("\r\n")
        question, _problems = parse_question(fence, path=path, line=first + 1, source=source)
        if question is not None:
            questions.append(question)
    return title, questions


def _title(front_matter: str) -> str:
    try:
        data = yaml.safe_load(front_matter)
    except yaml.YAMLError:
        return ""
    title = data.get("title") if isinstance(data, dict) else None
    return title.strip() if isinstance(title, str) else ""


def _question_view(question: Question, media: str) -> QuestionView:
    return QuestionView(
        id=question.id,
        type=question.type,
        points=question.points,
        exam=question.exam,
        scoring=question.scoring,
        stem_html=render_fragment(question.stem, media_url=media),
        options=tuple(
            OptionView(render_inline(option.text, media_url=media), option.correct)
            for option in question.options
        ),
        truth=question.truth,
        accepted=question.accepted,
        numeric_low=question.numeric_low,
        numeric_high=question.numeric_high,
        explanation_html=render_fragment(question.explanation, media_url=media)
        if question.explanation
        else "",
    )
