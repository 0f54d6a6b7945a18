"""Every table, imported once here; alembic's env.py and the tests import this package and nothing else."""

from backend.models.accounts import LoginAttempt, Role, User, UserSession
from backend.models.audit import AuditEvent
from backend.models.base import NAMING_CONVENTION, utcnow
from backend.models.certificates import (
    Certificate,
    CertificateCounter,
    CertificateLevel,
    CertificateSource,
    CertificateStatus,
)
from backend.models.cohorts import (
    Attendance,
    ClassSession,
    Cohort,
    CohortInstructor,
    CohortStatus,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
)
from backend.models.courses import (
    Course,
    CourseModule,
    ModuleProgress,
    ModuleVersion,
    Question,
    QuestionVersion,
    SelfCheckAnswer,
)
from backend.models.exams import AttemptStatus, ExamAnswer, ExamAttempt, ExamItem
from backend.models.jobs import Job, JobStatus
from backend.models.notifications import (
    Notification,
    NotificationStatus,
    PasswordResetToken,
    ResetPurpose,
)
from backend.models.renewal import CertificateRenewal, RenewalReminder, RenewalSettings
from backend.models.roster import DirectoryListing, RosterSettings

__all__ = [
    "NAMING_CONVENTION",
    "AttemptStatus",
    "Attendance",
    "AuditEvent",
    "Certificate",
    "CertificateCounter",
    "CertificateLevel",
    "CertificateRenewal",
    "CertificateSource",
    "CertificateStatus",
    "ClassSession",
    "Cohort",
    "CohortInstructor",
    "CohortStatus",
    "Course",
    "CourseModule",
    "DirectoryListing",
    "Enrollment",
    "EnrollmentSource",
    "EnrollmentStatus",
    "ExamAnswer",
    "ExamAttempt",
    "ExamItem",
    "Job",
    "JobStatus",
    "LoginAttempt",
    "ModuleProgress",
    "ModuleVersion",
    "Notification",
    "NotificationStatus",
    "PasswordResetToken",
    "Question",
    "QuestionVersion",
    "RenewalReminder",
    "RenewalSettings",
    "ResetPurpose",
    "Role",
    "RosterSettings",
    "SelfCheckAnswer",
    "User",
    "UserSession",
    "utcnow",
]
