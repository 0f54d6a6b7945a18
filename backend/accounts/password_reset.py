"""Forgotten passwords and set-your-password links: one-time, expiring links sent by email.

Only the SHA-256 of a link's token is stored. Issuing a link voids the same person's earlier unused links
of the same purpose; using one voids every other open link of that person and signs out all sessions.

The classes import creates accounts for new trainees and calls

    issue_reset_link(session, settings=settings, user=user, purpose="welcome", class_name=cohort.name)

(or `issue_welcome_links` for many), which queues an "account_created" email with a 7-day link; the
route then calls `schedule_delivery(request)`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, func, select, update

from backend import security
from backend.accounts.passwords import password_problem
from backend.accounts.service import end_all_sessions, find_user_by_email
from backend.audit import record_event
from backend.config import Settings
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.models import LoginAttempt, PasswordResetToken, ResetPurpose, User, utcnow
from backend.notifications import messages
from backend.notifications.service import notify

RESET_LIFETIME_MINUTES = 60
WELCOME_LIFETIME_MINUTES = 7 * 24 * 60
MAX_LINKS_PER_HOUR = 3  # per address, for links asked for on /password/forgot


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_reset_link(
    session: Session,
    *,
    settings: Settings,
    user: User,
    purpose: str = ResetPurpose.reset.value,
    lifetime_minutes: int | None = None,
    class_name: str = "",
) -> str:
    """Create a one-time link, void the user's earlier unused links of this purpose, queue the email
    ("password_reset", or "account_created" for purpose="welcome"); returns the absolute link."""
    purpose = ResetPurpose(purpose).value
    if lifetime_minutes is None:
        lifetime_minutes = (
            WELCOME_LIFETIME_MINUTES if purpose == ResetPurpose.welcome else RESET_LIFETIME_MINUTES
        )
    assert user.id is not None
    now = utcnow()
    _void_open_links(session, user_id=user.id, purpose=purpose)
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            purpose=purpose,
            created_at=now,
            expires_at=now + timedelta(minutes=lifetime_minutes),
        )
    )
    link = f"{settings.public_base_url}/password/reset/{token}"
    if purpose == ResetPurpose.welcome:
        message = messages.account_created_message(
            name=user.name,
            email=user.email,
            link=link,
            days=max(1, lifetime_minutes // (24 * 60)),
            class_name=class_name,
        )
    else:
        message = messages.password_reset_message(name=user.name, link=link, minutes=lifetime_minutes)
    notify(
        session, user=user, to_email=user.email, kind=message.kind, subject=message.subject, body=message.body
    )
    return link


def issue_welcome_links(
    session: Session, *, settings: Settings, users: Iterable[User], class_name: str = ""
) -> dict[int, str]:
    """A set-your-password link for each newly created account; returns user id → link."""
    links: dict[int, str] = {}
    for user in users:
        assert user.id is not None
        links[user.id] = issue_reset_link(
            session, settings=settings, user=user, purpose=ResetPurpose.welcome.value, class_name=class_name
        )
    return links


def _void_open_links(session: Session, *, user_id: int, purpose: str | None = None) -> None:
    """Expire every unused, unexpired link of the user (of one purpose, or all)."""
    now = utcnow()
    statement = update(PasswordResetToken).where(
        col(PasswordResetToken.user_id) == user_id,
        col(PasswordResetToken.used_at).is_(None),
        col(PasswordResetToken.expires_at) > now,
    )
    if purpose is not None:
        statement = statement.where(col(PasswordResetToken.purpose) == purpose)
    session.exec(statement.values(expires_at=now))


def request_password_reset(session: Session, *, settings: Settings, email: str) -> bool:
    """The /password/forgot form: send a link when the address belongs to an active account and fewer
    than 3 were sent to it in the last hour. The caller answers the same whatever this returns."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return False
    recent = session.exec(
        select(func.count()).where(
            col(PasswordResetToken.user_id) == user.id,
            col(PasswordResetToken.purpose) == ResetPurpose.reset.value,
            col(PasswordResetToken.created_at) > utcnow() - timedelta(hours=1),
        )
    ).one()
    if recent >= MAX_LINKS_PER_HOUR:
        return False
    issue_reset_link(session, settings=settings, user=user)
    return True


@dataclass(frozen=True)
class LinkCheck:
    """A link as found: usable (`token` and `user` set) or not, with the reason to show."""

    token: PasswordResetToken | None
    user: User | None
    problem: str = ""


def check_link(session: Session, *, token: str) -> LinkCheck:
    row = session.exec(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return LinkCheck(
            None, None, _("This link is not valid. Check that you copied the whole address from the email.")
        )
    if row.used_at is not None:
        return LinkCheck(None, None, _("This link has already been used. Each link works only once."))
    if row.expires_at <= utcnow():
        return LinkCheck(None, None, _("This link has expired (or a newer one has been sent)."))
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        return LinkCheck(None, None, _("This account has been deactivated. Contact the training base."))
    return LinkCheck(row, user)


def reset_password(
    session: Session, *, settings: Settings, token: str, password: str, confirm: str, ip: str = ""
) -> User:
    """Set the password through a valid link: the link is used up, every other open link of the user is
    voided and every session is signed out. Raises ValidationFailed (field → message) and changes nothing
    when the link or the password is not acceptable."""
    found = check_link(session, token=token)
    if found.token is None or found.user is None:
        raise ValidationFailed({"token": found.problem})
    user = found.user
    if problem := password_problem(password, min_length=settings.password_min_length, email=user.email):
        raise ValidationFailed({"password": problem})
    if password != confirm:
        raise ValidationFailed({"password_confirm": _("The two passwords are not the same.")})
    now = utcnow()
    used = session.exec(
        update(PasswordResetToken)
        .where(col(PasswordResetToken.id) == found.token.id, col(PasswordResetToken.used_at).is_(None))
        .values(used_at=now)
    )
    if used.rowcount != 1:  # the same link submitted twice at once: only the first one counts
        raise ValidationFailed({"token": _("This link has already been used. Each link works only once.")})
    assert user.id is not None
    user.password_hash = security.hash_password(password, fast=settings.env == "test")
    user.password_changed_at = now
    session.add(user)
    _void_open_links(session, user_id=user.id)
    end_all_sessions(session, user_id=user.id)
    # Using the emailed link proves the person controls the account: like a successful sign-in, it ends
    # a lockout left by the failed attempts that usually come before "forgot your password?".
    session.add(LoginAttempt(email=user.email, succeeded=True, ip=ip))
    record_event(
        session,
        actor=user,
        action="user.password_reset",
        target_type="user",
        target_id=user.id,
        after={"purpose": found.token.purpose},
        ip=ip,
    )
    return user
