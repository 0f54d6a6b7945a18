"""The course format (shared COURSE_FORMAT.md) as frozen dataclasses, and the three entry points that read it.

`parse_module_text`, `load_course` and `check_courses` never raise on bad content: they return the
problems as `path:line: message` records, and a `Course` only when there are none. The low-level readers
that questions.py and validate.py share (question fences, YAML with key lines) live here too.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

LEVELS = ("junior", "intermediate", "senior")
GROUPS = ("公共知识", "政策法规", "实务技能", "能力提升")
QUESTION_TYPES = ("single", "multiple", "truefalse", "fill", "numeric", "essay")
CHOICE_TYPES = ("single", "multiple")

_markdown = MarkdownIt("commonmark")
KeyPath = tuple[str | int, ...]
MISSING: Any = object()  # a field that is absent (or empty, where a value is required)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, broken where markdown-it breaks them (not at U+2028 and the like)."""
    return _LINE.findall(text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a course file, at a 1-based line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    points: float
    exam: bool
    scoring: str
    tags: tuple[str, ...]
    stem: str
    options: tuple[Option, ...]
    accepted: tuple[str, ...]
    truth: bool | None
    numeric_low: float | None
    numeric_high: float | None
    explanation: str
    line: int
    source: str

    def content_hash(self) -> str:
        return hashlib.sha256(self.source.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class QuestionFence:
    """A fenced block whose info string starts with the word `question`, as markdown-it found it."""

    start: int  # 0-based line of the opening fence in the markdown that was scanned
    end: int  # 0-based line after the block
    info: str
    content: str
    closed: bool


def find_question_fences(markdown: str) -> list[QuestionFence]:
    """Question blocks at any depth (lists, blockquotes); a longer outer fence hides the ones inside it."""
    lines = split_lines(markdown)
    fences = []
    for token in _markdown.parse(markdown):
        words = token.info.split()
        if token.type != "fence" or not words or words[0] != "question" or token.map is None:
            continue
        start, end = token.map
        closing = lines[end - 1].lstrip(" >\t") if end - start >= 2 else ""
        closed = closing.rstrip() != "" and set(closing.rstrip()) == {token.markup[0]}
        closed = closed and len(closing.rstrip()) >= len(token.markup)
        fences.append(QuestionFence(start, end, token.info, token.content, closed))
    return fences


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    title: str
    title_en: str
    group: str
    hours: float
    objectives: tuple[str, ...]
    sources: tuple[str, ...]
    body: str
    text: str
    questions: tuple[Question, ...]

    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def teaching_text(self) -> str:
        """The body with every question block cut out: what a trainee reads before the questions."""
        lines = split_lines(self.body)
        for fence in reversed(find_question_fences(self.body)):
            del lines[fence.start : fence.end]
        return "".join(lines)

    def body_first_line(self) -> int:
        """The 1-based line of the module file on which `body` starts."""
        return len(split_lines(self.text[: len(self.text) - len(self.body)])) + 1


@dataclass(frozen=True)
class ExamRules:
    title: str
    time_limit_minutes: int
    pass_score: float
    max_attempts: int
    draw_per_module: int | None
    draw_modules: tuple[tuple[str, int], ...]
    essay: int
    shuffle_options: bool


@dataclass(frozen=True)
class Course:
    slug: str
    path: Path
    title: str
    title_en: str
    level: str
    language: str
    description: str
    module_names: tuple[str, ...]
    modules: tuple[Module, ...]
    min_hours: float
    exam: ExamRules
    certificate_title: str
    validity_years: int
    yaml_text: str


# ---- reading helpers shared by questions.py and validate.py ----------------------------------------


@dataclass
class ProblemLog:
    """Collects problems for one file into a list that may be shared with other files."""

    path: Path
    problems: list[Problem] = field(default_factory=list)

    def __call__(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def for_file(self, path: Path) -> ProblemLog:
        return ProblemLog(path, self.problems)


@dataclass(frozen=True)
class NumberRule:
    """An allowed range for a number in YAML; booleans are never numbers."""

    description: str
    integer: bool = False
    low: float = 0
    low_open: bool = False
    high: float | None = None

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if (self.integer and not isinstance(value, int)) or not math.isfinite(value):
            return False
        if value < self.low or (self.low_open and value == self.low):
            return False
        return self.high is None or value <= self.high


def dotted_key(key: KeyPath) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in key).lstrip(".")


def show_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "nothing"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a mapping"
    return str(value)


@dataclass
class YamlFields:
    """Typed reads from one YAML document; each bad or missing field is reported at its key's line."""

    data: Any
    lines: dict[KeyPath, int]
    kind: str  # "course.yaml field" or "front-matter field", for messages
    report: ProblemLog

    def line(self, key: KeyPath) -> int:
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)

    def get(self, key: KeyPath) -> Any:
        value = self.data
        for part in key:
            in_list = isinstance(value, list) and isinstance(part, int) and part < len(value)
            if not in_list and not (isinstance(value, dict) and part in value):
                return MISSING
            value = value[part]
        return value

    def required(self, key: KeyPath) -> Any:
        value = self.get(key)
        if value is MISSING:
            self.report(self.line(key), f"missing {self.kind} '{dotted_key(key)}'")
        elif value is None or value == "":
            self.report(self.line(key), f"{self.kind} '{dotted_key(key)}' is empty")
            return MISSING
        return value

    def optional(self, key: KeyPath) -> Any:
        value = self.get(key)
        return MISSING if value is None else value

    def text(self, key: KeyPath, *, required: bool = False, default: str = "") -> str:
        value = self.required(key) if required else self.optional(key)
        if value is MISSING:
            return default
        if not isinstance(value, str):
            self.report(self.line(key), f"{dotted_key(key)} must be text, not {show_value(value)}")
            return default
        return value.strip()

    def choice(self, key: KeyPath, allowed: tuple[str, ...]) -> str:
        value = self.required(key)
        if value is not MISSING and value not in allowed:
            self.report(
                self.line(key), f"{dotted_key(key)} {show_value(value)} is not one of {'|'.join(allowed)}"
            )
        return value if isinstance(value, str) else ""

    def number(
        self, key: KeyPath, allowed: NumberRule, *, required: bool = True, default: float = 0
    ) -> float:
        value = self.required(key) if required else self.optional(key)
        if value is MISSING:
            return default
        if not allowed.accepts(value):
            self.report(
                self.line(key), f"{dotted_key(key)} must be {allowed.description}, not {show_value(value)}"
            )
            return default
        return float(value)

    def integer(self, key: KeyPath, allowed: NumberRule, *, required: bool = True, default: int = 0) -> int:
        return int(self.number(key, allowed, required=required, default=default))

    def boolean(self, key: KeyPath, *, default: bool) -> bool:
        value = self.optional(key)
        if value is MISSING:
            return default
        if not isinstance(value, bool):
            self.report(self.line(key), f"{dotted_key(key)} must be true or false, not {show_value(value)}")
            return default
        return value

    def text_list(self, key: KeyPath) -> tuple[str, ...]:
        value = self.optional(key)
        if value is MISSING:
            return ()
        if not isinstance(value, list):
            self.report(self.line(key), f"{dotted_key(key)} must be a list, not {show_value(value)}")
            return ()
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.report(
                    self.line((*key, index)), f"{dotted_key(key)} item {index + 1} must be non-empty text"
                )
        return tuple(item.strip() for item in value if isinstance(item, str) and item.strip())

    def section(self, key: KeyPath, allowed: Iterable[str]) -> bool:
        """A required mapping; its unknown keys are reported. False when it cannot be read further."""
        value = self.get(key)
        if value is MISSING:
            self.report(self.line(key), f"missing {self.kind} '{dotted_key(key)}'")
            return False
        if value is None:  # present but empty: its required fields are reported as missing
            return True
        if not isinstance(value, dict):
            self.report(self.line(key), f"{self.kind} '{dotted_key(key)}' must be a mapping of fields")
            return False
        for name in value:
            if name not in allowed:
                self.report(self.line((*key, name)), f"unknown {self.kind} '{dotted_key((*key, name))}'")
        return True


def read_yaml(text: str, *, first_line: int, what: str, kind: str, report: ProblemLog) -> YamlFields | None:
    """Parse YAML whose first line is `first_line` of the file; None (reported) when it is not YAML."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        report(first_line + (mark.line if mark else 0), f"{what} is not valid YAML: {problem}")
        return None
    fields = YamlFields({} if data is None else data, {}, kind, report)
    if node is not None:
        _index_lines(node, (), first_line, fields)
    if not isinstance(fields.data, dict):
        report(first_line, f"{what} must be a mapping of fields, not {show_value(fields.data)}")
        return None
    return fields


def _index_lines(node: yaml.Node, key: KeyPath, first_line: int, fields: YamlFields) -> None:
    """Record the line of every mapping key and list item; report keys given twice (PyYAML keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            sub = (*key, str(key_node.value))
            line = first_line + key_node.start_mark.line
            if sub in fields.lines:
                first = fields.lines[sub]
                fields.report(
                    line, f"{fields.kind} '{dotted_key(sub)}' is given twice (first at line {first})"
                )
            else:
                fields.lines[sub] = line
            _index_lines(value_node, sub, first_line, fields)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            fields.lines[(*key, index)] = first_line + item.start_mark.line
            _index_lines(item, (*key, index), first_line, fields)


def read_text(path: Path, report: ProblemLog) -> str | None:
    """The file's text exactly as stored (no newline translation), or None with a problem."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        report(1, f"{path.name} is missing")
        return None
    except OSError as error:
        report(1, f"cannot read {path.name}: {error.strerror}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        report(data[: error.start].count(b"\n") + 1, f"{path.name} is not UTF-8 text")
        return None


# The implementations import the dataclasses above, so they are imported when called, not at load time.


def parse_module_text(text: str, *, name: str, path: Path) -> tuple[Module | None, list[Problem]]:
    """Parse one module file's text; the Module is None when there is any problem."""
    from backend.courses.validate import parse_module

    return parse_module(text, name=name, path=path)


def load_course(course_dir: Path) -> tuple[Course | None, list[Problem]]:
    """Read and validate a course folder; the Course is None when there is any problem."""
    from backend.courses.validate import load_course_dir

    return load_course_dir(course_dir)


def check_courses(root: Path) -> list[Problem]:
    """Every problem in a courses/ folder (or in one course folder), sorted by path, then line."""
    from backend.courses.validate import check_tree

    return check_tree(root)
