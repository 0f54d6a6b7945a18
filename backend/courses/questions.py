"""Reading one ```question block (COURSE_FORMAT.md, "Questions"): attributes, stem, answer lines, explanation.

The inside of a block is read line by line: the stem runs up to the first answer line (`- [x]`, `- [ ]`
or `= value`), and a blockquote at the very end is the explanation (for an essay, the marking guide).
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from backend.courses.format import (
    CHOICE_TYPES,
    QUESTION_TYPES,
    Option,
    Problem,
    ProblemLog,
    Question,
    QuestionFence,
)

ATTRIBUTES = ("id", "type", "points", "exam", "scoring", "tags")
SCORINGS = ("all", "partial")
MIN_OPTIONS, MAX_OPTIONS = 2, 8

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_TASK = re.compile(r" {0,3}[-*+][ \t]+\[([ xX])\](?:[ \t]+(.*))?\Z")
_VALUE = re.compile(r" {0,3}=(?:[ \t]+(.*))?\Z")
_QUOTE = re.compile(r" {0,3}> ?(.*)\Z")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_EXACT = re.compile(rf"({_NUMBER})\Z")
_TOLERANCE = re.compile(rf"({_NUMBER})\s*(?:±|\+-|\+/-)\s*({_NUMBER})\Z")
_INTERVAL = re.compile(rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]\Z")


@dataclass
class _Answer:
    line: int  # 1-based line in the module file
    kind: str  # "option" or "value"
    text: str
    correct: bool = False


@dataclass
class _Parts:
    stem: str
    answers: list[_Answer]
    explanation: str

    def options(self) -> list[_Answer]:
        return [answer for answer in self.answers if answer.kind == "option"]

    def values(self) -> list[_Answer]:
        return [answer for answer in self.answers if answer.kind == "value"]


@dataclass
class _Key:
    """What counts as right, in the shape the question's type needs."""

    options: tuple[Option, ...] = ()
    accepted: tuple[str, ...] = ()
    truth: bool | None = None
    low: float | None = None
    high: float | None = None


def parse_question(
    fence: QuestionFence, *, path: Path, line: int, source: str
) -> tuple[Question | None, list[Problem]]:
    """One block whose opening fence is on `line` of the module file; the Question is None on any problem."""
    report = ProblemLog(path)
    if not fence.closed:
        report(line, "question block is not closed: no closing fence before the end of its container")
        return None, report.problems
    attrs = _attributes(fence.info, line, report)
    if attrs is None:
        return None, report.problems
    parts = _split_block(fence.content, line + 1, report)
    kind = _resolve_type(attrs.get("type"), parts, line, report)
    key = _check_answers(kind, parts, line, report) if kind else _Key()
    question_id = _question_id(attrs.get("id", ""), line, report)
    points = _points(attrs.get("points", "1"), line, report)
    exam = _exam(attrs.get("exam", "true"), line, report)
    scoring = _scoring(attrs.get("scoring"), kind, line, report)
    if not parts.stem:
        report(line, "question has an empty stem")
    if kind == "essay" and not parts.explanation:
        report(line, "essay question needs a marking guide (评分要点) in a > blockquote at the end")
    if report.problems or kind is None:
        return None, report.problems
    tags = tuple(tag.strip() for tag in attrs.get("tags", "").split(",") if tag.strip())
    question = Question(
        id=question_id,
        type=kind,
        points=points,
        exam=exam,
        scoring=scoring,
        tags=tags,
        stem=parts.stem,
        options=key.options,
        accepted=key.accepted,
        truth=key.truth,
        numeric_low=key.low,
        numeric_high=key.high,
        explanation=parts.explanation,
        line=line,
        source=source,
    )
    return question, []


def parse_numeric(text: str) -> tuple[float, float] | None:
    """`50` → (50, 50); `50 ± 0.5` or `50 +- 0.5` → (49.5, 50.5); `[45, 55]` → (45, 55); else None."""
    text = text.strip()
    if match := _EXACT.match(text):
        value = float(match[1])
        return value, value
    if match := _TOLERANCE.match(text):
        value, tolerance = float(match[1]), float(match[2])
        return value - tolerance, value + tolerance
    if match := _INTERVAL.match(text):
        return float(match[1]), float(match[2])
    return None


def _attributes(info: str, line: int, report: ProblemLog) -> dict[str, str] | None:
    """`key=value` words after `question` (shell-style quoting allowed); None when they cannot be split."""
    try:
        words = shlex.split(info)[1:]
    except ValueError as error:
        report(line, f"cannot read the question attributes: {error}")
        return None
    attrs: dict[str, str] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals:
            report(line, f"attribute '{word}' has no value (write {word}=...)")
        elif key not in ATTRIBUTES:
            report(line, f"unknown question attribute '{key}' (known: {', '.join(ATTRIBUTES)})")
        elif key in attrs:
            report(line, f"question attribute '{key}' is given twice")
        else:
            attrs[key] = value
    return attrs


def _split_block(content: str, first_line: int, report: ProblemLog) -> _Parts:
    """Stem, answer lines and trailing-blockquote explanation; `first_line` is the file line of content[0]."""
    lines = content.split("\n")
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (_QUOTE.match(lines[start - 1]) or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    explanation = "\n".join(_unquote(text) for text in lines[start:end]).strip()
    first_answer = next((i for i in range(start) if _answer(lines[i], 0)), start)
    answers: list[_Answer] = []
    continues_option = False
    for i in range(first_answer, start):
        text = lines[i].rstrip()
        answer = _answer(text, first_line + i)
        if answer:
            answers.append(answer)
        elif continues_option and text[:1] in (" ", "\t") and text.strip():
            answers[-1].text = f"{answers[-1].text}\n{text.strip()}"
        elif text:
            report(first_line + i, f"unexpected line among the answers: '{text.strip()}'")
        continues_option = bool(answer and answer.kind == "option") or (continues_option and bool(text))
    stem = "\n".join(lines[:first_answer]).strip()
    return _Parts(stem, answers, explanation)


def _unquote(text: str) -> str:
    match = _QUOTE.match(text)
    return match[1].rstrip() if match else ""


def _answer(text: str, line: int) -> _Answer | None:
    if task := _TASK.match(text.rstrip()):
        return _Answer(line, "option", (task[2] or "").strip(), task[1] in "xX")
    if value := _VALUE.match(text.rstrip()):
        return _Answer(line, "value", (value[1] or "").strip())
    return None


def _resolve_type(given: str | None, parts: _Parts, line: int, report: ProblemLog) -> str | None:
    if given is not None:
        if given not in QUESTION_TYPES:
            report(line, f"unknown question type '{given}' (known: {', '.join(QUESTION_TYPES)})")
            return None
        return given
    options, values = parts.options(), parts.values()
    if values and not options:
        report(line, "type= is required for questions answered with = lines (truefalse, fill or numeric)")
        return None
    if not options:
        report(line, "question has no answer: add - [x] / - [ ] options or = lines, or set type=essay")
        return None
    return "multiple" if sum(option.correct for option in options) > 1 else "single"


def _check_answers(kind: str, parts: _Parts, line: int, report: ProblemLog) -> _Key:
    if kind in CHOICE_TYPES:
        return _check_choice(kind, parts, line, report)
    if kind == "essay":
        if parts.answers:
            report(parts.answers[0].line, "an essay question takes no answer lines")
        return _Key()
    options = parts.options()
    if options:
        report(options[0].line, f"a {kind} question takes = lines, not - [ ] options")
    for value in parts.values():
        if not value.text:
            report(value.line, "nothing after '='")
    if kind == "truefalse":
        return _check_truefalse(parts.values(), line, report)
    if kind == "numeric":
        return _check_numeric(parts.values(), line, report)
    if not parts.values():
        report(line, "fill question needs at least one '= accepted answer' line")
    return _Key(accepted=tuple(value.text for value in parts.values()))


def _check_choice(kind: str, parts: _Parts, line: int, report: ProblemLog) -> _Key:
    options, values = parts.options(), parts.values()
    if values:
        report(values[0].line, f"a {kind}-choice question takes - [x] / - [ ] options, not = lines")
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        count = f"{len(options)} option" + ("" if len(options) == 1 else "s")
        report(line, f"{kind}-choice question has {count}; it needs {MIN_OPTIONS} to {MAX_OPTIONS}")
    for option in options:
        if not option.text:
            report(option.line, "option has no text")
    right = sum(option.correct for option in options)
    if right == 0:
        report(line, "choice question has no right option (mark one - [x])")
    elif kind == "single" and right > 1:
        report(line, f"type=single but {right} options are marked right; mark one or use type=multiple")
    return _Key(options=tuple(Option(option.text, option.correct) for option in options))


def _check_truefalse(values: list[_Answer], line: int, report: ProblemLog) -> _Key:
    if len(values) != 1:
        report(line, f"truefalse question needs exactly one '= true' or '= false' line, found {len(values)}")
        return _Key()
    answer = values[0].text.lower()
    if answer not in ("true", "false"):
        report(values[0].line, f"truefalse answer must be true or false, not '{values[0].text}'")
    return _Key(truth=answer == "true")


def _check_numeric(values: list[_Answer], line: int, report: ProblemLog) -> _Key:
    if len(values) != 1:
        report(line, f"numeric question needs exactly one = line, found {len(values)}")
        return _Key()
    interval = parse_numeric(values[0].text)
    if interval is None:
        report(values[0].line, f"numeric answer '{values[0].text}' is not N, N ± T or [low, high]")
        return _Key()
    low, high = interval
    if low > high:
        report(values[0].line, f"numeric answer '{values[0].text}' is an empty range ({low:g} > {high:g})")
    return _Key(low=low, high=high)


def _question_id(raw: str, line: int, report: ProblemLog) -> str:
    if not raw:
        report(line, "question has no id (add id=...)")
    elif not _ID.match(raw):
        report(line, f"question id '{raw}' may contain only letters, digits, '.', '_' and '-'")
    return raw


def _points(raw: str, line: int, report: ProblemLog) -> float:
    try:
        points = float(raw)
    except ValueError:
        points = math.nan
    if not (math.isfinite(points) and points > 0):
        report(line, f"points must be a positive number, not '{raw}'")
    return points


def _exam(raw: str, line: int, report: ProblemLog) -> bool:
    if raw.lower() not in ("true", "false"):
        report(line, f"exam must be true or false, not '{raw}'")
    return raw.lower() == "true"


def _scoring(raw: str | None, kind: str | None, line: int, report: ProblemLog) -> str:
    if raw is None:
        return "all"
    if raw not in SCORINGS:
        report(line, f"scoring must be all or partial, not '{raw}'")
    elif kind is not None and kind != "multiple":
        report(line, f"scoring= applies only to multiple-choice questions; this one is {kind}")
    return raw
