"""Response models of the course API (/api/v1/courses, /api/v1/me/progress); never the table models."""

from __future__ import annotations

from pydantic import BaseModel, Field

from backend.courses.service import CourseProgress, CourseSummary, ModuleSummary


class ModulePublic(BaseModel):
    name: str = Field(description="The module's file name without .md; stable.")
    title: str
    title_en: str
    group: str = Field(description="公共知识 | 政策法规 | 实务技能 | 能力提升")
    hours: float = Field(description="学时 credited when the module is completed.")
    position: int = Field(description="Order within the course, from 0.")

    @classmethod
    def of(cls, module: ModuleSummary) -> ModulePublic:
        return cls(
            name=module.name,
            title=module.title,
            title_en=module.title_en,
            group=module.group,
            hours=module.hours,
            position=module.position,
        )


class CoursePublic(BaseModel):
    slug: str
    title: str
    title_en: str
    level: str = Field(description="junior | intermediate | senior")
    language: str
    description: str = Field(description="Markdown.")
    min_hours: float = Field(description="学时 needed before the exam opens.")
    total_hours: float = Field(description="学时 of all the course's modules.")
    module_count: int

    @classmethod
    def of(cls, summary: CourseSummary) -> CoursePublic:
        course = summary.course
        return cls(
            slug=course.slug,
            title=course.title,
            title_en=course.title_en,
            level=course.level,
            language=course.language,
            description=course.description,
            min_hours=course.min_hours,
            total_hours=summary.total_hours,
            module_count=summary.module_count,
        )


class CourseDetail(CoursePublic):
    modules: list[ModulePublic]


class CourseProgressPublic(BaseModel):
    slug: str
    title: str
    min_hours: float
    hours_done: float
    hours_left: float = Field(description="max(0, min_hours − hours_done).")
    hours_by_group: dict[str, float] = Field(description="学时 earned per syllabus group (all four present).")
    completed_modules: list[str] = Field(description="Names of the completed modules, in course order.")

    @classmethod
    def of(cls, progress: CourseProgress) -> CourseProgressPublic:
        return cls(
            slug=progress.course.slug,
            title=progress.course.title,
            min_hours=progress.course.min_hours,
            hours_done=progress.hours_done,
            hours_left=progress.hours_left,
            hours_by_group=progress.hours_by_group,
            completed_modules=progress.completed_modules,
        )


class ProgressPublic(BaseModel):
    courses: list[CourseProgressPublic]
