"""Registration as a visitor does it: the form, its messages, and nothing stored when it is refused."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from backend.models import User
from tests.support import TEST_PASSWORD, VALID_ID_NUMBERS, csrf_token, post_form, visible_text

FORM = {
    "email": "Zhang.San@Example.com",
    "name": "张三",
    "password": TEST_PASSWORD,
    "password_confirm": TEST_PASSWORD,
    "id_number": VALID_ID_NUMBERS[1],
    "phone": "13800138000",
    "organisation": "浙江大学",
    "region": "杭州市西湖区",
}


def _count(db: Session) -> int:
    return db.exec(select(func.count()).select_from(User)).one()


def test_register_creates_account_signs_in_and_shows_masked_id(client: TestClient, db: Session) -> None:
    response = post_form(client, "/register", FORM)
    assert response.status_code == 303
    assert response.headers["location"] == "/me"
    page = client.get("/me")
    text = visible_text(page.text)
    assert "张三" in text
    number = VALID_ID_NUMBERS[1]
    assert number[:6] + "********" + number[-4:] in text
    assert number not in page.text
    assert "138****8000" in text
    user = db.exec(select(User)).one()
    assert user.email == "zhang.san@example.com"  # case-insensitive: stored lower-cased
    assert number not in (user.id_number_encrypted or "")  # encrypted at rest
    assert "13800138000" not in (user.phone_encrypted or "")


def test_duplicate_email_in_other_case_is_refused(client: TestClient, db: Session) -> None:
    assert post_form(client, "/register", FORM).status_code == 303
    other = TestClient(client.app, follow_redirects=False)
    again = {**FORM, "email": "ZHANG.SAN@example.COM", "id_number": VALID_ID_NUMBERS[2]}
    response = post_form(other, "/register", again)
    assert response.status_code == 422
    assert "该邮箱已注册账号" in response.text
    assert _count(db) == 1


def test_weak_password_is_refused_and_typed_values_are_kept(client: TestClient, db: Session) -> None:
    response = post_form(
        client, "/register", {**FORM, "password": "password123", "password_confirm": "password123"}
    )
    assert response.status_code == 422
    assert "该密码过于常见或容易被猜到" in response.text
    assert 'value="张三"' in response.text  # nothing the visitor typed is lost
    assert 'value="浙江大学"' in response.text
    assert "password123" not in response.text  # but passwords are never echoed
    assert _count(db) == 0


def test_short_password_message_names_the_minimum(client: TestClient, db: Session) -> None:
    response = post_form(client, "/register", {**FORM, "password": "Ab1!x", "password_confirm": "Ab1!x"})
    assert response.status_code == 422
    assert "密码至少需要 10 个字符" in response.text
    assert _count(db) == 0


def test_bad_id_number_checksum_is_refused(client: TestClient, db: Session) -> None:
    good = VALID_ID_NUMBERS[1]
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    response = post_form(client, "/register", {**FORM, "id_number": wrong_check})
    assert response.status_code == 422
    assert "校验码不符" in response.text
    assert _count(db) == 0


def test_bad_id_number_date_and_length(client: TestClient, db: Session) -> None:
    response = post_form(client, "/register", {**FORM, "id_number": "12345"})
    assert "身份证号应为 18 位" in response.text
    response = post_form(client, "/register", {**FORM, "id_number": "110105194913310021"})
    assert "不是有效的出生日期" in response.text
    assert _count(db) == 0


def test_mismatched_passwords_and_bad_email(client: TestClient, db: Session) -> None:
    data = {**FORM, "email": "not-an-email", "password_confirm": TEST_PASSWORD + "x"}
    response = post_form(client, "/register", data)
    assert response.status_code == 422
    assert "请输入有效的电子邮箱地址" in response.text
    assert "两次输入的密码不一致" in response.text
    assert _count(db) == 0


def test_registration_in_english(client: TestClient, db: Session) -> None:
    client.get("/?lang=en")
    token = csrf_token(client)
    response = client.post("/register", data={**FORM, "name": "", "csrf_token": token})
    assert "Enter your name." in response.text
    assert _count(db) == 0
