"""Bulk seed data for the cases that need many trainees (exam autosave, certificates): accounts, API
session tokens and completed module hours, made with the app's own models and account service.

Every account gets the same password hash (hashed once with the app's argon2 settings): hashing
hundreds of passwords would measure argon2, not the feature. Tokens come from `start_session`, the
function the sign-in API uses, so the server accepts them as it accepts any bearer token."""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType

from bench.harness import ContractMismatch, NotAvailable
from bench.sites import PASSWORD, Site


@dataclass(frozen=True)
class Trainee:
    user_id: int
    email: str
    token: str


def require(module: str, *names: str) -> ModuleType:
    """The module, or NotAvailable when this build lacks it; ContractMismatch when it lacks a name the
    bench calls (the feature landed in another shape: the case needs updating, and says so)."""
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        found = None
    if found is None:
        raise NotAvailable(f"{module} is not in this build")
    loaded = importlib.import_module(module)
    missing = [n for n in names if not hasattr(loaded, n)]
    if missing:
        offered = sorted(n for n in dir(loaded) if not n.startswith("_") and callable(getattr(loaded, n)))
        raise ContractMismatch(f"{module} has no {', '.join(missing)} (it offers: {', '.join(offered[:25])})")
    return loaded


def seed_trainees(
    site: Site, *, prefix: str, count: int, course_slug: str, with_id_numbers: bool = False
) -> list[Trainee]:
    """`count` trainees who completed every module of the course (hours credited), each with a token;
    with an (encrypted) ID-card number when asked, as a certificate needs one."""
    from sqlmodel import Session, col, select

    from backend import security
    from backend.accounts.service import start_session
    from backend.db import make_engine, writer_engine
    from backend.models import Course, CourseModule, ModuleProgress, ModuleVersion, User, utcnow

    settings = site.settings()
    password_hash = security.hash_password(PASSWORD)
    engine = make_engine(site.database_url)
    trainees: list[Trainee] = []
    try:
        with Session(writer_engine(engine), expire_on_commit=False) as session:
            course = session.exec(select(Course).where(Course.slug == course_slug)).first()
            if course is None:
                raise ContractMismatch(f"course {course_slug} was not imported by `academy init`")
            modules = session.exec(
                select(CourseModule, ModuleVersion)
                .join(ModuleVersion, col(ModuleVersion.module_id) == CourseModule.id)
                .where(
                    CourseModule.course_id == course.id,
                    col(CourseModule.archived_at).is_(None),
                    ModuleVersion.number == CourseModule.current_version,
                )
            ).all()
            users = []
            for n in range(count):
                user = User(
                    email=f"{prefix}-{n:05d}@example.com",
                    name=f"基准学员{n:05d}",
                    password_hash=password_hash,
                )
                session.add(user)
                users.append(user)
            if with_id_numbers:
                from backend.accounts.service import set_personal_data
                from bench.roster_export import id_number

                for n, user in enumerate(users):
                    set_personal_data(user, settings=settings, phone="", id_number=id_number(n))
            session.flush()
            now = utcnow()
            for user in users:
                assert user.id is not None
                for module, version in modules:
                    assert module.id is not None
                    session.add(
                        ModuleProgress(
                            user_id=user.id,
                            module_id=module.id,
                            completed_at=now,
                            hours_credited=version.hours,
                        )
                    )
                token, _ = start_session(session, settings=settings, user=user, user_agent="bench")
                trainees.append(Trainee(user.id, user.email, token))
            session.commit()
    finally:
        engine.dispose()
    return trainees
