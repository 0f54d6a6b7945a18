"""The roster's totals, aggregated in the database (two GROUP BY queries however many certificates there are),
and a per-process cache of them that lives a few seconds: every worker computes its own, so nothing another
worker needs is kept here, and a change shows on every worker within STATS_TTL seconds."""

from __future__ import annotations

import threading
import time
from datetime import date

from sqlalchemy import case, extract, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from backend.i18n import _
from backend.models import Certificate, CertificateRenewal, CertificateSource, CertificateStatus
from backend.roster.schemas import Count, RosterStats, RosterStatsPublic, Target
from backend.roster.service import level_label, state_condition, today

STATS_TTL = 5.0  # seconds
_CACHE: dict[tuple[str, date], tuple[float, RosterStats]] = {}
_CACHE_LOCK = threading.Lock()


def roster_stats(session: Session, *, on: date | None = None, cache: bool = True) -> RosterStats:
    """The totals on `on` (today in Beijing by default); `cache=False` always asks the database."""
    on = on or today()
    key = (str(session.get_bind().engine.url), on)
    now = time.monotonic()
    if cache:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
        if hit is not None and now - hit[0] < STATS_TTL:
            return hit[1]
    stats = compute_stats(session, on=on)
    if cache:
        with _CACHE_LOCK:
            _CACHE[key] = (now, stats)
    return stats


def invalidate() -> None:
    """Forget this process's cached totals (after an import, say): the next page shows the new ones."""
    with _CACHE_LOCK:
        _CACHE.clear()


def compute_stats(session: Session, *, on: date) -> RosterStats:
    year = extract("year", col(Certificate.issued_on))
    valid_rows = session.execute(
        sa_select(
            col(Certificate.level), year, col(Certificate.region), col(Certificate.source), func.count()
        )
        .where(state_condition("valid", on=on))
        .group_by(col(Certificate.level), year, col(Certificate.region), col(Certificate.source))
    ).all()
    expires = col(Certificate.expires_on)
    state = case(
        (
            (col(Certificate.status) == CertificateStatus.valid.value)
            & expires.is_not(None)
            & (expires < on),
            "expired",
        ),
        else_=col(Certificate.status),
    )
    others = dict(
        session.execute(
            sa_select(state, func.count())
            .where(
                or_(
                    col(Certificate.status) != CertificateStatus.valid.value,
                    state_condition("expired", on=on),
                )
            )
            .group_by(state)
        ).all()
    )
    by_level: dict[int, int] = {1: 0, 2: 0, 3: 0}
    by_year: dict[int, int] = {}
    by_region: dict[str, int] = {}
    by_source: dict[str, int] = {}
    for level, issued_year, region, source, count in valid_rows:
        by_level[int(level)] = by_level.get(int(level), 0) + count
        by_year[int(issued_year)] = by_year.get(int(issued_year), 0) + count
        by_region[region or ""] = by_region.get(region or "", 0) + count
        by_source[source] = by_source.get(source, 0) + count
    lapsed_by_year, renewed_by_year = _renewal_flows(session, on=on)
    return RosterStats(
        as_of=on,
        valid=sum(by_source.values()),
        valid_issued=by_source.get(CertificateSource.issued.value, 0),
        valid_legacy=by_source.get(CertificateSource.legacy.value, 0),
        expired=int(others.get("expired", 0)),
        revoked=int(others.get(CertificateStatus.revoked.value, 0)),
        superseded=int(others.get(CertificateStatus.superseded.value, 0)),
        by_level=[Count(str(level), level_label(level), count) for level, count in sorted(by_level.items())],
        by_year=_year_counts(by_year),
        by_region=[
            Count(region, region or _("Not given"), count)
            for region, count in sorted(by_region.items(), key=lambda item: (-item[1], item[0]))
        ],
        renewed=sum(renewed_by_year.values()),
        lapsed_by_year=_year_counts(lapsed_by_year, span=(*lapsed_by_year, *renewed_by_year)),
        renewed_by_year=_year_counts(renewed_by_year, span=(*lapsed_by_year, *renewed_by_year)),
    )


def _renewal_flows(session: Session, *, on: date) -> tuple[dict[int, int], dict[int, int]]:
    """(lapses by year, renewals by year). A lapse is an expiry date that passed without a renewal in
    time: a certificate expired now (by the year of its expiry date), or one renewed only after its
    expiry (by the year of the expiry it let pass). Renewals by the year they were made."""
    expiry_year = extract("year", col(Certificate.expires_on))
    lapsed: dict[int, int] = {
        int(year): int(count)
        for year, count in session.execute(
            sa_select(expiry_year, func.count())
            .where(state_condition("expired", on=on))
            .group_by(expiry_year)
        ).all()
    }
    previous_year = extract("year", col(CertificateRenewal.previous_expires_on))
    late = session.execute(
        sa_select(previous_year, func.count())
        .where(
            col(CertificateRenewal.previous_expires_on).is_not(None),
            col(CertificateRenewal.renewed_on) > col(CertificateRenewal.previous_expires_on),
        )
        .group_by(previous_year)
    ).all()
    for year, count in late:
        lapsed[int(year)] = lapsed.get(int(year), 0) + int(count)
    renewal_year = extract("year", col(CertificateRenewal.renewed_on))
    renewed = {
        int(year): int(count)
        for year, count in session.execute(sa_select(renewal_year, func.count()).group_by(renewal_year)).all()
    }
    return lapsed, renewed


def _year_counts(by_year: dict[int, int], *, span: tuple[int, ...] = ()) -> list[Count]:
    """Every year from the first to the last (of `span` too, so two series line up), so a year without
    certificates shows as 0, not as a gap."""
    known = (*by_year, *span)
    if not known:
        return []
    years = range(min(known), max(known) + 1)
    return [Count(str(year), str(year), by_year.get(year, 0)) for year in years]


def stats_public(stats: RosterStats, target: Target) -> RosterStatsPublic:
    def counts(items: list[Count]) -> list[dict[str, object]]:
        return [{"key": item.key, "label": item.label, "count": item.count} for item in items]

    return RosterStatsPublic.model_validate(
        {
            "as_of": stats.as_of,
            "valid": stats.valid,
            "valid_issued": stats.valid_issued,
            "valid_legacy": stats.valid_legacy,
            "expired": stats.expired,
            "revoked": stats.revoked,
            "superseded": stats.superseded,
            "by_level": counts(stats.by_level),
            "by_year": counts(stats.by_year),
            "by_region": counts(stats.by_region),
            "renewed": stats.renewed,
            "lapsed_by_year": counts(stats.lapsed_by_year),
            "renewed_by_year": counts(stats.renewed_by_year),
            "target": {"count": target.count, "label": target.label, "percent": target.percent},
        }
    )
