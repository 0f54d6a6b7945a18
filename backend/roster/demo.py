"""`academy demo`: a complete demo training base in one transaction: demo administrator, instructor and
trainees (one shared password hash, demo accounts only), two classes with trainees at every stage
(demo_training.py), and the earlier register of exactly 1,349 brokers checked like any import and inserted
in bulk. Everything is marked 演示数据; a second run finds the demo's register and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from backend import security
from backend.accounts.service import set_personal_data
from backend.audit import record_event
from backend.config import Settings
from backend.db import writer_engine
from backend.models import Certificate, CertificateSource, Course, Role, User
from backend.roster import stats
from backend.roster.demo_data import DEMO_MARK, DEMO_NUMBER_PREFIX, PeopleFactory, legacy_roster
from backend.roster.demo_training import COURSE_SLUG, Training, build_training
from backend.roster.legacy_file import LegacyRow
from backend.roster.legacy_import import check_rows, insert_records

DEMO_PASSWORD = "Demo-Broker-2026"
DEMO_DOMAIN = "demo.example.com"
ADMIN_EMAIL = f"demo-admin@{DEMO_DOMAIN}"
INSTRUCTOR_EMAIL = f"demo-instructor@{DEMO_DOMAIN}"
HOLDER_EMAIL = f"demo-holder@{DEMO_DOMAIN}"
RENEWAL_DUE_DAYS = 20  # the demo holder's certificate expires this many days after the demo is made


@dataclass
class DemoResult:
    already_present: int = 0  # demo register records found: nothing was done
    legacy: int = 0
    seconds: float = 0.0
    training: Training = field(default_factory=Training)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (role, email, password)


def demo_records(session: Session) -> int:
    """How many of the demo's register records are in the database (the marker of an earlier run)."""
    statement = select(func.count(col(Certificate.id))).where(
        Certificate.source == CertificateSource.legacy.value,
        col(Certificate.number).like(f"{DEMO_NUMBER_PREFIX}%"),
    )
    return int(session.exec(statement).one())


class DemoAccounts:
    """Demo accounts share one password hash, computed once at full cost: a real account is never hashed
    with anything weaker, and the demo does not spend a second per trainee."""

    def __init__(self, session: Session, settings: Settings, factory: PeopleFactory) -> None:
        self.session, self.settings, self.factory = session, settings, factory
        self.password_hash = security.hash_password(DEMO_PASSWORD, fast=settings.env == "test")

    def account(self, email: str, name: str, role: Role, *, with_id: bool = False) -> User:
        existing = self.session.exec(select(User).where(User.email == email)).first()
        if existing is not None:
            return existing
        person = self.factory.person()
        user = User(
            email=email,
            name=name or person.name,
            organisation=person.organisation,
            region=person.region,
            role=role.value,
            password_hash=self.password_hash,
        )
        set_personal_data(
            user, settings=self.settings, phone="", id_number=person.id_number if with_id else None
        )
        self.session.add(user)
        self.session.flush()
        return user

    def trainee(self, number: int) -> User:
        return self.account(f"demo-trainee{number:02d}@{DEMO_DOMAIN}", "", Role.trainee, with_id=True)


def add_renewal_holder(
    session: Session, settings: Settings, *, holder: User, admin: User
) -> Certificate | None:
    """A holder certified here one validity period ago, whose certificate now expires in RENEWAL_DUE_DAYS
    days: the renewal flow (reminder on /me, CE hours, renew) can be tried at once. None without the
    certificate course."""
    from backend.certificates import credential as vc
    from backend.certificates.service import IssueFacts, add_years, issue_certificate
    from backend.renewal import rules

    course = session.exec(select(Course).where(Course.slug == COURSE_SLUG)).first()
    if course is None:
        return None
    years = rules.validity_years_for(session, level=int(vc.COURSE_LEVELS[course.level]), course=course)
    if years <= 0:
        return None
    expires_on = vc.today_in_beijing() + timedelta(days=RENEWAL_DUE_DAYS)
    issued_on = add_years(expires_on + timedelta(days=1), -years)
    facts = IssueFacts(hours=course.min_hours, issued_on=issued_on)
    return issue_certificate(session, settings=settings, user=holder, course=course, actor=admin, facts=facts)


def _legacy_rows(factory: PeopleFactory) -> list[LegacyRow]:
    return [LegacyRow(row=index, cells=cells) for index, cells in enumerate(legacy_roster(factory), start=2)]


def run_demo(engine: Engine, settings: Settings, *, echo: Callable[[str], Any] = print) -> DemoResult:
    started = time.perf_counter()
    result = DemoResult()
    with Session(writer_engine(engine), expire_on_commit=False) as session:
        result.already_present = demo_records(session)
        if result.already_present:
            return result
        factory = PeopleFactory()
        accounts = DemoAccounts(session, settings, factory)
        admin = accounts.account(ADMIN_EMAIL, "演示管理员", Role.admin)
        instructor = accounts.account(INSTRUCTOR_EMAIL, "演示讲师", Role.instructor)
        echo("classes and trainees …")
        result.training = build_training(
            session, settings, admin=admin, instructor=instructor, make_trainee=accounts.trainee
        )
        renewal_due = None
        if result.training.stages.get("certified"):  # certificates are part of this build
            holder = accounts.account(HOLDER_EMAIL, "", Role.trainee, with_id=True)
            renewal_due = add_renewal_holder(session, settings, holder=holder, admin=admin)
        echo("the earlier register (1,349 brokers) …")
        records, problems = check_rows(session, settings=settings, rows=_legacy_rows(factory))
        if problems:  # the generator is broken: keep nothing
            raise RuntimeError(
                f"the demo register has problems, e.g. row {problems[0].row}: {problems[0].message}"
            )
        result.legacy = insert_records(
            session, settings=settings, records=records, actor=admin, filename="academy demo", demo=True
        )
        record_event(
            session,
            actor=admin,
            action="demo.created",
            target_type="demo",
            target_id="training-base",
            after={
                "demo": True,
                "legacy_records": result.legacy,
                "classes": result.training.classes,
                "stages": result.training.stages,
                "notes": result.training.notes,
                "marker": DEMO_MARK,
            },
        )
        session.commit()
        trainee = result.training.trainee_login
        result.logins = [
            ("admin", ADMIN_EMAIL, DEMO_PASSWORD),
            ("instructor", INSTRUCTOR_EMAIL, DEMO_PASSWORD),
        ]
        if trainee is not None:
            result.logins.append(("trainee", trainee.email, DEMO_PASSWORD))
        if renewal_due is not None:
            result.logins.append(("holder", HOLDER_EMAIL, DEMO_PASSWORD))
            result.training.notes.append(
                f"certificate {renewal_due.number} of {HOLDER_EMAIL} expires on {renewal_due.expires_on}: "
                "try the renewal with that login"
            )
    stats.invalidate()
    result.seconds = time.perf_counter() - started
    return result
