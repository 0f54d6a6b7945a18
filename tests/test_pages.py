"""Home page, language choice and the health check."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_is_chinese_by_default_and_english_on_request(client: TestClient) -> None:
    page = client.get("/")
    assert '<html lang="zh-CN">' in page.text
    assert "技术经纪人学院" in page.text
    english = client.get("/?lang=en")
    assert '<html lang="en">' in english.text and "Broker Academy" in english.text
    # the choice is kept in a cookie for the next page
    assert "Broker Academy" in client.get("/").text
    assert "技术经纪人学院" in client.get("/?lang=zh_CN").text


def test_accept_language_is_honoured(app: object, client: TestClient) -> None:
    fresh = TestClient(client.app)
    page = fresh.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in page.text
    page = fresh.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert '<html lang="zh-CN">' in page.text


def test_language_switch_link_returns_to_the_page(client: TestClient) -> None:
    response = client.get("/language?lang=en&next=/login", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "Log in" in client.get("/login").text
