"""Bulk enrolment of a class from a CSV (UTF-8 with or without BOM, or GBK) or XLSX roster.

All or nothing: every row is checked first and every problem reported with its spreadsheet row number
(the header is row 1); only when no row has a problem are the new people given accounts (an unusable
password and a set-your-password link) and everyone enrolled, in one transaction. The cohort row is
locked before checking, so the capacity and "already enrolled" checks hold when the rows are written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select, update

from backend import security
from backend.accounts.idcard import id_number_problem, normalise_id_number
from backend.accounts.service import email_problem, normalise_email, phone_problem, set_personal_data
from backend.audit import record_event
from backend.cohorts import notices
from backend.cohorts.enrolment import enrolment_of, lock_cohort, record_enrolment, seats_taken
from backend.cohorts.roster_file import COLUMNS, MAX_LENGTHS, REQUIRED, ImportRow, column_label
from backend.config import Settings
from backend.i18n import _
from backend.models import (
    Cohort,
    CohortStatus,
    Enrollment,
    EnrollmentSource,
    EnrollmentStatus,
    Role,
    User,
    utcnow,
)
from backend.spreadsheets import ImportProblem

Progress = Callable[[int, str], None]


@dataclass
class ImportOutcome:
    rows: int
    problems: list[ImportProblem] = field(default_factory=list)
    enrolled: int = 0
    accounts_created: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# ---- checking -------------------------------------------------------------------------------------


@dataclass
class _Person:
    row: ImportRow
    id_number: str
    email: str
    phone: str
    user: User | None = None  # an existing account, when there is one


def _row_problems(row: ImportRow) -> list[ImportProblem]:
    problems = [ImportProblem(row.row, column, message) for column, message in row.unreadable.items()]
    for column in REQUIRED:
        if not getattr(row, column).strip():
            message = _("%(column)s is missing.") % {"column": column_label(column)}
            problems.append(ImportProblem(row.row, column, message))
    for column, limit in MAX_LENGTHS.items():
        if len(getattr(row, column)) > limit:
            message = _("%(column)s is longer than %(n)d characters.") % {
                "column": column_label(column),
                "n": limit,
            }
            problems.append(ImportProblem(row.row, column, message))
    if (
        row.id_number.strip()
        and "id_number" not in row.unreadable
        and (reason := id_number_problem(row.id_number))
    ):
        message = _("The ID number %(value)s is not valid: %(reason)s") % {
            "value": row.id_number,
            "reason": _(reason),
        }
        problems.append(ImportProblem(row.row, "id_number", message))
    if row.email.strip() and (reason := email_problem(normalise_email(row.email))):
        message = _("The email %(value)s is not valid: %(reason)s") % {"value": row.email, "reason": reason}
        problems.append(ImportProblem(row.row, "email", message))
    if row.phone.strip() and (reason := phone_problem(row.phone)):
        message = _("The phone number %(value)s is not valid: %(reason)s") % {
            "value": row.phone,
            "reason": reason,
        }
        problems.append(ImportProblem(row.row, "phone", message))
    return problems


def _duplicate_problems(people: list[_Person]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    first_id: dict[str, int] = {}
    first_email: dict[str, int] = {}
    for person in people:
        number = person.row.row
        if person.id_number:
            if person.id_number in first_id:
                message = _("The same ID number as row %(row)d.") % {"row": first_id[person.id_number]}
                problems.append(ImportProblem(number, "id_number", message))
            else:
                first_id[person.id_number] = number
        if person.email:
            if person.email in first_email:
                message = _("The same email as row %(row)d.") % {"row": first_email[person.email]}
                problems.append(ImportProblem(number, "email", message))
            else:
                first_email[person.email] = number
    return problems


def _match_accounts(session: Session, *, settings: Settings, people: list[_Person]) -> list[ImportProblem]:
    """Find each person's existing account by ID number and by email; they must be the same account."""
    hashes = {security.blind_index(settings.secret_key, p.id_number): p for p in people if p.id_number}
    by_hash = {
        user.id_number_hash: user
        for user in session.exec(select(User).where(col(User.id_number_hash).in_(list(hashes)))).all()
    }
    emails = [p.email for p in people if p.email]
    by_email = {
        user.email: user for user in session.exec(select(User).where(col(User.email).in_(emails))).all()
    }
    problems: list[ImportProblem] = []
    for digest, person in hashes.items():
        number = person.row.row
        owner, account = by_hash.get(digest), by_email.get(person.email)
        if owner is not None and owner.email != person.email:
            message = _("The ID number belongs to another account (%(email)s) than the email of this row.")
            problems.append(ImportProblem(number, "id_number", message % {"email": owner.email}))
        elif account is not None and account.id_number_hash and account.id_number_hash != digest:
            message = _("The email belongs to an account with a different ID number.")
            problems.append(ImportProblem(number, "email", message))
        else:
            person.user = owner or account
    return problems


def _enrolment_problems(session: Session, *, cohort_id: int, people: list[_Person]) -> list[ImportProblem]:
    enrolled = set(
        session.exec(
            select(Enrollment.user_id).where(
                Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.enrolled.value
            )
        ).all()
    )
    problems: list[ImportProblem] = []
    for person in people:
        user = person.user
        if user is None or user.id is None:
            continue
        if not user.is_active:
            message = _("The account %(email)s is deactivated.") % {"email": user.email}
            problems.append(ImportProblem(person.row.row, "email", message))
        if user.id in enrolled:
            message = _("%(name)s is already enrolled in this class.") % {"name": user.name}
            problems.append(ImportProblem(person.row.row, None, message))
    return problems


def _capacity_problem(*, capacity: int, taken: int, people: list[_Person]) -> ImportProblem | None:
    free = max(0, capacity - taken)
    if len(people) <= free:
        return None
    first, last = people[free].row.row, people[-1].row.row
    message = _(
        "The class would exceed its capacity: %(free)d of %(capacity)d seats are free and the file has %(n)d people; rows %(first)d to %(last)d do not fit."
    ) % {"free": free, "capacity": capacity, "n": len(people), "first": first, "last": last}
    return ImportProblem(first, None, message)


def check_rows(
    session: Session, *, settings: Settings, cohort_id: int, rows: list[ImportRow]
) -> tuple[list[_Person], list[ImportProblem]]:
    """Every problem of every row, sorted by row; call with the cohort row locked (see import_roster)."""
    cohort = lock_cohort(session, cohort_id=cohort_id)
    problems: list[ImportProblem] = []
    if cohort.status == CohortStatus.finished.value:
        problems.append(ImportProblem(None, None, _("This class has finished; no one can be enrolled.")))
    people: list[_Person] = []
    for row in rows:
        row_problems = _row_problems(row)
        problems.extend(row_problems)
        bad = {problem.column for problem in row_problems}
        people.append(
            _Person(
                row=row,
                id_number="" if "id_number" in bad else normalise_id_number(row.id_number),
                email="" if "email" in bad else normalise_email(row.email),
                phone=row.phone.replace(" ", "").replace("-", ""),
            )
        )
    problems.extend(_duplicate_problems(people))
    problems.extend(_match_accounts(session, settings=settings, people=people))
    problems.extend(_enrolment_problems(session, cohort_id=cohort_id, people=people))
    capacity = _capacity_problem(
        capacity=cohort.capacity, taken=seats_taken(session, cohort_id=cohort_id), people=people
    )
    if capacity:
        problems.append(capacity)
    problems.sort(key=lambda p: (p.row or 0, COLUMNS.index(p.column) if p.column in COLUMNS else 99))
    return people, problems


# ---- importing ------------------------------------------------------------------------------------


def import_roster(
    session: Session,
    *,
    settings: Settings,
    cohort_id: int,
    rows: list[ImportRow],
    actor: User,
    ip: str = "",
    progress: Progress | None = None,
) -> ImportOutcome:
    """Check every row; when none has a problem, create the missing accounts and enrol everyone.
    Adds and flushes only: the caller's transaction commits all of it or none."""
    people, problems = check_rows(session, settings=settings, cohort_id=cohort_id, rows=rows)
    if problems:
        return ImportOutcome(rows=len(rows), problems=problems)
    # A background job on SQLite reads without the write lock and takes it at its first write: write
    # first (a no-op on the cohort row), then check again, so nothing can change between check and import.
    session.exec(update(Cohort).where(col(Cohort.id) == cohort_id).values(capacity=Cohort.capacity))
    people, problems = check_rows(session, settings=settings, cohort_id=cohort_id, rows=rows)
    if problems:
        return ImportOutcome(rows=len(rows), problems=problems)
    cohort = lock_cohort(session, cohort_id=cohort_id)
    created = 0
    for done, person in enumerate(people, start=1):
        user = person.user
        if user is None:
            user = _create_account(session, settings=settings, person=person)
            created += 1
            notices.send_welcome(session, settings=settings, user=user, cohort=cohort)
        elif not user.id_number_hash:
            set_personal_data(user, settings=settings, phone=person.phone or "", id_number=person.id_number)
        _enrol_imported(session, cohort_id=cohort_id, user=user, actor=actor, ip=ip)
        notices.enrolment_confirmed(session, settings=settings, user=user, cohort=cohort)
        if progress is not None and (done % 25 == 0 or done == len(people)):
            progress(done, _("%(done)d of %(total)d enrolled") % {"done": done, "total": len(people)})
    record_event(
        session,
        actor=actor,
        action="enrollment.imported",
        target_type="cohort",
        target_id=cohort_id,
        after={"rows": len(rows), "enrolled": len(people), "accounts_created": created},
        ip=ip,
    )
    return ImportOutcome(rows=len(rows), enrolled=len(people), accounts_created=created)


def _create_account(session: Session, *, settings: Settings, person: _Person) -> User:
    row = person.row
    user = User(
        email=person.email,
        name=row.name.strip(),
        organisation=row.organisation.strip(),
        region=row.region.strip(),
        role=Role.trainee.value,
        # No one knows this password and no hash matches it: the person sets their own from the link.
        password_hash="!unusable-" + secrets.token_urlsafe(24),
    )
    set_personal_data(user, settings=settings, phone=person.phone, id_number=person.id_number)
    session.add(user)
    session.flush()
    return user


def _enrol_imported(session: Session, *, cohort_id: int, user: User, actor: User, ip: str) -> None:
    assert user.id is not None
    enrolment = enrolment_of(session, cohort_id=cohort_id, user_id=user.id) or Enrollment(
        cohort_id=cohort_id, user_id=user.id
    )
    enrolment.status = EnrollmentStatus.enrolled.value
    enrolment.source = EnrollmentSource.imported.value
    enrolment.enrolled_at = utcnow()
    enrolment.withdrawn_at = None
    session.add(enrolment)
    session.flush()
    record_enrolment(session, enrolment=enrolment, user=user, actor=actor, ip=ip)
