"""The roster as the pages, exports and API read it: one filter turned into SQL for every list, the state of a
certificate computed the same way in SQL and in Python, the administrator's target, and the directory
opt-in. Services only add and flush; the caller's transaction commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend.admin.service import Page
from backend.audit import record_event
from backend.certificates.credential import today_in_beijing
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.models import (
    Certificate,
    CertificateSource,
    CertificateStatus,
    DirectoryListing,
    RosterSettings,
    User,
    utcnow,
)
from backend.roster.schemas import RosterFilter, RosterSettingsForm, Target

ADMIN_PAGE_SIZE = 50
LEVEL_NAMES_ZH = {1: "初级", 2: "中级", 3: "高级"}
LEVEL_NAMES_EN = {1: "junior", 2: "intermediate", 3: "senior"}
STATE_NAMES_ZH = {"valid": "有效", "expired": "已过期", "revoked": "已撤销", "superseded": "已替换"}
STATE_NAMES_EN = {"valid": "valid", "expired": "expired", "revoked": "revoked", "superseded": "superseded"}
SOURCE_NAMES_ZH = {"issued": "本平台颁发", "legacy": "原登记册转入"}
SOURCE_NAMES_EN = {"issued": "issued here", "legacy": "earlier register"}


def today() -> date:
    """Certificates are valid through their printed expiry date, in Beijing time."""
    return today_in_beijing()


def level_label(level: int) -> str:
    labels = {1: _("Junior"), 2: _("Intermediate"), 3: _("Senior")}
    return labels.get(level, str(level))


def state_label(state: str) -> str:
    labels = {
        "valid": _("Valid"),
        "expired": _("Expired"),
        "revoked": _("Revoked"),
        "superseded": _("Superseded"),
    }
    return labels.get(state, state)


def source_label(source: str) -> str:
    labels = {"issued": _("Issued here"), "legacy": _("Earlier register")}
    return labels.get(source, source)


def certificate_state(certificate: Certificate, *, on: date | None = None) -> str:
    """valid · expired · revoked · superseded; the same rule as `state_condition` in SQL."""
    if certificate.status != CertificateStatus.valid.value:
        return certificate.status
    if certificate.expires_on is not None and certificate.expires_on < (on or today()):
        return "expired"
    return "valid"


def state_condition(state: str, *, on: date) -> ColumnElement[bool]:
    status = col(Certificate.status)
    expires = col(Certificate.expires_on)
    if state == "valid":
        return and_(status == CertificateStatus.valid.value, or_(expires.is_(None), expires >= on))
    if state == "expired":
        return and_(status == CertificateStatus.valid.value, expires.is_not(None), expires < on)
    return status == state


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def filter_conditions(roster_filter: RosterFilter, *, on: date) -> list[ColumnElement[bool]]:
    """The WHERE clauses of a filter; the year is a date range, so the issued_on index serves it."""
    conditions: list[ColumnElement[bool]] = []
    if roster_filter.level is not None:
        conditions.append(col(Certificate.level) == roster_filter.level)
    if roster_filter.year is not None:
        start, end = year_bounds(roster_filter.year)
        conditions.append(and_(col(Certificate.issued_on) >= start, col(Certificate.issued_on) < end))
    if roster_filter.region:
        conditions.append(col(Certificate.region) == roster_filter.region)
    if roster_filter.state:
        conditions.append(state_condition(roster_filter.state, on=on))
    if roster_filter.source:
        conditions.append(col(Certificate.source) == roster_filter.source)
    if roster_filter.q:
        needle = "%" + roster_filter.q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        conditions.append(
            or_(
                col(Certificate.number).like(needle),
                col(Certificate.holder_name).like(needle),
                col(Certificate.organisation).like(needle),
            )
        )
    return conditions


def roster_statement(roster_filter: RosterFilter, *, on: date | None = None) -> SelectOfScalar[Certificate]:
    """Every certificate the filter keeps, in a stable order (by id)."""
    statement = select(Certificate).where(*filter_conditions(roster_filter, on=on or today()))
    return statement.order_by(col(Certificate.id))


def count_rows(session: Session, roster_filter: RosterFilter, *, on: date | None = None) -> int:
    statement = select(func.count(col(Certificate.id))).where(
        *filter_conditions(roster_filter, on=on or today())
    )
    return int(session.exec(statement).one())


def admin_page(session: Session, roster_filter: RosterFilter, *, page: int = 1) -> Page[Certificate]:
    """One page of the administrator's list, newest first."""
    on = today()
    total = count_rows(session, roster_filter, on=on)
    page = max(1, page)
    statement = (
        select(Certificate)
        .where(*filter_conditions(roster_filter, on=on))
        .order_by(col(Certificate.issued_on).desc(), col(Certificate.id).desc())
        .offset((page - 1) * ADMIN_PAGE_SIZE)
        .limit(ADMIN_PAGE_SIZE)
    )
    return Page(list(session.exec(statement)), total, page, ADMIN_PAGE_SIZE)


def filter_choices(session: Session) -> dict[str, list[Any]]:
    """The years and regions that occur, for the filter form's selects."""
    years = session.exec(
        select(col(Certificate.issued_on)).order_by(col(Certificate.issued_on)).limit(1)
    ).first()
    last = session.exec(
        select(col(Certificate.issued_on)).order_by(col(Certificate.issued_on).desc()).limit(1)
    ).first()
    regions = session.exec(
        select(col(Certificate.region))
        .where(col(Certificate.region) != "")
        .distinct()
        .order_by(col(Certificate.region))
    ).all()
    year_list = list(range(last.year, years.year - 1, -1)) if years and last else []
    return {"years": year_list, "regions": list(regions)}


# ---- the target -----------------------------------------------------------------------------------------


def roster_settings(session: Session) -> RosterSettings:
    return session.get(RosterSettings, 1) or RosterSettings(id=1)


def target(session: Session, *, reached: int) -> Target:
    row = roster_settings(session)
    return Target(count=row.target_count, label=row.target_label, reached=reached)


def update_settings(
    session: Session, *, form: RosterSettingsForm, actor: User, ip: str = ""
) -> RosterSettings:
    """Save the target (a positive whole number, or empty for none) and its label; audit-logged."""
    errors: dict[str, str] = {}
    raw = form.target_count.strip().replace(",", "").replace("，", "")
    count: int | None = None
    if raw:
        if not raw.isdigit() or not 0 < int(raw) <= 10_000_000:
            errors["target_count"] = _(
                "Enter a whole number greater than 0, or leave it empty for no target."
            )
        else:
            count = int(raw)
    label = form.target_label.strip()
    if len(label) > 200:
        errors["target_label"] = _("At most 200 characters.")
    elif count is not None and not label:
        errors["target_label"] = _("Say what the target is, e.g. 到2026年培养2000名省级技术经纪人.")
    if errors:
        raise ValidationFailed(errors)
    row = session.get(RosterSettings, 1)
    before = {"target_count": row.target_count, "target_label": row.target_label} if row else None
    row = row or RosterSettings(id=1)
    row.target_count, row.target_label = count, label
    row.updated_at, row.updated_by_id = utcnow(), actor.id
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="roster.target_changed",
        target_type="roster",
        target_id="settings",
        before=before,
        after={"target_count": count, "target_label": label},
        ip=ip,
    )
    return row


# ---- the directory opt-in -------------------------------------------------------------------------------


def holder_condition(user: User) -> ColumnElement[bool]:
    """The certificates of `user`: issued to the account, or legacy records with the same ID number."""
    mine = col(Certificate.user_id) == user.id
    if not user.id_number_hash:
        return mine
    return or_(mine, col(Certificate.id_number_hash) == user.id_number_hash)


def certificates_of_holder(session: Session, *, user: User) -> list[Certificate]:
    statement = (
        select(Certificate)
        .where(holder_condition(user), state_condition("valid", on=today()))
        .order_by(col(Certificate.issued_on).desc())
    )
    return list(session.exec(statement))


def is_listed(session: Session, *, user: User) -> bool:
    return user.id is not None and session.get(DirectoryListing, user.id) is not None


def set_listed(session: Session, *, user: User, listed: bool, ip: str = "") -> bool:
    """Opt in to (or out of) the public directory; returns whether anything changed."""
    assert user.id is not None
    row = session.get(DirectoryListing, user.id)
    if listed == (row is not None):
        return False
    if listed:
        session.add(DirectoryListing(user_id=user.id))
    else:
        session.delete(row)
    session.flush()
    record_event(
        session,
        actor=user,
        action="roster.directory_opted_in" if listed else "roster.directory_opted_out",
        target_type="user",
        target_id=user.id,
        ip=ip,
    )
    return True


def is_legacy(certificate: Certificate) -> bool:
    return certificate.source == CertificateSource.legacy.value
