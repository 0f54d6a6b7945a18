"""Account logic without HTTP: registration, sign-in with throttling, sessions, profile and passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select, update

from backend import security
from backend.accounts.idcard import id_number_problem, mask_id_number, mask_phone, normalise_id_number
from backend.accounts.passwords import password_problem
from backend.accounts.schemas import ProfileUpdate, Registration, UserPublic
from backend.config import Settings
from backend.errors import DomainError, ValidationFailed
from backend.i18n import _
from backend.models import LoginAttempt, Role, User, UserSession, utcnow

PHONE_DIGITS = 11


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _fast(settings: Settings) -> bool:
    return settings.env == "test"


def email_problem(email: str) -> str | None:
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return _("Enter a valid email address.")
    return None


def phone_problem(phone: str) -> str | None:
    digits = phone.replace(" ", "").replace("-", "")
    if digits and not (digits.isdigit() and len(digits) == PHONE_DIGITS and digits.startswith("1")):
        return _("Enter an 11-digit mobile number starting with 1.")
    return None


def register_user(
    session: Session, *, settings: Settings, form: Registration, role: Role = Role.trainee
) -> User:
    """Create the account, or raise ValidationFailed with a message per field and store nothing."""
    errors: dict[str, str] = {}
    email = normalise_email(form.email)
    if problem := email_problem(email):
        errors["email"] = problem
    elif find_user_by_email(session, email):
        errors["email"] = _("An account with this email already exists.")
    if not form.name.strip():
        errors["name"] = _("Enter your name.")
    if problem := password_problem(form.password, min_length=settings.password_min_length, email=email):
        errors["password"] = problem
    elif form.password != form.password_confirm:
        errors["password_confirm"] = _("The two passwords are not the same.")
    if problem := phone_problem(form.phone):
        errors["phone"] = problem
    id_number = normalise_id_number(form.id_number) if form.id_number.strip() else ""
    if id_number:
        if problem := id_number_problem(id_number):
            errors["id_number"] = _(problem)
        elif find_user_by_id_number(session, settings=settings, id_number=id_number):
            errors["id_number"] = _("An account with this ID number already exists.")
    if errors:
        raise ValidationFailed(errors)
    user = User(
        email=email,
        name=form.name.strip(),
        organisation=form.organisation.strip(),
        region=form.region.strip(),
        role=role.value,
        password_hash=security.hash_password(form.password, fast=_fast(settings)),
    )
    set_personal_data(user, settings=settings, phone=form.phone, id_number=id_number)
    session.add(user)
    session.flush()
    return user


def set_personal_data(user: User, *, settings: Settings, phone: str, id_number: str | None = None) -> None:
    phone = phone.replace(" ", "").replace("-", "")
    user.phone_encrypted = security.encrypt_field(settings.secret_key, phone) if phone else None
    if id_number is not None:
        user.id_number_encrypted = (
            security.encrypt_field(settings.secret_key, id_number) if id_number else None
        )
        user.id_number_hash = security.blind_index(settings.secret_key, id_number) if id_number else None


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def find_user_by_id_number(session: Session, *, settings: Settings, id_number: str) -> User | None:
    digest = security.blind_index(settings.secret_key, normalise_id_number(id_number))
    return session.exec(select(User).where(User.id_number_hash == digest)).first()


def user_public(user: User, *, settings: Settings) -> UserPublic:
    assert user.id is not None
    return UserPublic(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        organisation=user.organisation,
        region=user.region,
        id_number_masked=mask_id_number(
            security.decrypt_field(settings.secret_key, user.id_number_encrypted)
        ),
        phone_masked=mask_phone(security.decrypt_field(settings.secret_key, user.phone_encrypted)),
        is_active=user.is_active,
    )


def login_locked_until(session: Session, *, settings: Settings, email: str) -> datetime | None:
    """When the account has too many recent failures, the time at which it may try again."""
    now = utcnow()
    last_success = session.exec(
        select(func.max(LoginAttempt.at)).where(LoginAttempt.email == email, col(LoginAttempt.succeeded))
    ).one()
    since = now - timedelta(minutes=settings.login_window_minutes)
    if last_success and last_success > since:
        since = last_success
    count, latest = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email, col(LoginAttempt.succeeded).is_(False), LoginAttempt.at > since
        )
    ).one()
    if count >= settings.login_max_failures and latest is not None:
        until = latest + timedelta(minutes=settings.login_lockout_minutes)
        return until if until > now else None
    return None


@dataclass(frozen=True)
class SignInOutcome:
    """A sign-in either yields the user or a message; the attempt is recorded either way, so the
    caller lets the transaction commit (it is not an error that would roll back the record)."""

    user: User | None
    message: str = ""
    status_code: int = 200


def authenticate(
    session: Session, *, settings: Settings, email: str, password: str, ip: str = ""
) -> SignInOutcome:
    """Check the email and password of an active user; every real try is recorded for throttling."""
    email = normalise_email(email)
    locked_until = login_locked_until(session, settings=settings, email=email)
    if locked_until is not None:
        minutes = max(1, int((locked_until - utcnow()).total_seconds() // 60) + 1)
        message = _(
            "Too many failed sign-ins for this account. Try again in %(minutes)d minutes (at %(time)s UTC)."
        ) % {"minutes": minutes, "time": locked_until.strftime("%H:%M")}
        return SignInOutcome(None, message, 429)
    user = find_user_by_email(session, email)
    if user is None:
        security.dummy_verify(fast=_fast(settings))
        ok = False
    else:
        ok = security.verify_password(password, user.password_hash, fast=_fast(settings))
    session.add(LoginAttempt(email=email, succeeded=ok, ip=ip))
    session.flush()
    if not ok or user is None:
        return SignInOutcome(None, _("The email or password is not correct."), 401)
    if not user.is_active:
        return SignInOutcome(None, _("This account has been deactivated. Contact the training base."), 403)
    return SignInOutcome(user)


def start_session(
    session: Session, *, settings: Settings, user: User, user_agent: str = ""
) -> tuple[str, int]:
    """A new signed-in session; returns the JWT and its lifetime in seconds."""
    assert user.id is not None
    lifetime = settings.session_hours * 3600
    record = UserSession(
        id=security.new_session_id(),
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=lifetime),
        user_agent=user_agent[:300],
    )
    session.add(record)
    session.flush()
    token = security.create_session_token(
        settings.secret_key, user_id=user.id, session_id=record.id, expires_at=record.expires_at
    )
    return token, lifetime


# The user behind a session: one row, checked in SQL (session open, not expired, user active). Built once;
# only the values change per request.
_SESSION_USER = (
    select(User)
    .join(UserSession, col(UserSession.user_id) == col(User.id))
    .where(
        col(UserSession.id) == bindparam("session_id"),
        col(UserSession.user_id) == bindparam("user_id"),
        col(UserSession.revoked_at).is_(None),
        col(UserSession.expires_at) > bindparam("now"),
        col(User.is_active).is_(True),
    )
)


_SESSION_USER_ID = _SESSION_USER.with_only_columns(col(User.id))
_SESSION_USER_ROW = _SESSION_USER.with_only_columns(*User.__table__.columns)  # type: ignore[attr-defined]


def session_user_id(session: Session, *, settings: Settings, token: str | None) -> int | None:
    """As `resolve_session`, for a caller that needs only the user's id (no User object is loaded)."""
    claims = security.decode_session_token(settings.secret_key, token) if token else None
    if claims is None:
        return None
    params = {"session_id": claims.session_id, "user_id": claims.user_id, "now": utcnow()}
    found = session.connection().execute(_SESSION_USER_ID, params).scalar()
    return int(found) if found is not None else None


def resolve_session(session: Session, *, settings: Settings, token: str | None) -> tuple[User, str] | None:
    """The user and session id behind a token, if the token is genuine and its session still open."""
    if not token:
        return None
    claims = security.decode_session_token(settings.secret_key, token)
    if claims is None:
        return None
    user = session.exec(
        _SESSION_USER,
        params={"session_id": claims.session_id, "user_id": claims.user_id, "now": utcnow()},
    ).first()
    if user is None:
        return None
    return user, claims.session_id


def resolve_reader(session: Session, *, settings: Settings, token: str | None) -> tuple[User, str] | None:
    """As `resolve_session`, for a page that only reads (the module page, /me): the user is a detached copy
    built from one row, without the ORM's loading, which costs about three times the query. It is not in
    the session: never change it or add it to one (that would insert a second user)."""
    claims = security.decode_session_token(settings.secret_key, token) if token else None
    if claims is None:
        return None
    params = {"session_id": claims.session_id, "user_id": claims.user_id, "now": utcnow()}
    row = session.connection().execute(_SESSION_USER_ROW, params).first()
    if row is None:
        return None
    return User.model_construct(**row._mapping), claims.session_id


def end_session(session: Session, *, session_id: str) -> None:
    session.exec(
        update(UserSession)
        .where(col(UserSession.id) == session_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def end_all_sessions(session: Session, *, user_id: int) -> None:
    session.exec(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def change_password(
    session: Session, *, settings: Settings, user: User, current: str, new: str, confirm: str
) -> None:
    """Set a new password and sign out every session of this user (the caller starts a fresh one)."""
    errors: dict[str, str] = {}
    if not security.verify_password(current, user.password_hash, fast=_fast(settings)):
        errors["current_password"] = _("The current password is not correct.")
    if problem := password_problem(new, min_length=settings.password_min_length, email=user.email):
        errors["new_password"] = problem
    elif new != confirm:
        errors["new_password_confirm"] = _("The two passwords are not the same.")
    elif new == current:
        errors["new_password"] = _("The new password must differ from the current one.")
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = security.hash_password(new, fast=_fast(settings))
    user.password_changed_at = utcnow()
    session.add(user)
    assert user.id is not None
    end_all_sessions(session, user_id=user.id)


def update_profile(session: Session, *, settings: Settings, user: User, form: ProfileUpdate) -> None:
    errors: dict[str, str] = {}
    if not form.name.strip():
        errors["name"] = _("Enter your name.")
    if problem := phone_problem(form.phone):
        errors["phone"] = problem
    if errors:
        raise ValidationFailed(errors)
    user.name = form.name.strip()
    user.organisation = form.organisation.strip()
    user.region = form.region.strip()
    set_personal_data(user, settings=settings, phone=form.phone)
    session.add(user)


def ensure_first_admin(session: Session, *, settings: Settings) -> tuple[User, str | None] | None:
    """Create the first administrator when there is none; returns it and a generated password, if any."""
    if session.exec(select(User).where(User.role == Role.admin.value)).first() is not None:
        return None
    email = normalise_email(settings.admin_email or "admin@example.com")
    password = settings.admin_password or secrets.token_urlsafe(12)
    generated = None if settings.admin_password else password
    if problem := password_problem(password, min_length=settings.password_min_length, email=email):
        raise DomainError(f"ACADEMY_ADMIN_PASSWORD: {problem}")
    existing = find_user_by_email(session, email)
    if existing is not None:
        existing.role = Role.admin.value
        session.add(existing)
        return existing, None
    user = User(
        email=email,
        name="Administrator",
        role=Role.admin.value,
        password_hash=security.hash_password(password, fast=_fast(settings)),
    )
    session.add(user)
    session.flush()
    return user, generated
