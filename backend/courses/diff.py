"""A readable line diff between two versions of a module, for the instructor's history page.

Lines are compared with difflib and grouped into hunks with a few lines of context; a changed line that
resembles the line it replaced also gets its changed characters marked, which matters for Chinese text
where one character in a long paragraph is often the whole edit. Every piece of text is HTML-escaped
here, so the template can print `line.html` as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from markupsafe import Markup, escape

CONTEXT_LINES = 3
SIMILAR_ENOUGH = 0.5  # below this, a replaced line is shown as removed + added with no inline marks


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "context" | "removed" | "added"
    old_number: int | None
    new_number: int | None
    html: Markup  # the escaped line, changed characters wrapped in <del> or <ins>


@dataclass(frozen=True)
class DiffHunk:
    old_start: int
    new_start: int
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class LineDiff:
    hunks: tuple[DiffHunk, ...]
    added: int
    removed: int

    @property
    def identical(self) -> bool:
        return not self.hunks


def line_diff(old: str, new: str, *, context: int = CONTEXT_LINES) -> LineDiff:
    """The changes that turn `old` into `new`, as hunks of numbered lines."""
    # Line endings are not compared: a browser sends CRLF, and nobody can see the difference.
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    hunks: list[DiffHunk] = []
    added = removed = 0
    for group in matcher.get_grouped_opcodes(context):
        lines: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines += [
                    DiffLine("context", i + 1, j + 1, _plain(old_lines[i]))
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            removed += i2 - i1
            added += j2 - j1
            lines += _changed(old_lines[i1:i2], new_lines[j1:j2], i1, j1)
        hunks.append(DiffHunk(old_start=group[0][1] + 1, new_start=group[0][3] + 1, lines=tuple(lines)))
    return LineDiff(hunks=tuple(hunks), added=added, removed=removed)


def _changed(old: list[str], new: list[str], old_offset: int, new_offset: int) -> list[DiffLine]:
    """A replaced block: every removed line, then every added line; pairs that resemble each other
    (same position in the block) have their changed characters marked."""
    old_html = [_plain(line) for line in old]
    new_html = [_plain(line) for line in new]
    for index in range(min(len(old), len(new))):
        marked = _inline(old[index], new[index])
        if marked is not None:
            old_html[index], new_html[index] = marked
    removed = [DiffLine("removed", old_offset + index + 1, None, html) for index, html in enumerate(old_html)]
    added = [DiffLine("added", None, new_offset + index + 1, html) for index, html in enumerate(new_html)]
    return removed + added


def _inline(old: str, new: str) -> tuple[Markup, Markup] | None:
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    if matcher.ratio() < SIMILAR_ENOUGH:
        return None
    old_parts: list[str] = []
    new_parts: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            old_parts.append(escape(old[i1:i2]))
            new_parts.append(escape(new[j1:j2]))
            continue
        if i2 > i1:
            old_parts.append(Markup("<del>%s</del>") % old[i1:i2])
        if j2 > j1:
            new_parts.append(Markup("<ins>%s</ins>") % new[j1:j2])
    return Markup("").join(old_parts), Markup("").join(new_parts)


def _plain(line: str) -> Markup:
    return escape(line)
