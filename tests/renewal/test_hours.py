"""CE hours count within the certificate's current validity period: CE-course modules completed in it and
attended sessions of CE-course classes held in it; nothing before it, after it, or from other courses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session

from backend.models import Certificate, Course, User
from backend.renewal import service
from tests.renewal.support import at_noon, attend, complete_module, today


def test_hours_of_ce_modules_and_ce_sessions_within_the_period(
    db: Session,
    course: Course,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
) -> None:
    holder = person("张三")
    expires = today() + timedelta(days=200)
    certificate = expiring(holder, expires)
    start = certificate.issued_on
    complete_module(
        db, holder, ce_course, "01-science-progress-law-2021", on=at_noon(start - timedelta(days=1))
    )
    complete_module(db, holder, ce_course, "02-patent-rules-2023", on=at_noon(start + timedelta(days=10)))
    complete_module(
        db, holder, course, "01-basics", on=at_noon(start + timedelta(days=11))
    )  # not a CE course
    attend(db, holder, ce_course, on=start + timedelta(days=30), hours=3)
    attend(db, holder, ce_course, on=start + timedelta(days=31), hours=5, present=False)
    attend(db, holder, course, on=start + timedelta(days=32), hours=7)  # a class of a certificate course

    state = service.renewal_state(db, certificate)

    assert state.period_start == start
    assert state.hours_earned == 5  # 2 (module in the period) + 3 (session attended)
    assert [(item.kind, item.hours) for item in state.items] == [("module", 2.0), ("session", 3.0)]
    assert state.hours_needed == 6 and state.hours_missing == 1 and not state.hours_met


def test_hours_after_the_expiry_date_do_not_count(
    db: Session, ce_course: Course, person: Callable[..., User], expiring: Callable[..., Certificate]
) -> None:
    holder = person()
    expires = today() - timedelta(days=5)
    certificate = expiring(holder, expires)
    complete_module(db, holder, ce_course, "01-science-progress-law-2021", on=at_noon(expires))
    complete_module(db, holder, ce_course, "02-patent-rules-2023", on=at_noon(expires + timedelta(days=1)))

    state = service.renewal_state(db, certificate)

    assert state.lapsed and state.hours_earned == 2


def test_a_renewal_starts_counting_again(
    db: Session,
    settings: object,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
) -> None:
    from backend.config import Settings

    assert isinstance(settings, Settings)
    holder = person()
    certificate = expiring(holder, today() + timedelta(days=20))
    for name in ("01-science-progress-law-2021", "02-patent-rules-2023", "03-open-licensing"):
        complete_module(db, holder, ce_course, name, on=at_noon(today() - timedelta(days=3)))
    assert service.renewal_state(db, certificate).hours_earned == 6

    service.renew(db, settings=settings, certificate=certificate, actor=holder)
    db.commit()

    state = service.renewal_state(db, certificate)
    assert state.period_start == today()
    assert state.hours_earned == 0 and state.items == []
