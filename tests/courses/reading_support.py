"""Shared set-up for the reading-side course tests: the sample course imported into the test database."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from backend.courses.importer import import_course
from backend.courses.reading import clear_caches
from backend.models import Course

SAMPLE_COURSE = Path(__file__).parent / "sample" / "sample-course"
SLUG = "sample-course"


def load_sample_course(db: Session) -> Course:
    # Row ids start again in every test, so a cache another test filled could name other rows.
    clear_caches()
    import_course(db, SAMPLE_COURSE)
    db.commit()
    course = db.exec(select(Course).where(Course.slug == SLUG)).one()
    return course
