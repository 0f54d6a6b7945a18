"""Helpers the exam tests share: the sample course with a draw that puts every exam question on the paper,
reading a drawn paper by question id, and answers (right or wrong) in the shape a form or the API sends."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from backend.courses.importer import import_course
from backend.models import (
    Course,
    CourseModule,
    ExamAttempt,
    ExamItem,
    ModuleProgress,
    Question,
    QuestionVersion,
    User,
    utcnow,
)

SAMPLE = Path(__file__).parent.parent / "courses" / "sample" / "sample-course"
SAMPLE_DRAW = """  draw:
    per_module: 2
    essay: 1
  shuffle_options: false
"""
FULL_DRAW = """  draw:
    per_module:
      - {module: 01-basics, count: 3}
      - {module: 02-law, count: 4}
      - {module: 03-practice, count: 3}
    essay: 1
  shuffle_options: true
"""
MODULE_HOURS = {"01-basics": 2.0, "02-law": 3.0, "03-practice": 1.5}


def course_copy(tmp: Path, *, slug: str = "sample-course", draw: str = FULL_DRAW) -> Path:
    """The sample course in `tmp`, with another draw (default: every exam question, options shuffled)."""
    folder = tmp / slug
    shutil.copytree(SAMPLE, folder)
    yaml_path = folder / "course.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    assert SAMPLE_DRAW in text
    text = text.replace(SAMPLE_DRAW, draw).replace("slug: sample-course", f"slug: {slug}")
    yaml_path.write_text(text, encoding="utf-8")
    return folder


def import_folder(db: Session, folder: Path) -> Course:
    import_course(db, folder)
    db.commit()
    return db.exec(select(Course).where(Course.slug == folder.name)).one()


def credit_hours(db: Session, user: User, course: Course, hours: dict[str, float] | None = None) -> None:
    """Modules completed and their hours credited, as completing them in the browser would."""
    hours = MODULE_HOURS if hours is None else hours
    modules = db.exec(select(CourseModule).where(CourseModule.course_id == course.id)).all()
    for module in modules:
        if module.name in hours:
            db.add(
                ModuleProgress(
                    user_id=user.id or 0,
                    module_id=module.id or 0,
                    completed_at=utcnow(),
                    hours_credited=hours[module.name],
                )
            )
    db.commit()


def move_deadline(db: Session, attempt_id: int, *, minutes_ago: int = 1) -> None:
    """Time travel: the attempt started hours ago and its deadline passed `minutes_ago` minutes ago."""
    db.commit()  # end any read snapshot first: SQLite cannot upgrade a stale one to a write
    now = utcnow()
    db.execute(
        update(ExamAttempt)
        .where(col(ExamAttempt.id) == attempt_id)
        .values(started_at=now - timedelta(hours=3), deadline=now - timedelta(minutes=minutes_ago))
    )
    db.commit()


@dataclass(frozen=True)
class PaperRow:
    position: int
    qid: str
    type: str
    order: list[int]  # shown position → option index in the file
    version: QuestionVersion

    def shown(self, index: int) -> int:
        """The shown position of the file's option `index`."""
        return self.order.index(index)

    def right_positions(self) -> list[int]:
        return sorted(self.shown(i) for i, option in enumerate(self.version.options) if option["correct"])

    def wrong_positions(self) -> list[int]:
        return sorted(self.shown(i) for i, option in enumerate(self.version.options) if not option["correct"])


def paper(db: Session, attempt_id: int) -> dict[str, PaperRow]:
    """The drawn paper of an attempt by question id (read fresh from the database)."""
    db.commit()  # a fresh snapshot: the app committed in other connections
    rows = db.exec(
        select(ExamItem, Question.qid, QuestionVersion)
        .join(Question, col(Question.id) == ExamItem.question_id)
        .join(QuestionVersion, col(QuestionVersion.id) == ExamItem.question_version_id)
        .where(ExamItem.attempt_id == attempt_id)
    ).all()
    return {
        qid: PaperRow(item.position, qid, item.type, list(item.option_order), version)
        for item, qid, version in rows
    }


def right_form(row: PaperRow) -> dict[str, Any]:
    """Form fields of a right answer to the question."""
    if row.type == "single":
        return {"choice": str(row.right_positions()[0])}
    if row.type == "multiple":
        return {"choice": [str(p) for p in row.right_positions()]}
    if row.type == "truefalse":
        return {"truth": "true" if row.version.truth else "false"}
    if row.type == "fill":
        return {"text": row.version.accepted[0]}
    if row.type == "numeric":
        return {"value": f"{row.version.numeric_low:g}"}
    return {"text": "确认权属、评估作价、履行公示。"}


def wrong_form(row: PaperRow) -> dict[str, Any]:
    if row.type in ("single", "multiple"):
        return {"choice": str(row.wrong_positions()[0])}
    if row.type == "truefalse":
        return {"truth": "false" if row.version.truth else "true"}
    if row.type == "fill":
        return {"text": "不对"}
    if row.type == "numeric":
        return {"value": "99999"}
    return {"text": ""}
