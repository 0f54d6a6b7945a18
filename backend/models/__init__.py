"""Every table, imported once here; alembic's env.py and the tests import this package and nothing else."""

from backend.models.accounts import LoginAttempt, Role, User, UserSession
from backend.models.audit import AuditEvent
from backend.models.courses import (
    Course,
    CourseModule,
    ModuleProgress,
    ModuleVersion,
    Question,
    QuestionVersion,
    SelfCheckAnswer,
)
from backend.models.base import NAMING_CONVENTION, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "AuditEvent",
    "Course",
    "CourseModule",
    "LoginAttempt",
    "ModuleProgress",
    "ModuleVersion",
    "Question",
    "QuestionVersion",
    "Role",
    "SelfCheckAnswer",
    "User",
    "UserSession",
    "utcnow",
]
