"""The renewal rule is the training base's setting, edited by administrators (audit-logged), with the
defaults stated on the page; /me shows the CE hours of the current period and a reminder banner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.certificates.service import IssueFacts, add_years, issue_certificate
from backend.config import Settings
from backend.models import AuditEvent, Certificate, Course, User
from backend.renewal import rules
from tests.renewal.support import at_noon, complete_module, today
from tests.support import post_form, visible_text


def test_the_admin_page_states_the_defaults_and_saves_the_rule(
    db: Session, settings: Settings, admin_client: TestClient, course: Course, person: Callable[..., User]
) -> None:
    page = admin_client.get("/admin/renewal")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "the training base's own choice" in text and "6 continuing-education hours per period" in text
    assert 'href="/admin/renewal"' in page.text  # in the admin navigation

    bad = post_form(admin_client, "/admin/renewal", {"validity_junior": "0", "hours_junior": "many"})
    assert bad.status_code == 422
    assert "Between 1 and 20 years." in visible_text(bad.text)
    assert rules.current_rule(db).saved is False

    saved = post_form(
        admin_client, "/admin/renewal", {"validity_junior": "5", "hours_junior": "24", "hours_senior": "40"}
    )
    assert saved.status_code == 303
    db.commit()
    db.expire_all()
    rule = rules.current_rule(db)
    assert rule.validity[1] == 5 and rule.hours_needed(1) == 24 and rule.hours_needed(2) == 6
    assert rule.hours_needed(3) == 40
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "renewal.settings_changed")).one()
    assert event.after and event.after["hours_junior"] == 24

    # New certificates take the level's validity from the setting.
    holder = person()
    certificate = issue_certificate(
        db, settings=settings, user=holder, course=course, actor=None, facts=IssueFacts(hours=32)
    )
    assert certificate.expires_on == add_years(certificate.issued_on, 5) - timedelta(days=1)


def test_only_admins_see_the_settings(client: TestClient, trainee: User) -> None:
    from tests.support import login

    login(client, trainee.email)
    assert client.get("/admin/renewal").status_code == 403


def test_me_shows_the_reminder_and_the_hours_of_the_period(
    db: Session,
    ce_course: Course,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    holder = person()
    soon = expiring(holder, today() + timedelta(days=20))
    complete_module(db, holder, ce_course, "01-science-progress-law-2021", on=at_noon(today()))
    browser = holder_client(holder)

    page = visible_text(browser.get("/me").text)
    assert f"Certificate {soon.number}" in page
    assert "in 20 days" in page
    assert "Renewal needs 6 continuing-education hours in this period; you have 2." in page
    assert (
        f"Certificate {soon.number}: 2 of 6 continuing-education hours earned in the current period" in page
    )


def test_no_banner_far_from_expiry_but_the_hours_show(
    db: Session,
    person: Callable[..., User],
    expiring: Callable[..., Certificate],
    holder_client: Callable[[User], TestClient],
) -> None:
    holder = person()
    later = expiring(holder, today() + timedelta(days=400))
    page = visible_text(holder_client(holder).get("/me").text)
    assert "Renewal needs" not in page
    assert (
        f"Certificate {later.number}: 0 of 6 continuing-education hours earned in the current period" in page
    )
