"""Administrative acts on users (role, active flag) and reading the audit log; every act is audit-logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlmodel import Session, col, func, or_, select

from backend.audit import record_event
from backend.errors import DomainError, NotFound
from backend.i18n import _
from backend.models import AuditEvent, Role, User

PAGE_SIZE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def list_users(session: Session, *, query: str = "", role: str = "", page: int = 1) -> Page[User]:
    statement = select(User)
    if query.strip():
        pattern = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(
                col(User.email).like(pattern),
                func.lower(User.name).like(pattern),
                func.lower(User.organisation).like(pattern),
            )
        )
    if role in Role.__members__:
        statement = statement.where(User.role == role)
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = max(1, page)
    items = session.exec(
        statement.order_by(col(User.id)).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return Page(list(items), total, page)


def _get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def change_role(session: Session, *, actor: User, user_id: int, role: str, ip: str = "") -> User:
    if role not in Role.__members__:
        raise DomainError(_("Unknown role."))
    user = _get_user(session, user_id)
    if user.id == actor.id and role != Role.admin.value:
        raise DomainError(_("You cannot remove your own administrator role."))
    before = user.role
    if before == role:
        return user
    user.role = role
    session.add(user)
    record_event(
        session,
        actor=actor,
        action="user.role_changed",
        target_type="user",
        target_id=user_id,
        before={"role": before},
        after={"role": role},
        ip=ip,
    )
    return user


def set_active(session: Session, *, actor: User, user_id: int, active: bool, ip: str = "") -> User:
    user = _get_user(session, user_id)
    if user.id == actor.id and not active:
        raise DomainError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return user
    user.is_active = active
    session.add(user)
    record_event(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        target_type="user",
        target_id=user_id,
        before={"is_active": not active},
        after={"is_active": active},
        ip=ip,
    )
    return user


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    target_type: str = ""
    date_from: datetime | None = None
    date_to: datetime | None = None


def list_events(session: Session, *, filters: AuditFilter, page: int = 1) -> Page[AuditEvent]:
    statement = select(AuditEvent)
    if filters.action:
        statement = statement.where(col(AuditEvent.action).like(f"{filters.action}%"))
    if filters.actor:
        statement = statement.where(col(AuditEvent.actor_label).like(f"%{filters.actor.lower()}%"))
    if filters.target_type:
        statement = statement.where(AuditEvent.target_type == filters.target_type)
    if filters.date_from:
        statement = statement.where(AuditEvent.at >= filters.date_from)
    if filters.date_to:
        statement = statement.where(AuditEvent.at < filters.date_to + timedelta(days=1))
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    page = max(1, page)
    items = session.exec(
        statement.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return Page(list(items), total, page)


def event_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all())
