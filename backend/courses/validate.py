"""Validation of course folders against COURSE_FORMAT.md: course.yaml, module front matter, and the rules
that span files (the module list, duplicate question ids, exam draws, image references).

YAML is composed as well as loaded so that each problem points at the line of the offending key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from backend.courses.format import (
    GROUPS,
    LEVELS,
    MISSING,
    Course,
    ExamRules,
    KeyPath,
    Module,
    NumberRule,
    Problem,
    ProblemLog,
    Question,
    YamlFields,
    dotted_key,
    find_question_fences,
    read_text,
    read_yaml,
    show_value,
    split_lines,
)
from backend.courses.questions import parse_question

COURSE_FIELDS = ("slug", "title", "title_en", "level", "language", "description", "modules")
COURSE_SECTIONS = ("completion", "exam", "certificate")
EXAM_FIELDS = ("title", "time_limit_minutes", "pass_score", "max_attempts", "draw", "shuffle_options")
MODULE_FIELDS = ("title", "title_en", "group", "hours", "objectives", "sources")
DEFAULT_EXAM_TITLE = "结业考试"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_markdown = MarkdownIt("commonmark")


POSITIVE_INT = NumberRule("a positive whole number", integer=True, low_open=True)
COUNT = NumberRule("a whole number ≥ 0", integer=True)
POSITIVE = NumberRule("a positive number", low_open=True)
NON_NEGATIVE = NumberRule("a number ≥ 0")
PERCENT = NumberRule("a number from 0 to 100", high=100)


# ---- modules -------------------------------------------------------------------------------------------


def parse_module(text: str, *, name: str, path: Path) -> tuple[Module | None, list[Problem]]:
    """`parse_module_text`: one module, with question ids checked for duplicates within it."""
    module, questions, problems = _read_module(text, name=name, path=path)
    problems += _duplicates([(question.id, path, question.line) for question in questions])
    return (module if not problems else None), _sorted(problems)


def _read_module(text: str, *, name: str, path: Path) -> tuple[Module | None, list[Question], list[Problem]]:
    """A module without the duplicate-id check; the questions that parsed are returned even on problems."""
    report = ProblemLog(path)
    lines = split_lines(text)
    if not lines or lines[0].lstrip("\ufeff").rstrip() != "---":
        report(1, "front matter missing: the file must start with a '---' line")
        return None, [], report.problems
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if end is None:
        report(1, "front matter is not closed: no '---' line after line 1")
        return None, [], report.problems
    fields = read_yaml(
        "".join(lines[1:end]), first_line=2, what="front matter", kind="front-matter field", report=report
    )
    body = "".join(lines[end + 1 :])
    questions = _module_questions(lines, body, end + 1, report)
    if fields is None:
        return None, questions, report.problems
    fields.section((), MODULE_FIELDS)
    module = Module(
        name=name,
        path=path,
        title=fields.text(("title",), required=True),
        title_en=fields.text(("title_en",)),
        group=fields.choice(("group",), GROUPS),
        hours=fields.number(("hours",), POSITIVE),
        objectives=fields.text_list(("objectives",)),
        sources=fields.text_list(("sources",)),
        body=body,
        text=text,
        questions=tuple(questions),
    )
    return (module if not report.problems else None), questions, report.problems


def _module_questions(lines: list[str], body: str, body_start: int, report: ProblemLog) -> list[Question]:
    """Parse each question block; `body_start` is the 0-based file line where `body` begins."""
    questions = []
    for fence in find_question_fences(body):
        first, end = body_start + fence.start, body_start + fence.end
        source = "".join(lines[first:end]).rstrip("\r\n")
        question, problems = parse_question(fence, path=report.path, line=first + 1, source=source)
        report.problems.extend(problems)
        if question is not None:
            questions.append(question)
    return questions


def _sorted(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda problem: (str(problem.path), problem.line, problem.message))


def _duplicates(places: list[tuple[str, Path, int]]) -> list[Problem]:
    """`places` are (id, path, line); every place of an id used twice is reported, naming the others."""
    by_id: dict[str, list[tuple[Path, int]]] = {}
    for question_id, path, line in places:
        by_id.setdefault(question_id, []).append((path, line))
    problems = []
    for question_id, spots in by_id.items():
        for path, line in spots if len(spots) > 1 else []:
            others = ", ".join(
                f"line {other_line}" if other_path == path else f"{other_path.name}:{other_line}"
                for other_path, other_line in spots
                if (other_path, other_line) != (path, line)
            )
            problems.append(Problem(path, line, f"duplicate question id '{question_id}' (also at {others})"))
    return problems


# ---- courses -------------------------------------------------------------------------------------------


def load_course_dir(course_dir: Path) -> tuple[Course | None, list[Problem]]:
    """`load_course`: course.yaml, every listed module, and the rules that span them."""
    report = ProblemLog(course_dir / "course.yaml")
    yaml_text = read_text(report.path, report)
    if yaml_text is None:
        return None, report.problems
    fields = read_yaml(yaml_text, first_line=1, what="course.yaml", kind="course.yaml field", report=report)
    if fields is None:
        return None, report.problems
    fields.section((), (*COURSE_FIELDS, *COURSE_SECTIONS))
    slug = fields.text(("slug",), required=True)
    if slug and slug != course_dir.name:
        report(fields.line(("slug",)), f"slug '{slug}' does not match the folder name '{course_dir.name}'")
    listed = _module_names(fields)
    modules, complete = _load_modules(course_dir, listed, report)
    if listed:
        _unlisted_files(course_dir, listed, report)
    has_completion = fields.section(("completion",), ("min_hours",))
    has_certificate = fields.section(("certificate",), ("title", "validity_years"))
    course = Course(
        slug=slug,
        path=course_dir,
        title=fields.text(("title",), required=True),
        title_en=fields.text(("title_en",)),
        level=fields.choice(("level",), LEVELS),
        language=fields.text(("language",), default="zh-CN"),
        description=fields.text(("description",)),
        module_names=tuple(listed),
        modules=tuple(modules[name] for name in listed if name in modules),
        min_hours=fields.number(("completion", "min_hours"), NON_NEGATIVE) if has_completion else 0,
        exam=_exam_rules(fields, modules, list(listed), complete=complete),
        certificate_title=fields.text(("certificate", "title"), required=True) if has_certificate else "",
        validity_years=fields.integer(("certificate", "validity_years"), COUNT, required=False),
        yaml_text=yaml_text,
    )
    for module in modules.values():
        _check_images(course_dir, module, report.for_file(module.path))
    return (course if not report.problems else None), _sorted(report.problems)


def _module_names(fields: YamlFields) -> dict[str, int]:
    """Listed module name → its line in course.yaml; bad and repeated names are reported and left out."""
    value = fields.required(("modules",))
    if value is MISSING:
        return {}
    if not isinstance(value, list) or not value:
        shown = "an empty list" if value == [] else show_value(value)
        fields.report(fields.line(("modules",)), f"modules must be a list of module names, not {shown}")
        return {}
    listed: dict[str, int] = {}
    for index, name in enumerate(value):
        line = fields.line(("modules", index))
        if isinstance(name, str) and name.endswith(".md"):
            fields.report(line, f"module name '{name}' must not end in .md")
        elif not isinstance(name, str) or not _NAME.match(name):
            fields.report(
                line, f"module name {show_value(name)} is not a file name (letters, digits, '.', '_', '-')"
            )
        elif name in listed:
            fields.report(line, f"module '{name}' is listed twice (first at line {listed[name]})")
        else:
            listed[name] = line
    return listed


def _load_modules(
    course_dir: Path, listed: dict[str, int], report: ProblemLog
) -> tuple[dict[str, Module], bool]:
    """The listed modules that parsed cleanly, and whether that is all of them; ids checked across files."""
    modules: dict[str, Module] = {}
    places: list[tuple[str, Path, int]] = []
    for name, line in listed.items():
        path = course_dir / f"{name}.md"
        if not path.is_file():
            report(line, f"module '{name}' is listed but {name}.md does not exist")
            continue
        text = read_text(path, report.for_file(path))
        if text is None:
            continue
        module, questions, problems = _read_module(text, name=name, path=path)
        report.problems.extend(problems)
        places += [(question.id, path, question.line) for question in questions]
        if module is not None:
            modules[name] = module
    report.problems.extend(_duplicates(places))
    return modules, bool(listed) and len(modules) == len(listed)


def _unlisted_files(course_dir: Path, listed: dict[str, int], report: ProblemLog) -> None:
    for path in sorted(course_dir.glob("*.md")):
        if path.stem not in listed and path.name.lower() != "readme.md":
            report.for_file(path)(1, f"{path.name} is not listed in course.yaml modules")


def _exam_rules(
    fields: YamlFields, modules: dict[str, Module], names: list[str], *, complete: bool
) -> ExamRules:
    key: KeyPath = ("exam",)
    if not fields.section(key, EXAM_FIELDS):
        return ExamRules(DEFAULT_EXAM_TITLE, 0, 0, 0, None, (), 0, True)
    per_module, draw_modules, essay = _draw(fields, modules, names, complete=complete)
    return ExamRules(
        title=fields.text((*key, "title"), default=DEFAULT_EXAM_TITLE),
        time_limit_minutes=fields.integer((*key, "time_limit_minutes"), POSITIVE_INT),
        pass_score=fields.number((*key, "pass_score"), PERCENT),
        max_attempts=fields.integer((*key, "max_attempts"), POSITIVE_INT),
        draw_per_module=per_module,
        draw_modules=draw_modules,
        essay=essay,
        shuffle_options=fields.boolean((*key, "shuffle_options"), default=True),
    )


def _draw(
    fields: YamlFields, modules: dict[str, Module], names: list[str], *, complete: bool
) -> tuple[int | None, tuple[tuple[str, int], ...], int]:
    """exam.draw: (per_module as a number, per_module as a list, essay); each checked against the modules."""
    key: KeyPath = ("exam", "draw")
    if not fields.section(key, ("per_module", "essay")):
        return None, (), 0
    essay = fields.integer((*key, "essay"), COUNT, required=False)
    essays = sum(
        question.type == "essay" and question.exam for m in modules.values() for question in m.questions
    )
    if complete and essay > essays:
        message = f"exam draws {essay} essay questions but the course has only {essays} exam essay questions"
        fields.report(fields.line((*key, "essay")), message)
    per_key: KeyPath = (*key, "per_module")
    raw = fields.required(per_key)
    if isinstance(raw, list):
        return None, _draw_list(fields, modules, names), essay
    per_module = fields.integer(per_key, POSITIVE_INT) if raw is not MISSING else 0
    for name in names:
        if name in modules and per_module:
            _check_draw(fields, per_key, modules[name], per_module)
    return per_module, (), essay


def _draw_list(
    fields: YamlFields, modules: dict[str, Module], names: list[str]
) -> tuple[tuple[str, int], ...]:
    """The list form of exam.draw.per_module: [{module: name, count: n}, ...]."""
    key: KeyPath = ("exam", "draw", "per_module")
    if not fields.get(key):
        fields.report(fields.line(key), "exam.draw.per_module lists no module")
    pairs: dict[str, int] = {}
    for index, item in enumerate(fields.get(key)):
        item_key: KeyPath = (*key, index)
        if not isinstance(item, dict):
            message = f"{dotted_key(item_key)} must be a mapping like {{module: name, count: 5}}"
            fields.report(fields.line(item_key), message)
            continue
        fields.section(item_key, ("module", "count"))
        name = fields.text((*item_key, "module"), required=True)
        count = fields.integer((*item_key, "count"), POSITIVE_INT)
        name_line = fields.line((*item_key, "module"))
        if name and name not in names:
            fields.report(name_line, f"exam draw names unknown module '{name}'")
        elif name in pairs:
            fields.report(name_line, f"module '{name}' appears twice in the exam draw")
        elif name:
            pairs[name] = count
            if name in modules and count:
                _check_draw(fields, (*item_key, "count"), modules[name], count)
    return tuple(pairs.items())


def _check_draw(fields: YamlFields, key: KeyPath, module: Module, wanted: int) -> None:
    have = sum(question.exam and question.type != "essay" for question in module.questions)
    if wanted > have:
        message = (
            f"exam draws {wanted} questions from module '{module.name}' but it has only {have} exam questions"
        )
        fields.report(fields.line(key), message)


def _check_images(course_dir: Path, module: Module, report: ProblemLog) -> None:
    """Relative image paths must name a file inside the course folder; URLs are left alone."""
    first = module.body_first_line()
    references = [(first + line, src) for line, src in _image_sources(module.body)]
    for question in module.questions:
        text = "\n\n".join(
            [question.stem, *(option.text for option in question.options), question.explanation]
        )
        references += [(question.line, src) for _, src in _image_sources(text)]
    root = course_dir.resolve()
    for line, src in references:
        parts = urlsplit(src)
        target = unquote(parts.path)
        if parts.scheme or parts.netloc or not target or target.startswith("/"):
            continue
        resolved = (root / target).resolve()
        if not resolved.is_relative_to(root):
            report(line, f"image '{src}' points outside the course folder")
        elif not resolved.is_file():
            report(line, f"image '{unquote(src)}' does not exist")


def _image_sources(markdown: str) -> list[tuple[int, str]]:
    """(0-based line of the enclosing block, src) of every image markdown-it finds."""
    found = []
    for token in _markdown.parse(markdown):
        for child in token.children or []:
            if child.type == "image" and token.map:
                found.append((token.map[0], str(child.attrGet("src") or "")))
    return found


# ---- a tree of courses ---------------------------------------------------------------------------------


def check_tree(root: Path) -> list[Problem]:
    """`check_courses`: one course folder, or every course folder directly under `root`."""
    if not root.is_dir():
        return [Problem(root, 1, "no such folder")]
    if (root / "course.yaml").exists():
        return load_course_dir(root)[1]
    problems: list[Problem] = []
    found = False
    for folder in sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")):
        if (folder / "course.yaml").exists():
            found = True
            problems += load_course_dir(folder)[1]
        elif any(folder.glob("*.md")):
            problems.append(Problem(folder / "course.yaml", 1, "course.yaml is missing"))
    if not found and not problems:
        if any(root.glob("*.md")):  # modules without their course.yaml
            return load_course_dir(root)[1]
        problems.append(Problem(root, 1, "no course here: no course.yaml in this folder or its subfolders"))
    return _sorted(problems)
