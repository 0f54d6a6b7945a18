"""Final exams: an attempt, the paper drawn for it (a frozen snapshot of question versions, their order,
their option order and points) and the answers saved while it is taken.

ExamItem's snapshot columns never change after the draw; only its grading columns are filled in (at
submit for objective questions, by a grader for essays). ExamAnswer holds the latest saved answer of one
item: every save is an upsert on item_id, so the newest save wins and nothing else is touched.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class AttemptStatus(enum.StrEnum):
    open = "open"  # being taken; answers may be saved until the deadline
    submitted = "submitted"  # answers frozen; essays wait for a grader
    graded = "graded"  # every item graded: the result is final and released


class ExamAttempt(SQLModel, table=True):
    """One sitting of a course's final exam. (user, course, number) is unique, which is what makes
    starting race-safe: two simultaneous starts compute the same next number and only one insert wins."""

    __tablename__ = "exam_attempt"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    number: int  # 1 for the first attempt at this course
    status: str = Field(default=AttemptStatus.open.value, max_length=20, index=True)
    started_at: datetime = Field(default_factory=utcnow)
    deadline: datetime = Field(index=True)
    submitted_at: datetime | None = Field(default=None)
    auto_submitted: bool = Field(default=False)  # submitted by the server at or after the deadline
    finalized_at: datetime | None = Field(default=None)  # when the result became final (released)
    # The rules as they were when the attempt started (course.yaml may change later).
    title: str = Field(default="", max_length=200)
    time_limit_minutes: int
    pass_score: float
    max_points: float = Field(default=0)
    score_points: float | None = Field(default=None)
    score_percent: float | None = Field(default=None)
    passed: bool | None = Field(default=None)


class ExamItem(SQLModel, table=True):
    """One question of an attempt's paper, at `position` (1-based)."""

    __tablename__ = "exam_item"
    __table_args__ = (UniqueConstraint("attempt_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="exam_attempt.id", index=True, ondelete="CASCADE")
    position: int
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    question_version_id: int = Field(foreign_key="question_version.id", ondelete="CASCADE")
    type: str = Field(max_length=20)
    group: str = Field(default="", max_length=20)  # the module's syllabus group at the draw
    points: float
    # Shown position → index in the question version's options (file order); empty for non-choice types.
    option_order: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    awarded: float | None = Field(default=None)  # None until graded
    correct: bool | None = Field(default=None)
    graded_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    graded_at: datetime | None = Field(default=None)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ExamAnswer(SQLModel, table=True):
    """The latest saved answer (and review flag) of one item; option indexes in the file's order."""

    __tablename__ = "exam_answer"

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="exam_item.id", unique=True, ondelete="CASCADE")
    attempt_id: int = Field(foreign_key="exam_attempt.id", index=True, ondelete="CASCADE")
    answer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answered: bool = Field(default=False)  # False when the saved answer is blank (cleared)
    flagged: bool = Field(default=False)
    saved_at: datetime = Field(default_factory=utcnow)
