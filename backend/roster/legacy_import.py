"""Importing the earlier register: every row checked (ID number with the reason it is wrong, dates, level,
expiry before issue, a number used twice in the file or already in the register, the same person and level
twice), reported by row number, and imported only when nothing is wrong: all or nothing, in one transaction,
with bulk inserts. Records become Certificate rows with source "legacy" and no credential; the ID number is
kept encrypted, with its blind index and its masked form. A big file runs as a background job (import_jobs.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, select

from backend import security
from backend.accounts.idcard import id_number_problem, mask_id_number, normalise_id_number
from backend.audit import record_event
from backend.certificates.credential import level_name
from backend.certificates.numbering import FULL_WIDTH, NumberPattern
from backend.config import Settings
from backend.i18n import _
from backend.models import Certificate, CertificateSource, CertificateStatus, User, utcnow
from backend.roster import stats
from backend.roster.legacy_file import LegacyRow, id_stored_as_number, parse_date, parse_level, parse_status
from backend.roster.schemas import ImportOutcome
from backend.roster.service import today
from backend.spreadsheets import ImportProblem

INSERT_BATCH = 5000
LOOKUP_BATCH = 500
LIMITS = {
    "name": 100,
    "organisation": 200,
    "region": 100,
    "number": 40,
    "revocation_reason": 500,
    "title": 200,
}
DEFAULT_REVOCATION_REASON = "原登记册记载为已撤销"

Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class LegacyRecord:
    """A checked row, ready to become a certificate."""

    row: int
    name: str
    id_number: str
    number: str
    level: int
    issued_on: date
    expires_on: date | None
    organisation: str
    region: str
    status: str
    revocation_reason: str = ""
    title: str = ""


def normalise_number(value: str) -> str:
    """A legacy number as printed, without surrounding or inner spaces; full-width digits made ASCII."""
    return "".join(value.translate(FULL_WIDTH).split()).upper()


@lru_cache(maxsize=8)
def _issued_shape(pattern: str, region: str) -> tuple[NumberPattern, str]:
    """The parsed pattern and a sample number of that shape (parsed once, not for every row of a file)."""
    parsed = NumberPattern.parse(pattern)
    return parsed, parsed.render(region=region, year=2000, level=1, seq=1)


def looks_issued_here(number: str, settings: Settings) -> bool:
    """The number has the shape of the numbers this platform hands out (and a matching check character):
    importing it could collide with a certificate issued later."""
    parsed, sample = _issued_shape(settings.certificate_number_pattern, settings.certificate_region_code)
    if len(number) != len(sample) or not number.startswith(settings.certificate_region_code):
        return False
    if not parsed.has_check:
        return number.isdigit() and sample.isdigit()
    from backend.accounts.idcard import mod11_2_check_char

    body = number[:-1]
    return body.isdigit() and mod11_2_check_char(body) == number[-1]


def _check_row(
    row: LegacyRow, settings: Settings, on: date
) -> tuple[LegacyRecord | None, list[ImportProblem]]:
    problems: list[ImportProblem] = []

    def problem(column: str, message: str) -> None:
        problems.append(ImportProblem(row.row, column, message))

    for column in ("name", "id_number", "number", "level", "issued_on"):
        if not row.text(column):
            problem(column, _("This cell is empty."))
    for column, limit in LIMITS.items():
        if len(row.text(column)) > limit:
            problem(column, _("At most %(n)d characters.") % {"n": limit})
    id_number = normalise_id_number(row.text("id_number"))
    if id_stored_as_number(row.cells.get("id_number")):
        problem(
            "id_number",
            _(
                "The ID number was stored as a number, so Excel has changed its last digits: format the column as text and type the number again."
            ),
        )
    elif id_number and (reason := id_number_problem(id_number)):
        problem("id_number", _("Not a valid ID number: %(reason)s") % {"reason": _(reason)})
    number = normalise_number(row.text("number"))
    if number and looks_issued_here(number, settings):
        problem(
            "number",
            _(
                "This number has the form of the numbers this platform issues, so it could be handed out again: check it."
            ),
        )
    level = parse_level(row.text("level"))
    if row.text("level") and level is None:
        problem(
            "level",
            _("Unknown level %(value)s: use 初级, 中级 or 高级 (or 1, 2, 3).") % {"value": row.text("level")},
        )
    issued_on = parse_date(row.cells.get("issued_on"))
    if row.text("issued_on") and issued_on is None:
        problem("issued_on", _("Not a date: write it as 2015-06-30."))
    elif issued_on and issued_on > on:
        problem("issued_on", _("The issue date is in the future."))
    expires_on = parse_date(row.cells.get("expires_on")) if row.text("expires_on") else None
    if row.text("expires_on") and expires_on is None:
        problem("expires_on", _("Not a date: write it as 2018-06-29, or leave it empty for no expiry."))
    elif expires_on and issued_on and expires_on < issued_on:
        problem("expires_on", _("The expiry date is before the issue date."))
    status = parse_status(row.text("status"))
    if status is None:
        problem("status", _("Unknown status %(value)s: use 有效 or 已撤销.") % {"value": row.text("status")})
    if problems or level is None or issued_on is None or status is None:
        return None, problems
    reason = row.text("revocation_reason") or (DEFAULT_REVOCATION_REASON if status == "revoked" else "")
    record = LegacyRecord(
        row=row.row,
        name=row.text("name"),
        id_number=id_number,
        number=number,
        level=level,
        issued_on=issued_on,
        expires_on=expires_on,
        organisation=row.text("organisation"),
        region=row.text("region"),
        status=status,
        revocation_reason=reason if status == "revoked" else "",
        title=row.text("title"),
    )
    return record, []


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _duplicate_problems(records: list[LegacyRecord]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    numbers: dict[str, int] = {}
    people: dict[tuple[str, int], int] = {}
    for record in records:
        first = numbers.setdefault(record.number, record.row)
        if first != record.row:
            message = _("Certificate number %(number)s is also on row %(row)d.")
            problems.append(
                ImportProblem(record.row, "number", message % {"number": record.number, "row": first})
            )
        if record.status != "valid":
            continue
        first = people.setdefault((record.id_number, record.level), record.row)
        if first != record.row:
            message = _("The same person (ID number) has a certificate of this level on row %(row)d too.")
            problems.append(ImportProblem(record.row, "id_number", message % {"row": first}))
    return problems


def _register_problems(
    session: Session, *, settings: Settings, records: list[LegacyRecord]
) -> list[ImportProblem]:
    """Numbers already in the register, and people who already hold a valid certificate of the level."""
    problems: list[ImportProblem] = []
    taken: set[str] = set()
    for batch in _chunks([record.number for record in records], LOOKUP_BATCH):
        taken.update(session.exec(select(Certificate.number).where(col(Certificate.number).in_(batch))).all())
    hashes = {record.row: security.blind_index(settings.secret_key, record.id_number) for record in records}
    held: dict[tuple[str, int], str] = {}
    for batch in _chunks(sorted(set(hashes.values())), LOOKUP_BATCH):
        statement = select(Certificate.id_number_hash, Certificate.level, Certificate.number).where(
            col(Certificate.id_number_hash).in_(batch), Certificate.status == CertificateStatus.valid.value
        )
        for digest, level, number in session.exec(statement).all():
            held[(digest or "", level)] = number
    for record in records:
        if record.number in taken:
            message = _("Certificate number %(number)s is already in the register.")
            problems.append(ImportProblem(record.row, "number", message % {"number": record.number}))
        existing = held.get((hashes[record.row], record.level))
        if existing and record.status == "valid":
            message = _("This person already holds a valid certificate of this level: %(number)s.")
            problems.append(ImportProblem(record.row, "id_number", message % {"number": existing}))
    return problems


def check_rows(
    session: Session, *, settings: Settings, rows: list[LegacyRow], progress: Progress | None = None
) -> tuple[list[LegacyRecord], list[ImportProblem]]:
    """Every problem of every row, sorted by row; the records are only to be imported when there are none."""
    on = today()
    records: list[LegacyRecord] = []
    problems: list[ImportProblem] = []
    for index, row in enumerate(rows, start=1):
        record, found = _check_row(row, settings, on)
        problems.extend(found)
        if record is not None:
            records.append(record)
        if progress and index % 1000 == 0:
            progress(index // 2, _("Checked %(n)d rows") % {"n": index})
    problems.extend(_duplicate_problems(records))
    problems.extend(_register_problems(session, settings=settings, records=records))
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return records, problems


def _values(record: LegacyRecord, settings: Settings, now: Any) -> dict[str, Any]:
    return {
        "number": record.number,
        "source": CertificateSource.legacy.value,
        "status": CertificateStatus.revoked.value
        if record.status == "revoked"
        else CertificateStatus.valid.value,
        "level": record.level,
        "title": record.title or f"{level_name(record.level)}证书",
        "course_title": "",
        "hours": None,
        "holder_name": record.name,
        "id_number_masked": mask_id_number(record.id_number),
        "id_number_encrypted": security.encrypt_field(settings.secret_key, record.id_number),
        "id_number_hash": security.blind_index(settings.secret_key, record.id_number),
        "organisation": record.organisation,
        "region": record.region,
        "issuer_name": settings.certificate_issuer_name,
        "issued_on": record.issued_on,
        "expires_on": record.expires_on,
        "renewal_count": 0,
        "revocation_reason": record.revocation_reason or None,
        "created_at": now,
    }


def insert_records(
    session: Session,
    *,
    settings: Settings,
    records: list[LegacyRecord],
    actor: User | None,
    filename: str,
    ip: str = "",
    demo: bool = False,
    progress: Progress | None = None,
) -> int:
    """Insert checked records in bulk (a few statements, not one flush per row) and audit the import."""
    now = utcnow()
    done = 0
    for batch in _chunks(records, INSERT_BATCH):
        session.execute(insert(Certificate), [_values(record, settings, now) for record in batch])
        done += len(batch)
        if progress:
            progress(len(records) // 2 + done // 2, _("Imported %(n)d records") % {"n": done})
    levels = {str(level): sum(1 for r in records if r.level == level) for level in (1, 2, 3)}
    record_event(
        session,
        actor=actor,
        action="roster.legacy_imported",
        target_type="roster",
        target_id="legacy",
        after={
            "rows": len(records),
            "filename": filename[:200],
            "levels": levels,
            "revoked": sum(1 for r in records if r.status == "revoked"),
            "first_number": records[0].number if records else None,
            "last_number": records[-1].number if records else None,
            "demo": demo,
        },
        ip=ip,
    )
    stats.invalidate()
    return done


def import_legacy(
    session: Session,
    *,
    settings: Settings,
    rows: list[LegacyRow],
    actor: User | None,
    filename: str,
    ip: str = "",
    progress: Progress | None = None,
) -> ImportOutcome:
    records, problems = check_rows(session, settings=settings, rows=rows, progress=progress)
    if problems:
        return ImportOutcome(rows=len(rows), problems=problems)
    imported = insert_records(
        session, settings=settings, records=records, actor=actor, filename=filename, ip=ip, progress=progress
    )
    return ImportOutcome(rows=len(rows), imported=imported)
