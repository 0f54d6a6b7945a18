"""Fixtures for the course-format tests: the sample course, and broken copies of it in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

SAMPLE = Path(__file__).parent / "sample" / "sample-course"


@pytest.fixture
def sample_course() -> Path:
    return SAMPLE


@pytest.fixture
def break_course(tmp_path: Path) -> Callable[..., Path]:
    """Copy the sample course into tmp_path and apply edits: (file, old, new) replaces `old`, which must
    occur exactly once; old=None writes `new` as the whole file; new=None deletes the file."""

    def apply(*edits: tuple[str, str | None, str | None]) -> Path:
        course = tmp_path / "sample-course"
        if not course.exists():
            shutil.copytree(SAMPLE, course)
        for file, old, new in edits:
            path = course / file
            if new is None:
                path.unlink()
                continue
            text = new
            if old is not None:
                text = path.read_bytes().decode("utf-8")
                assert text.count(old) == 1, f"{old!r} must occur exactly once in {file}"
                text = text.replace(old, new)
            path.write_bytes(text.encode("utf-8"))
        return course

    return apply
