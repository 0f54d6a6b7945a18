"""Reading a Moodle GIFT file into GiftQuestions (backend.exams.gift), every problem reported with its line.

Read: multiple choice (`=right ~wrong`, `~%50%` weights: any positive weight is a right option, and
right options with partial weights make a `multiple` question with `scoring=partial`), true/false
(`{T}` `{F}` `{TRUE}` `{FALSE}`), short answer (one or more `=answer` → `fill`), numeric (`{#50:0.5}`,
`{#45..55}`, `{#50}`), essay (`{}`, its marking guide the general feedback). `::title::` becomes the
question id when it is a valid id, `//` lines are comments, general feedback (`####`) or else the right
answers' feedback (`#`) becomes the explanation, and `// academy: ...` lines (written by the export)
carry points, exam and tags. A file with any problem yields no question.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from backend.courses.format import Problem, find_question_fences
from backend.courses.questions import parse_question
from backend.exams.gift import GIFT_PATH, SPECIAL, GiftProblems, GiftQuestion, question_block

_PROTECT = {char: chr(0xE100 + index) for index, char in enumerate(SPECIAL + "\\")}
_RESTORE = {value: key for key, value in _PROTECT.items()}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_WEIGHT = re.compile(r"\s*%(-?\d+(?:\.\d+)?)%")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_TOLERANCE = re.compile(rf"\s*({_NUMBER})\s*:\s*({_NUMBER})\s*\Z")
_RANGE = re.compile(rf"\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*\Z")
_EXACT = re.compile(rf"\s*({_NUMBER})\s*\Z")
_FORMAT = re.compile(r"\s*\[(html|moodle|plain|markdown)\]", re.IGNORECASE)
_META = re.compile(r"\s*//\s*academy:(.*)\Z")


@dataclass
class _Block:
    numbers: list[int]  # the file's 1-based line number of each line of the block
    text: str  # escapes protected
    meta: dict[str, str]

    @property
    def line(self) -> int:
        return self.numbers[0]

    def line_at(self, offset: int) -> int:
        return self.numbers[min(self.text.count("\n", 0, max(offset, 0)), len(self.numbers) - 1)]


def parse_gift(text: str, *, taken_ids: set[str], id_prefix: str) -> list[GiftQuestion]:
    """The questions of a GIFT text; raises GiftProblems listing every problem (and then nothing is read).
    Ids already in the course (`taken_ids`) may not be reused; questions without a usable title get
    `{id_prefix}-1`, `-2`, ..."""
    problems: list[Problem] = []
    questions: list[GiftQuestion] = []
    for block in _blocks(text):
        question = _question(block, problems)
        if question is not None:
            questions.append(question)
    if not questions and not problems:
        problems.append(Problem(GIFT_PATH, 1, "no question found"))
    _assign_ids(questions, taken_ids, id_prefix, problems)
    for question in questions if not problems else []:
        _check_block(question, problems)
    if problems:
        raise GiftProblems(sorted(problems, key=lambda problem: problem.line))
    return questions


def _protect(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following in _PROTECT:
                out.append(_PROTECT[following])
                index += 2
                continue
            if following == "n":
                out.append("\ue1ff")  # \n: a line break inside the text
                index += 2
                continue
        out.append(char)
        index += 1
    return "".join(out)


def _restore(text: str) -> str:
    return "".join(_RESTORE.get(char, char) for char in text).replace("\ue1ff", "\n")


def _blocks(text: str) -> list[_Block]:
    """Questions are separated by blank lines; comment and $CATEGORY lines are left out (the line
    numbers of the others are kept, so problems still point at the right line)."""
    blocks: list[_Block] = []
    current: list[str] = []
    numbers: list[int] = []
    meta: dict[str, str] = {}
    pending_meta: dict[str, str] = {}
    lines = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").split("\n")
    for number, raw in enumerate([*lines, ""], start=1):
        stripped = raw.strip()
        if stripped.startswith(("//", "$CATEGORY")):
            if match := _META.match(raw):
                pending_meta = _meta(match[1])
            continue
        if not stripped:
            if current:
                blocks.append(_Block(numbers, _protect("\n".join(current)), meta))
                current, numbers = [], []
            continue
        if not current:
            meta, pending_meta = pending_meta, {}
        current.append(raw)
        numbers.append(number)
    return blocks


def _meta(text: str) -> dict[str, str]:
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    return dict(word.partition("=")[::2] for word in words if "=" in word)


def _question(block: _Block, problems: list[Problem]) -> GiftQuestion | None:
    text = block.text
    title = ""
    if text.lstrip().startswith("::"):
        begin = text.index("::") + 2
        end = text.find("::", begin)
        if end < 0:
            problems.append(Problem(GIFT_PATH, block.line, "the title is not closed with '::'"))
            return None
        title, text = _restore(text[begin:end]).strip(), text[end + 2 :]
    offset = len(block.text) - len(text)
    text = _FORMAT.sub("", text, count=1)
    open_at, close_at = text.find("{"), text.rfind("}")
    if open_at < 0 or close_at < open_at:
        where = block.line_at(offset + max(open_at, 0))
        message = (
            "no answer block: a question needs {...} with its answers"
            if open_at < 0
            else "'{' is not closed with '}'"
        )
        problems.append(Problem(GIFT_PATH, where, message))
        return None
    line = block.line_at(offset + open_at)
    before, answers, after = text[:open_at], text[open_at + 1 : close_at], text[close_at + 1 :]
    if "{" in answers or "}" in after or "{" in after:
        problems.append(Problem(GIFT_PATH, line, "only one answer block {...} per question is supported"))
        return None
    stem = _restore(before).strip()
    if after.strip():
        stem = f"{stem} ____ {_restore(after).strip()}".strip()
    if not stem:
        problems.append(Problem(GIFT_PATH, block.line, "the question has no text"))
        return None
    question = GiftQuestion(line=block.line, id=title, type="", stem=stem)
    if not _read_meta(question, block.meta, problems):
        return None
    found = len(problems)
    _read_answers(question, answers, line, problems)
    return question if len(problems) == found else None


def _read_meta(question: GiftQuestion, meta: dict[str, str], problems: list[Problem]) -> bool:
    try:
        question.points = float(meta.get("points", "1"))
    except ValueError:
        question.points = -1
    if not question.points > 0:
        problems.append(Problem(GIFT_PATH, question.line - 1, "academy: points must be a positive number"))
        return False
    question.exam = meta.get("exam", "true").lower() != "false"
    question.tags = [tag.strip() for tag in meta.get("tags", "").split(",") if tag.strip()]
    return True


def _read_answers(question: GiftQuestion, part: str, line: int, problems: list[Problem]) -> None:
    general = ""
    if "####" in part:
        part, general = part.split("####", 1)
        general = _restore(general).strip()
    body = part.strip()
    question.explanation = general
    if not body:
        question.type = "essay"
        if not general:
            problems.append(
                Problem(
                    GIFT_PATH, line, "an essay needs a marking guide: write it as general feedback after ####"
                )
            )
        return
    if body.startswith("#"):
        _numeric(question, body[1:], line, problems)
        return
    head, _sep, feedback = body.partition("#")
    if head.strip().upper() in ("T", "TRUE", "F", "FALSE"):
        question.type, question.truth = "truefalse", head.strip().upper().startswith("T")
        if not question.explanation:
            question.explanation = _restore(feedback.split("#")[-1]).strip() if feedback else ""
        return
    _choices(question, body, line, problems)


def _numeric(question: GiftQuestion, spec: str, line: int, problems: list[Problem]) -> None:
    question.type = "numeric"
    spec = spec.strip()
    if spec.startswith("="):
        full = []
        for entry in (entry for entry in spec.split("=") if entry.strip()):
            weight = _WEIGHT.match(entry)
            if weight is None or float(weight[1]) == 100:
                full.append(_WEIGHT.sub("", entry, count=1))
        if len(full) != 1:
            problems.append(
                Problem(GIFT_PATH, line, "a numeric question needs exactly one fully right answer")
            )
            return
        spec = full[0]
    value, _sep, feedback = spec.partition("#")
    value = _restore(value)
    if match := _RANGE.match(value):
        low, high = float(match[1]), float(match[2])
    elif match := _TOLERANCE.match(value):
        low, high = float(match[1]) - float(match[2]), float(match[1]) + float(match[2])
    elif match := _EXACT.match(value):
        low = high = float(match[1])
    else:
        problems.append(Problem(GIFT_PATH, line, f"numeric answer '{value.strip()}' is not N, N:T or A..B"))
        return
    if low > high:
        problems.append(Problem(GIFT_PATH, line, f"numeric range '{value.strip()}' is empty"))
        return
    question.low, question.high = low, high
    if not question.explanation:
        question.explanation = _restore(feedback).strip()


def _choices(question: GiftQuestion, body: str, line: int, problems: list[Problem]) -> None:
    parts = re.split(r"([=~])", body)
    if parts[0].strip():
        problems.append(
            Problem(
                GIFT_PATH, line, f"unexpected text before the first answer: '{_restore(parts[0]).strip()}'"
            )
        )
        return
    entries: list[tuple[str, float | None, str, str]] = []  # marker, weight, text, feedback
    for marker, content in zip(parts[1::2], parts[2::2], strict=True):
        weight = None
        if match := _WEIGHT.match(content):
            weight, content = float(match[1]), content[match.end() :]
        text, _sep, feedback = content.partition("#")
        if "->" in text:
            problems.append(Problem(GIFT_PATH, line, "matching questions (->) are not supported"))
            return
        entries.append((marker, weight, _restore(text).strip(), _restore(feedback).strip()))
    if any(not text for _m, _w, text, _f in entries):
        problems.append(Problem(GIFT_PATH, line, "an answer has no text"))
        return
    rights = [entry for entry in entries if _is_right(entry[0], entry[1])]
    feedback = "\n".join(fb for _m, _w, _t, fb in rights if fb)
    question.explanation = question.explanation or feedback
    if all(marker == "=" for marker, _w, _t, _f in entries):
        question.type = "fill"
        if any(weight is not None and weight != 100 for _m, weight, _t, _f in entries):
            problems.append(
                Problem(
                    GIFT_PATH,
                    line,
                    "partial credit for a short answer is not supported: every = answer must be fully right",
                )
            )
            return
        question.accepted = [text.replace("\n", " ") for _m, _w, text, _f in entries]
        return
    if not rights:
        problems.append(Problem(GIFT_PATH, line, "no right answer: mark one with = or a positive %weight%"))
        return
    if not 2 <= len(entries) <= 8:
        problems.append(
            Problem(GIFT_PATH, line, f"a choice question needs 2 to 8 answers, not {len(entries)}")
        )
        return
    question.options = [(text, _is_right(marker, weight)) for marker, weight, text, _f in entries]
    question.type = "multiple" if len(rights) > 1 else "single"
    partial = any(weight is not None and weight < 100 for _m, weight, _t, _f in rights)
    question.scoring = "partial" if question.type == "multiple" and partial else "all"


def _is_right(marker: str, weight: float | None) -> bool:
    return weight > 0 if weight is not None else marker == "="


def _assign_ids(questions: list[GiftQuestion], taken: set[str], prefix: str, problems: list[Problem]) -> None:
    used = set(taken)
    for question in questions:
        if question.id and _ID.match(question.id) and len(question.id) <= 100:
            if question.id in used:
                problems.append(
                    Problem(
                        GIFT_PATH,
                        question.line,
                        f"question id '{question.id}' is already used in this course",
                    )
                )
            used.add(question.id)
    counter = 0
    for question in questions:
        if question.id and _ID.match(question.id) and len(question.id) <= 100:
            continue
        counter += 1
        while f"{prefix}-{counter}" in used:
            counter += 1
        question.id = f"{prefix}-{counter}"
        used.add(question.id)


def _check_block(question: GiftQuestion, problems: list[Problem]) -> None:
    """The block written for the question must read back as the same question in the course format."""
    block = question_block(question)
    fences = find_question_fences(block)
    if len(fences) != 1:
        problems.append(
            Problem(GIFT_PATH, question.line, "the question text cannot be written as one question block")
        )
        return
    parsed, found = parse_question(fences[0], path=GIFT_PATH, line=1, source=block)
    if parsed is None:
        for problem in found:
            problems.append(Problem(GIFT_PATH, question.line, problem.message))
        return
    options = [(option.text, option.correct) for option in parsed.options]
    expected = (question.stem.strip(), question.type, question.options, question.explanation.strip())
    if (parsed.stem, parsed.type, options, parsed.explanation) != expected:
        problems.append(
            Problem(
                GIFT_PATH,
                question.line,
                "the question text contains lines that read as answers or an explanation (start them differently)",
            )
        )
