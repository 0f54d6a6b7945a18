"""Messages a class sends through the notification outbox: enrolment confirmed, and the welcome
(set-your-password) message for an account created by an import. Both are added in the caller's
transaction, so a message exists exactly when the enrolment does."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from backend.accounts.password_reset import issue_reset_link
from backend.config import Settings
from backend.models import Cohort, User
from backend.notifications import messages
from backend.notifications.service import notify, schedule_delivery


def enrolment_confirmed(session: Session, *, settings: Settings, user: User, cohort: Cohort) -> None:
    message = messages.enrolment_confirmed_message(
        name=user.name,
        class_name=cohort.name,
        link=f"{settings.public_base_url}/classes/{cohort.id}",
        starts_on=cohort.start_date.isoformat(),
    )
    notify(
        session, user=user, to_email=user.email, kind=message.kind, subject=message.subject, body=message.body
    )


def send_welcome(session: Session, *, settings: Settings, user: User, cohort: Cohort) -> None:
    """A new account from an import: the password-reset service queues the "account created" email
    with a single-use link through which the person chooses their own password."""
    issue_reset_link(session, settings=settings, user=user, purpose="welcome", class_name=cohort.name)


def schedule(request: Request) -> None:
    """After a route has added notifications: deliver them once the request's transaction has committed."""
    schedule_delivery(request)
