"""Moodle GIFT ↔ the course format's question blocks (pure text functions, no database): the question as
read from GIFT (GiftQuestion), written as a ```question block of a module (question_block), and written as
GIFT (to_gift). Reading GIFT is backend.exams.gift_reader.

The export writes what GIFT has no syntax for (points, exam=false, tags) on a comment line before each
question, `// academy: points=2 exam=false tags=a,b`, which Moodle ignores and the import reads back;
multiple choice with all-or-nothing scoring is written with several `=` answers, partial scoring with
`~%50%` weights; the explanation (for an essay, its marking guide) is the general feedback `####`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from backend.courses.format import Problem
from backend.errors import DomainError

SPECIAL = "~=#{}:"  # characters GIFT escapes with a backslash
GIFT_PATH = Path("GIFT")  # the "file" problems name: GIFT:line: message


class GiftProblems(DomainError):
    """A GIFT text that cannot be imported; `problems` are `GIFT:line: message`."""

    status_code = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass
class GiftQuestion:
    """One question read from GIFT, in the course format's terms."""

    line: int
    id: str
    type: str
    stem: str
    points: float = 1.0
    exam: bool = True
    scoring: str = "all"
    tags: list[str] = field(default_factory=list)
    options: list[tuple[str, bool]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    truth: bool | None = None
    low: float | None = None
    high: float | None = None
    explanation: str = ""


def question_block(question: GiftQuestion) -> str:
    """The question as a ```question block of the course format."""
    attrs = [f"id={question.id}", f"type={question.type}", f"points={question.points:g}"]
    if not question.exam:
        attrs.append("exam=false")
    if question.type == "multiple" and question.scoring == "partial":
        attrs.append("scoring=partial")
    if question.tags:
        attrs.append("tags=" + shlex.quote(",".join(question.tags)))
    lines = [question.stem.strip(), ""]
    if question.type in ("single", "multiple"):
        for text, right in question.options:
            lines.append(f"- [{'x' if right else ' '}] " + text.replace("\n", "\n  "))
    elif question.type == "truefalse":
        lines.append(f"= {'true' if question.truth else 'false'}")
    elif question.type == "fill":
        lines += [f"= {answer}" for answer in question.accepted]
    elif question.type == "numeric":
        low, high = question.low or 0.0, question.high or 0.0
        lines.append(f"= {_number(low)}" if low == high else f"= [{_number(low)}, {_number(high)}]")
    if question.explanation:
        if question.type != "essay":
            lines.append("")
        lines += [f"> {row}".rstrip() for row in question.explanation.strip().split("\n")]
    body = "\n".join(lines).strip("\n")
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}question {' '.join(attrs)}\n{body}\n{fence}\n"


def _number(value: float) -> str:
    return f"{value:.15g}"


def escape(text: str) -> str:
    out = text.replace("\\", "\\\\")
    for char in SPECIAL:
        out = out.replace(char, "\\" + char)
    return out.replace("\r\n", "\n").replace("\n", "\\n")


def to_gift(question: GiftQuestion) -> str:
    """One question as GIFT, preceded by the academy comment line that keeps points, exam and tags."""
    meta = [f"points={question.points:g}"]
    if not question.exam:
        meta.append("exam=false")
    if question.tags:
        meta.append("tags=" + shlex.quote(",".join(question.tags)))
    head = f"// academy: {' '.join(meta)}\n::{escape(question.id)}::[markdown]{escape(question.stem.strip())}"
    general = f"####{escape(question.explanation.strip())}" if question.explanation.strip() else ""
    if question.type == "essay":
        return f"{head} {{{general}}}\n"
    if question.type == "truefalse":
        return f"{head} {{{'TRUE' if question.truth else 'FALSE'}{general}}}\n"
    if question.type == "numeric":
        low, high = question.low or 0.0, question.high or 0.0
        spec = _number(low) if low == high else f"{_number(low)}..{_number(high)}"
        return f"{head} {{#{spec}{general}}}\n"
    if question.type == "fill":
        answers = "".join(f"\n={escape(answer)}" for answer in question.accepted)
        return f"{head} {{{answers}\n{general}}}\n" if general else f"{head} {{{answers}\n}}\n"
    rights = sum(right for _t, right in question.options)
    all_right = rights == len(question.options)  # all "=" would read back as a short answer
    rows = []
    for text, right in question.options:
        if question.scoring == "partial" and question.type == "multiple":
            share = f"{100 / rights:.7g}"
            rows.append(f"~%{share}%{escape(text)}" if right else f"~%-{share}%{escape(text)}")
        elif right:
            rows.append(f"~%100%{escape(text)}" if all_right else f"={escape(text)}")
        else:
            rows.append(f"~{escape(text)}")
    answers = "".join(f"\n{row}" for row in rows)
    return f"{head} {{{answers}\n{general}}}\n" if general else f"{head} {{{answers}\n}}\n"
