"""The training base's renewal rule: validity in years and continuing-education (CE) hours per level.

No national rule for renewing a technology broker's training certificate was found, so the rule is this
training base's own setting, kept in the renewal_settings row and edited on /admin/renewal. Until an
administrator saves that page (or for a field left empty):

- validity: the course's `certificate.validity_years` (3 years in every shipped course);
- CE hours needed within one validity period: DEFAULT_HOURS, 6 学时 for every level, i.e. 2 学时 a year.
  The laws a broker works with changed about once a year lately (专利法 2020, 科学技术进步法 2021,
  专利法实施细则 2023); a 2-学时 update module per change is what the ce-refresher course offers.

A course is a continuing-education course when its slug starts with "ce-" (course.yaml has no field for
it; the shipped CE course is ce-refresher). Its modules and the attended sessions of its classes earn CE
hours; it never leads to a level certificate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from backend.audit import record_event
from backend.errors import ValidationFailed
from backend.i18n import _
from backend.models import Course, RenewalSettings, User, utcnow

CE_SLUG_PREFIX = "ce-"
DEFAULT_HOURS = {1: 6.0, 2: 6.0, 3: 6.0}
FALLBACK_VALIDITY_YEARS = 3  # a legacy record with no course, and no setting: the shipped courses' value
REMINDER_DAYS = (90, 30)
RENEWAL_WINDOW_DAYS = 90  # a holder may renew from this many days before expiry (the first reminder)
LEVEL_FIELDS = {1: "junior", 2: "intermediate", 3: "senior"}
MAX_YEARS = 20
MAX_HOURS = 500.0


def is_ce_course(course: Course | None) -> bool:
    return course is not None and course.slug.startswith(CE_SLUG_PREFIX)


@dataclass(frozen=True)
class Rule:
    """The rule in force: None validity means "the course's validity_years"."""

    validity: dict[int, int | None]
    hours: dict[int, float]
    saved: bool  # False: nobody has saved the settings yet (defaults)

    def hours_needed(self, level: int) -> float:
        return self.hours.get(level, DEFAULT_HOURS.get(level, DEFAULT_HOURS[1]))

    def validity_years(self, level: int, course: Course | None) -> int:
        """Years of validity of a certificate of `level` (and `course`, when known); 0: no expiry."""
        years = self.validity.get(level)
        if years is not None:
            return years
        if course is not None:
            return int(course.validity_years or 0)
        return FALLBACK_VALIDITY_YEARS


def current_rule(session: Session) -> Rule:
    row = session.get(RenewalSettings, 1)
    validity: dict[int, int | None] = {level: None for level in LEVEL_FIELDS}
    hours = dict(DEFAULT_HOURS)
    if row is not None:
        for level, name in LEVEL_FIELDS.items():
            validity[level] = getattr(row, f"validity_{name}")
            value = getattr(row, f"hours_{name}")
            if value is not None:
                hours[level] = float(value)
    return Rule(validity=validity, hours=hours, saved=row is not None)


def validity_years_for(session: Session, *, level: int, course: Course | None) -> int:
    return current_rule(session).validity_years(level, course)


# ---- the settings form ------------------------------------------------------------------------------


def _parse_years(raw: str, field: str, errors: dict[str, str]) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[field] = _("Give a whole number of years, or leave it empty.")
        return None
    if not 1 <= value <= MAX_YEARS:
        errors[field] = _("Between 1 and %(max)d years.") % {"max": MAX_YEARS}
        return None
    return value


def _parse_hours(raw: str, field: str, errors: dict[str, str]) -> float | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[field] = _("Give a number of hours, or leave it empty.")
        return None
    if not 0 <= value <= MAX_HOURS:  # also refuses nan and inf
        errors[field] = _("Between 0 and %(max)d hours.") % {"max": int(MAX_HOURS)}
        return None
    return round(value, 1)


def _snapshot(row: RenewalSettings | None) -> dict[str, Any]:
    if row is None:
        return {}
    names = [f"{kind}_{name}" for kind in ("validity", "hours") for name in LEVEL_FIELDS.values()]
    return {name: getattr(row, name) for name in names}


def save_settings(session: Session, *, form: dict[str, str], actor: User, ip: str = "") -> RenewalSettings:
    """Validate and save the page's fields (empty: the default); raises ValidationFailed with the
    field errors and changes nothing when one is wrong. Audit-logged."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in LEVEL_FIELDS.values():
        values[f"validity_{name}"] = _parse_years(
            form.get(f"validity_{name}", ""), f"validity_{name}", errors
        )
        values[f"hours_{name}"] = _parse_hours(form.get(f"hours_{name}", ""), f"hours_{name}", errors)
    if errors:
        raise ValidationFailed(errors)
    row = session.get(RenewalSettings, 1)
    before = _snapshot(row)
    if row is None:
        row = RenewalSettings(id=1)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    session.add(row)
    session.flush()
    record_event(
        session,
        actor=actor,
        action="renewal.settings_changed",
        target_type="renewal_settings",
        target_id=1,
        before=before or None,
        after=_snapshot(row),
        ip=ip,
    )
    return row
