"""Grading one answer to one question version: pure functions, no database, shared by self-checks and exams.

An answer is a small dict with one shape per question type (it is what SelfCheckAnswer.answer and the exam's
saved answers hold):

| type       | answer                | example                |
| ---------- | --------------------- | ---------------------- |
| single     | {"choice": index}     | {"choice": 1}          |
| multiple   | {"choice": [indexes]} | {"choice": [0, 2]}     |
| truefalse  | {"truth": bool}       | {"truth": false}       |
| fill       | {"text": str}         | {"text": "促进科技成果转化"} |
| numeric    | {"value": str}        | {"value": "50"}        |
| essay      | {"text": str}         | {"text": "..."}        |

Option indexes are 0-based positions in the file's order (QuestionVersion.options); an exam that shows the
options shuffled maps the choice back to these indexes before grading. Anything malformed or missing
grades as wrong (0 points), never as an error.

Multiple choice with `scoring=partial`: (right options picked − wrong options picked) ÷ right options,
floored at 0, times the points. So picking every right option and nothing else gets full marks, each
missed right option costs its share, and each wrong pick takes one share back, which makes "tick
everything" worth nothing. With `scoring=all` (the default) only the exact set of right options scores.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# Float noise allowance when comparing a numeric answer with the interval's ends.
NUMERIC_EPSILON = 1e-9
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?")
_SPACE = re.compile(r"\s+")


class GradableQuestion(Protocol):
    """The fields of a question version that grading reads (QuestionVersion and reading.QuestionSnapshot)."""

    @property
    def type(self) -> str: ...
    @property
    def points(self) -> float: ...
    @property
    def scoring(self) -> str: ...
    @property
    def options(self) -> list[dict[str, Any]]: ...
    @property
    def accepted(self) -> list[str]: ...
    @property
    def truth(self) -> bool | None: ...
    @property
    def numeric_low(self) -> float | None: ...
    @property
    def numeric_high(self) -> float | None: ...


@dataclass(frozen=True)
class GradeResult:
    correct: bool | None  # None: an essay, waiting for a person to mark it
    points: float
    max_points: float


def grade_answer(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    """Score `answer` (shape per type, see the module docstring) against `question`."""
    grader = _GRADERS.get(question.type)
    if grader is None:
        return GradeResult(False, 0.0, float(question.points))
    return grader(question, answer)


def is_blank(question_type: str, answer: Mapping[str, Any]) -> bool:
    """True when the answer gives nothing to grade (no option ticked, nothing typed)."""
    if question_type in ("single", "multiple"):
        choice = answer.get("choice")
        return choice is None or choice == [] or choice == ""
    if question_type == "truefalse":
        return not isinstance(answer.get("truth"), bool)
    key = "value" if question_type == "numeric" else "text"
    value = answer.get(key)
    return not isinstance(value, str) or not value.strip()


def answer_from_form(question_type: str, form: Mapping[str, list[str]]) -> dict[str, Any]:
    """An answer dict from submitted form fields (each a list of strings): `choice`, `truth`, `text`, `value`.

    Unreadable input becomes an empty answer, which `is_blank` reports."""
    if question_type == "single":
        picks = _indexes(form.get("choice", []))
        return {"choice": picks[0]} if len(picks) == 1 else {}
    if question_type == "multiple":
        return {"choice": sorted(set(_indexes(form.get("choice", []))))}
    if question_type == "truefalse":
        raw = (form.get("truth") or [""])[0].strip().lower()
        return {"truth": raw == "true"} if raw in ("true", "false") else {}
    key = "value" if question_type == "numeric" else "text"
    return {key: (form.get(key) or [""])[0]}


def normalise_text(text: str) -> str:
    """How fill answers are compared: NFKC (full-width → half-width), case folded, spaces trimmed and
    collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def parse_number(text: str) -> float | None:
    """A typed number: full-width digits allowed, thousands commas allowed, a trailing unit ignored
    (`５０`, `1,000`, `50%`, `1.5 万元`); None when there is no number at the start."""
    text = unicodedata.normalize("NFKC", text).replace("\u2212", "-").strip()
    match = _NUMBER.match(text)
    if not match or not any(ch.isdigit() for ch in match[0]):
        return None
    tail = text[match.end() :].strip()
    if any(ch.isdigit() for ch in tail) or tail.startswith((".", ",", "+", "-")):
        return None  # more number after it ("50-60", "1.2.3", "1000,5"): not one clear value
    try:
        value = float(match[0].replace(",", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# ---- one grader per type -------------------------------------------------------------------------------


def _single(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    choice = answer.get("choice")
    right = _right_indexes(question)
    correct = isinstance(choice, int) and not isinstance(choice, bool) and {choice} == right
    return _all_or_nothing(question, correct)


def _multiple(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    raw = answer.get("choice")
    items = raw if isinstance(raw, list) else []
    picks = {item for item in items if isinstance(item, int) and not isinstance(item, bool)}
    right = _right_indexes(question)
    correct = bool(right) and picks == right
    if question.scoring != "partial" or correct or not right:
        return _all_or_nothing(question, correct)
    share = max(0, len(picks & right) - len(picks - right)) / len(right)
    return GradeResult(False, round(share * question.points, 4), float(question.points))


def _truefalse(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    truth = answer.get("truth")
    return _all_or_nothing(question, isinstance(truth, bool) and truth == question.truth)


def _fill(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    text = answer.get("text")
    given = normalise_text(text) if isinstance(text, str) else ""
    accepted = {normalise_text(item) for item in question.accepted}
    return _all_or_nothing(question, bool(given) and given in accepted)


def _numeric(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    raw = answer.get("value")
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value: float | None = float(raw)
    else:
        value = parse_number(raw) if isinstance(raw, str) else None
    low, high = question.numeric_low, question.numeric_high
    if value is None or low is None or high is None:
        return _all_or_nothing(question, False)
    slack = NUMERIC_EPSILON * max(1.0, abs(low), abs(high))
    return _all_or_nothing(question, low - slack <= value <= high + slack)


def _essay(question: GradableQuestion, answer: Mapping[str, Any]) -> GradeResult:
    return GradeResult(None, 0.0, float(question.points))


_GRADERS = {
    "single": _single,
    "multiple": _multiple,
    "truefalse": _truefalse,
    "fill": _fill,
    "numeric": _numeric,
    "essay": _essay,
}


def _right_indexes(question: GradableQuestion) -> set[int]:
    return {index for index, option in enumerate(question.options) if option.get("correct")}


def _all_or_nothing(question: GradableQuestion, correct: bool) -> GradeResult:
    return GradeResult(correct, float(question.points) if correct else 0.0, float(question.points))


def _indexes(values: list[str]) -> list[int]:
    picks = []
    for value in values:
        try:
            picks.append(int(value))
        except (TypeError, ValueError):
            continue
    return picks
