"""Rewriting course.yaml text for the browser editor: a top-level section that changes (modules, exam,
...) is written afresh in place, and every other line (comments, spacing, key order) is kept byte for
byte, so an exported course differs from its source only where someone edited it.
"""

from __future__ import annotations

from typing import Any

import yaml

from backend.courses.format import split_lines
from backend.courses.validate import EXAM_FIELDS


class _Dumper(yaml.SafeDumper):
    """Block style like the shipped courses: list items indented under their key, multi-line text as |."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _represent_text)


def dump_section(key: str, value: Any, newline: str = "\n") -> str:
    text = yaml.dump(
        {key: plain_numbers(value)},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=4096,
    )
    return text.replace("\n", newline)


def plain_numbers(value: Any) -> Any:
    """32.0 → 32 (as a person writes it), through dicts and lists; booleans and text untouched."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    return value


def replace_sections(text: str, sections: dict[str, Any]) -> str:
    """`text` with each top-level key of `sections` set to its value; missing keys are appended."""
    spans = _section_spans(text)
    if spans is None:  # not a plain block mapping: write the whole document afresh
        data = yaml.safe_load(text) or {}
        return "".join(dump_section(key, value) for key, value in {**data, **sections}.items())
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = split_lines(text)
    for key in sorted((key for key in sections if key in spans), key=lambda key: -spans[key][0]):
        start, end = spans[key]
        lines[start:end] = [dump_section(key, sections[key], newline)]
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    lines += [dump_section(key, value, newline) for key, value in sections.items() if key not in spans]
    return "".join(lines)


def _section_spans(text: str) -> dict[str, tuple[int, int]] | None:
    """Top-level key → its 0-based line range [start, end): the key's line up to the next key, leaving
    out the blank lines and column-0 comments just before the next key. None if keys are not at column 0."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        return None
    starts = []
    for key_node, _ in node.value:
        if key_node.start_mark.column != 0:
            return None
        starts.append((str(key_node.value), key_node.start_mark.line))
    lines = split_lines(text)
    spans = {}
    for index, (key, start) in enumerate(starts):
        end = starts[index + 1][1] if index + 1 < len(starts) else len(lines)
        while end - 1 > start and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1
        spans[key] = (start, end)
    return spans


def with_modules(text: str, names: list[str]) -> str:
    return replace_sections(text, {"modules": list(names)})


def settings_sections(
    text: str, *, title: str, description: str, min_hours: float, exam: dict[str, Any]
) -> dict[str, Any]:
    """The top-level sections whose values the new settings change (an unchanged one keeps its text)."""
    data = yaml.safe_load(text)
    data = data if isinstance(data, dict) else {}
    completion = data.get("completion")
    completion = completion if isinstance(completion, dict) else {}
    sections: dict[str, Any] = {}
    if data.get("title") != title:
        sections["title"] = title
    if str(data.get("description") or "").strip() != description.strip():
        sections["description"] = description.strip() + "\n" if description.strip() else ""
    if completion.get("min_hours") != min_hours:
        sections["completion"] = {**completion, "min_hours": min_hours}
    new_exam = yaml_exam(exam)
    if plain_numbers(data.get("exam")) != plain_numbers(new_exam):
        sections["exam"] = new_exam
    return sections


def yaml_exam(exam: dict[str, Any]) -> dict[str, Any]:
    """An exam dict in Course.exam_rules' shape (draw.per_module or draw.modules) in course.yaml's shape
    (draw.per_module is a number or a list), keys in the documented order."""
    ordered = {key: exam[key] for key in EXAM_FIELDS if key in exam}
    ordered |= {key: value for key, value in exam.items() if key not in ordered}
    draw = ordered.get("draw")
    if isinstance(draw, dict):
        modules = draw.get("modules")
        new_draw = {"per_module": modules if modules else draw.get("per_module")}
        new_draw |= {key: value for key, value in draw.items() if key not in ("per_module", "modules")}
        ordered["draw"] = new_draw
    return ordered


def draw_without_new_module(text: str) -> dict[str, Any] | None:
    """For a course that draws N questions from every module: the exam section rewritten to draw N from
    each of its present modules by name, so that a new, still empty module is not drawn from and the exam
    stays as it was. None when there is nothing to rewrite."""
    data = yaml.safe_load(text)
    exam = data.get("exam") if isinstance(data, dict) else None
    draw = exam.get("draw") if isinstance(exam, dict) else None
    if not isinstance(exam, dict) or not isinstance(draw, dict):
        return None
    per_module = draw.get("per_module")
    if not isinstance(per_module, int) or isinstance(per_module, bool):
        return None
    names = [name for name in data.get("modules") or [] if isinstance(name, str)]
    listed = [{"module": name, "count": per_module} for name in names]
    return {**exam, "draw": {**draw, "per_module": listed}}
