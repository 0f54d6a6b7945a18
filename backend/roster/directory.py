"""The public directory: valid certificates of holders who chose on /me to be listed, searchable by name,
number or organisation; and the public API's rows, where everyone else appears only with a masked name,
level, year and region. An ID number, even masked, is never shown here."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, func, or_
from sqlmodel import Session, col, select

from backend.admin.service import Page
from backend.certificates.credential import level_name
from backend.certificates.verify import mask_name
from backend.config import Settings
from backend.models import Certificate, DirectoryListing, User
from backend.roster.schemas import RosterEntryPublic, RosterFilter
from backend.roster.service import filter_conditions, state_condition, today

DIRECTORY_PAGE_SIZE = 20
API_PAGE_SIZE = 50
API_MAX_PAGE_SIZE = 200


def listed_condition() -> ColumnElement[bool]:
    """A certificate whose holder opted in: by account, or a legacy record with the account's ID number."""
    listed_users = select(DirectoryListing.user_id)
    listed_hashes = (
        select(User.id_number_hash)
        .join(DirectoryListing, col(DirectoryListing.user_id) == col(User.id))
        .where(col(User.id_number_hash).is_not(None))
    )
    return or_(col(Certificate.user_id).in_(listed_users), col(Certificate.id_number_hash).in_(listed_hashes))


def _search(q: str) -> ColumnElement[bool] | None:
    q = q.strip()
    if not q:
        return None
    needle = "%" + q.replace("%", "").replace("_", "").replace("\\", "") + "%"
    return or_(
        col(Certificate.holder_name).like(needle),
        col(Certificate.number).like(needle),
        col(Certificate.organisation).like(needle),
    )


def directory_page(
    session: Session, *, q: str = "", page: int = 1, on: date | None = None
) -> Page[Certificate]:
    """One page of listed holders' valid certificates, by name."""
    conditions = [state_condition("valid", on=on or today()), listed_condition()]
    search = _search(q)
    if search is not None:
        conditions.append(search)
    total = int(session.exec(select(func.count(col(Certificate.id))).where(*conditions)).one())
    page = max(1, page)
    rows = session.exec(
        select(Certificate)
        .where(*conditions)
        .order_by(col(Certificate.holder_name), col(Certificate.id))
        .offset((page - 1) * DIRECTORY_PAGE_SIZE)
        .limit(DIRECTORY_PAGE_SIZE)
    )
    return Page(list(rows), total, page, DIRECTORY_PAGE_SIZE)


def api_page(
    session: Session,
    *,
    roster_filter: RosterFilter,
    settings: Settings,
    page: int = 1,
    page_size: int = API_PAGE_SIZE,
) -> tuple[int, list[RosterEntryPublic]]:
    """Valid certificates for GET /api/v1/roster. A search (`q`) only finds listed holders: a name that is
    not listed cannot be looked up."""
    on = today()
    public_filter = RosterFilter(
        level=roster_filter.level,
        year=roster_filter.year,
        region=roster_filter.region,
        source=roster_filter.source,
    )
    conditions = [state_condition("valid", on=on), *filter_conditions(public_filter, on=on)]
    search = _search(roster_filter.q)
    if search is not None:
        conditions.append(and_(listed_condition(), search))
    total = int(session.exec(select(func.count(col(Certificate.id))).where(*conditions)).one())
    page_size = max(1, min(page_size, API_MAX_PAGE_SIZE))
    page = max(1, page)
    listed = listed_condition().label("listed")
    rows = session.exec(
        select(Certificate, listed)
        .where(*conditions)
        .order_by(col(Certificate.issued_on).desc(), col(Certificate.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return total, [
        public_entry(certificate, listed=bool(flag), settings=settings) for certificate, flag in rows
    ]


def public_entry(certificate: Certificate, *, listed: bool, settings: Settings) -> RosterEntryPublic:
    entry = RosterEntryPublic(
        listed=listed,
        holder_name=certificate.holder_name if listed else mask_name(certificate.holder_name),
        level=certificate.level,
        level_name=level_name(certificate.level),
        issued_year=certificate.issued_on.year,
        region=certificate.region,
        source=certificate.source,
    )
    if listed:
        entry.number = certificate.number
        entry.organisation = certificate.organisation
        entry.issued_on = certificate.issued_on
        entry.expires_on = certificate.expires_on
        entry.verify_url = f"{settings.public_base_url}/verify/{certificate.number}"
    return entry
