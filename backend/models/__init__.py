"""Every table, imported once here; alembic's env.py and the tests import this package and nothing else."""

from backend.models.accounts import LoginAttempt, Role, User, UserSession
from backend.models.audit import AuditEvent
from backend.models.base import NAMING_CONVENTION, utcnow

__all__ = ["NAMING_CONVENTION", "AuditEvent", "LoginAttempt", "Role", "User", "UserSession", "utcnow"]
