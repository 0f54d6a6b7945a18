"""Courses as stored: every module and question keeps all its versions; progress hangs on modules.

The markdown files in courses/ are the source; importing them (or saving in the browser editor) adds a
new ModuleVersion when a module's text changed and a new QuestionVersion when a question block changed
(content hash). Nothing is overwritten, so a drawn exam paper always points at the exact text it showed.
`source_hash` remembers the file as last imported, so re-importing files that did not change since then
keeps the edits made in the browser meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.models.base import utcnow


class Course(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True, index=True)
    title: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    level: str = Field(max_length=20)  # junior | intermediate | senior
    language: str = Field(default="zh-CN", max_length=20)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    min_hours: float = Field(default=0)
    exam_rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    certificate_title: str = Field(default="", max_length=200)
    validity_years: int = Field(default=0)
    # course.yaml as last saved (imported, or rewritten by the browser editor)
    yaml_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    content_hash: str = Field(default="", max_length=64)  # of yaml_text
    source_hash: str = Field(default="", max_length=64)  # of course.yaml when last imported
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CourseModule(SQLModel, table=True):
    """A module of a course, in the course's order; archived (never deleted) when dropped from course.yaml."""

    __tablename__ = "course_module"
    __table_args__ = (UniqueConstraint("course_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)  # file name without .md, e.g. 02-transformation-law
    position: int = Field(default=0)
    current_version: int = Field(default=1)  # ModuleVersion.number shown to trainees
    archived_at: datetime | None = Field(default=None)
    source_hash: str = Field(default="", max_length=64)  # of the module file when last imported; "" if never


class ModuleVersion(SQLModel, table=True):
    __tablename__ = "module_version"
    __table_args__ = (UniqueConstraint("module_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    module_id: int = Field(foreign_key="course_module.id", index=True, ondelete="CASCADE")
    number: int
    text: str = Field(sa_column=Column(Text, nullable=False))  # the whole markdown file, byte for byte
    content_hash: str = Field(max_length=64, index=True)
    title: str = Field(max_length=200)
    title_en: str = Field(default="", max_length=200)
    group: str = Field(max_length=20)  # 公共知识 | 政策法规 | 实务技能 | 能力提升
    hours: float = Field(default=0)
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    message: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    rendered_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # cache


class Question(SQLModel, table=True):
    """A question by its stable id within the course (the `id=` of its block)."""

    __table_args__ = (UniqueConstraint("course_id", "qid"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="course.id", index=True, ondelete="CASCADE")
    module_id: int = Field(foreign_key="course_module.id", index=True, ondelete="CASCADE")
    qid: str = Field(max_length=100)
    current_version: int = Field(default=1)
    archived_at: datetime | None = Field(default=None)  # no longer in its module's current text


class QuestionVersion(SQLModel, table=True):
    __tablename__ = "question_version"
    __table_args__ = (UniqueConstraint("question_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    number: int
    content_hash: str = Field(max_length=64)
    type: str = Field(max_length=20)  # single | multiple | truefalse | fill | numeric | essay
    points: float = Field(default=1)
    exam: bool = Field(default=True)
    scoring: str = Field(default="all", max_length=10)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    stem: str = Field(sa_column=Column(Text, nullable=False))
    options: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    accepted: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    truth: bool | None = Field(default=None)
    numeric_low: float | None = Field(default=None)
    numeric_high: float | None = Field(default=None)
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    source: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ModuleProgress(SQLModel, table=True):
    """A trainee's state in one module; its hours are credited when completed_at is set."""

    __tablename__ = "module_progress"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    module_id: int = Field(foreign_key="course_module.id", index=True, ondelete="CASCADE")
    started_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = Field(default=None)
    hours_credited: float = Field(default=0)


class SelfCheckAnswer(SQLModel, table=True):
    """The latest self-check answer a trainee gave to a question (self-checks are practice, not graded)."""

    __tablename__ = "self_check_answer"
    __table_args__ = (UniqueConstraint("user_id", "question_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    question_id: int = Field(foreign_key="question.id", index=True, ondelete="CASCADE")
    question_version_id: int = Field(foreign_key="question_version.id", ondelete="CASCADE")
    answer: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    correct: bool | None = Field(default=None)  # None for essays (not machine-graded)
    answered_at: datetime = Field(default_factory=utcnow)
