"""What goes in and out of the roster: the filters every list and export shares, the public API shapes, the
settings form and the legacy import's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel

from backend.spreadsheets import ImportProblem

STATES = ("valid", "expired", "revoked", "superseded")
SOURCES = ("issued", "legacy")
LEVELS = (1, 2, 3)


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class RosterFilter:
    """Which certificates a list, an export or the API shows; an empty field does not filter."""

    level: int | None = None
    year: int | None = None  # the year of issue
    region: str = ""
    state: str = ""  # valid · expired (valid but past its date) · revoked · superseded
    source: str = ""  # issued · legacy
    q: str = ""  # a number, name or organisation (part of it)

    @classmethod
    def from_params(
        cls,
        *,
        level: object = None,
        year: object = None,
        region: object = "",
        state: object = "",
        source: object = "",
        q: object = "",
    ) -> RosterFilter:
        """From typed query parameters: a value that is not one of the choices is ignored, not an error."""
        level_value = _int_or_none(level)
        year_value = _int_or_none(year)
        return cls(
            level=level_value if level_value in LEVELS else None,
            year=year_value if year_value is not None and 1900 <= year_value <= 2999 else None,
            region=str(region or "").strip()[:100],
            state=str(state) if state in STATES else "",
            source=str(source) if source in SOURCES else "",
            q=str(q or "").strip()[:100],
        )

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (for links, the export form and the audit log)."""
        values = {
            "level": "" if self.level is None else str(self.level),
            "year": "" if self.year is None else str(self.year),
            "region": self.region,
            "state": self.state,
            "source": self.source,
            "q": self.q,
        }
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class Count:
    key: str  # a level digit, a year or a region
    label: str
    count: int


@dataclass(frozen=True)
class RosterStats:
    """The totals /roster shows and GET /api/v1/roster/stats returns; "valid" means status valid and not
    past its expiry date on `as_of` (Beijing time)."""

    as_of: date
    valid: int
    valid_issued: int
    valid_legacy: int
    expired: int
    revoked: int
    superseded: int
    by_level: list[Count] = field(default_factory=list)
    by_year: list[Count] = field(default_factory=list)
    by_region: list[Count] = field(default_factory=list)
    renewed: int = 0  # renewals ever made
    lapsed_by_year: list[Count] = field(default_factory=list)  # by the year the expiry date fell in
    renewed_by_year: list[Count] = field(default_factory=list)  # by the year of the renewal


@dataclass(frozen=True)
class Target:
    count: int | None
    label: str
    reached: int

    @property
    def percent(self) -> int:
        if not self.count:
            return 0
        return min(100, self.reached * 100 // self.count)


class CountPublic(BaseModel):
    key: str
    label: str
    count: int


class TargetPublic(BaseModel):
    count: int | None
    label: str
    percent: int


class RosterStatsPublic(BaseModel):
    as_of: date
    valid: int
    valid_issued: int
    valid_legacy: int
    expired: int
    revoked: int
    superseded: int
    by_level: list[CountPublic]
    by_year: list[CountPublic]
    by_region: list[CountPublic]
    renewed: int = 0
    lapsed_by_year: list[CountPublic] = []  # certificates whose expiry date passed unrenewed, by that year
    renewed_by_year: list[CountPublic] = []  # renewals, by the year they were made
    target: TargetPublic


class RosterEntryPublic(BaseModel):
    """One valid certificate as anyone may see it: a holder who opted in is shown by name with the
    certificate's number and dates; anyone else only with a masked name, level, year and region."""

    listed: bool
    holder_name: str
    level: int
    level_name: str
    issued_year: int
    region: str
    source: str
    number: str | None = None
    organisation: str | None = None
    issued_on: date | None = None
    expires_on: date | None = None
    verify_url: str | None = None


class RosterPagePublic(BaseModel):
    total: int
    page: int
    page_size: int
    items: list[RosterEntryPublic]


class RosterSettingsForm(BaseModel):
    target_count: str = ""
    target_label: str = ""


@dataclass
class ImportOutcome:
    rows: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    imported: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.imported > 0
