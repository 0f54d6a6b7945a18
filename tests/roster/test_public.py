"""/roster for anyone: totals that match the database (and the page, and the API), charts with their numbers
as text, the target, and a directory that shows only holders who opted in, never an ID number."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select

from backend.config import Settings
from backend.models import Certificate, DirectoryListing, RosterSettings, User
from backend.roster import charts, stats
from backend.roster.schemas import Count
from tests.roster.support import add_certificate, id_for
from tests.support import login, post_form, visible_text


@pytest.fixture
def roster(db: Session, settings: Settings, trainee: User) -> None:
    today = date.today()
    for n in range(12):
        add_certificate(
            db,
            settings,
            number=f"L-{n}",
            name=f"王{n}明",
            id_number=id_for(n),
            issued_on=date(2014 + n % 3, 6, 1),
            level=1 + n % 2,
            region="杭州市" if n % 3 else "宁波市",
            commit=False,
        )
    add_certificate(db, settings, number="R-1", id_number=id_for(50), status="revoked", commit=False)
    add_certificate(
        db,
        settings,
        number="E-1",
        id_number=id_for(51),
        source="issued",
        expires_on=today - timedelta(days=1),
        commit=False,
    )
    add_certificate(
        db,
        settings,
        number="I-1",
        name="王小明",
        id_number=id_for(52),
        source="issued",
        issued_on=date(2026, 1, 5),
        level=3,
        organisation="示例研究院",
        user_id=trainee.id,
        commit=False,
    )
    db.commit()


def page(client: TestClient, url: str = "/roster") -> str:
    response = client.get(url, params={"lang": "en"} if "?" not in url else None)
    assert response.status_code == 200
    return response.text


def test_totals_match_the_database_the_page_and_the_api(
    client: TestClient, db: Session, roster: None
) -> None:
    today = date.today()
    valid = db.exec(
        select(func.count(col(Certificate.id))).where(
            Certificate.status == "valid",
            (col(Certificate.expires_on).is_(None)) | (col(Certificate.expires_on) >= today),
        )
    ).one()
    assert valid == 13
    html = page(client)
    assert re.search(r'id="total-valid">13<', html)
    assert re.search(r'id="total-legacy">12<', html) and re.search(r'id="total-issued">1<', html)
    data = client.get("/api/v1/roster/stats").json()
    assert (data["valid"], data["valid_legacy"], data["valid_issued"]) == (13, 12, 1)
    assert (data["expired"], data["revoked"], data["superseded"]) == (1, 1, 0)
    assert {item["key"]: item["count"] for item in data["by_level"]} == {"1": 6, "2": 6, "3": 1}
    assert {item["key"]: item["count"] for item in data["by_year"]} == {
        "2014": 4,
        "2015": 4,
        "2016": 4,
        "2017": 0,
        "2018": 0,
        "2019": 0,
        "2020": 0,
        "2021": 0,
        "2022": 0,
        "2023": 0,
        "2024": 0,
        "2025": 0,
        "2026": 1,
    }
    assert {item["key"]: item["count"] for item in data["by_region"]} == {"杭州市": 9, "宁波市": 4}
    text = visible_text(html)
    assert "2014 4" in text and "宁波市 4" in text


def test_the_charts_are_svg_with_the_numbers_as_text(client: TestClient, roster: None) -> None:
    html = page(client)
    svg = re.search(r'<svg[^>]*id="chart-years".*?</svg>', html, re.S)
    assert svg is not None
    chart = svg.group(0)
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert re.search(r"<desc[^>]*>[^<]*2014: 4; 2015: 4; 2016: 4", chart)
    values = re.findall(r'class="chart__value"[^>]*>([\d,]+)</text>', chart)
    assert values[:3] == ["4", "4", "4"] and values[-1] == "1"
    levels = re.search(r'<svg[^>]*id="chart-levels".*?</svg>', html, re.S)
    assert levels is not None and ">Junior</text>" in levels.group(0) and ">6</text>" in levels.group(0)
    assert "<script" not in chart


def test_a_chart_escapes_its_labels() -> None:
    svg = charts.column_chart([Count("x", "<b>&", 3)], chart_id="c", title="T & <U>")
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg and "T &amp; &lt;U&gt;" in svg


def test_the_directory_shows_only_holders_who_opted_in(
    client: TestClient, db: Session, roster: None, trainee: User, settings: Settings
) -> None:
    html = page(client)
    assert "王小明" not in html and "I-1" not in html and "L-3" not in html
    login(client, trainee.email)
    form = client.get("/me/directory", params={"lang": "en"})
    assert form.status_code == 200 and "I-1" in form.text and "List me in the public directory" in form.text
    assert post_form(client, "/me/directory", {"listed": "1"}).status_code == 303
    assert db.get(DirectoryListing, trainee.id) is not None
    client.cookies.clear()
    html = page(client)
    assert "王小明" in html and "示例研究院" in html and "I-1" in html
    assert "王1明" not in html and "L-1" not in html  # not opted in
    assert id_for(52) not in html and id_for(52)[:6] + "********" not in html  # never an ID number
    found = page(client, "/roster?q=示例研究&lang=en")
    assert "I-1" in found
    assert "I-1" not in page(client, "/roster?q=王1明&lang=en")


def test_a_legacy_record_is_listed_through_the_holders_id_number(
    client: TestClient, db: Session, settings: Settings, roster: None
) -> None:
    """A holder of a record from the earlier register opts in with an account that has the same ID number."""
    from tests.support import make_user

    holder = make_user(db, settings, email="old@example.com", name="王3明", id_number=id_for(3))
    login(client, holder.email)
    assert "L-3" in client.get("/me/directory").text
    post_form(client, "/me/directory", {"listed": "1"})
    client.cookies.clear()
    assert "L-3" in page(client)
    login(client, holder.email)
    post_form(client, "/me/directory", {"listed": "0"})
    client.cookies.clear()
    assert "L-3" not in page(client)


def test_the_me_page_offers_the_choice(client: TestClient, trainee: User) -> None:
    login(client, trainee.email)
    me = client.get("/me")
    assert me.status_code == 200 and 'href="/me/directory"' in me.text and 'hx-get="/me/directory"' in me.text
    fragment = client.get("/me/directory", headers={"HX-Request": "true", "HX-Target": "directory_listing"})
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith("<section")


def test_the_api_masks_holders_who_did_not_opt_in(
    client: TestClient, db: Session, roster: None, trainee: User
) -> None:
    db.add(DirectoryListing(user_id=trainee.id or 0))
    db.commit()
    data = client.get("/api/v1/roster", params={"page_size": 50}).json()
    assert data["total"] == 13
    listed = [item for item in data["items"] if item["listed"]]
    assert [item["number"] for item in listed] == ["I-1"] and listed[0]["holder_name"] == "王小明"
    others = [item for item in data["items"] if not item["listed"]]
    assert all(item["number"] is None and item["organisation"] is None for item in others)
    assert {item["holder_name"] for item in others} >= {"王*明"}
    assert "330106" not in str(data)
    assert client.get("/api/v1/roster", params={"level": 2}).json()["total"] == 6
    assert (
        client.get("/api/v1/roster", params={"q": "王1明"}).json()["total"] == 0
    )  # not listed: not findable
    assert client.get("/api/v1/roster", params={"q": "王小明"}).json()["total"] == 1
    assert client.get("/api/v1/roster", params={"page_size": 5, "page": 3}).json()["items"].__len__() == 3
    assert client.get("/api/v1/roster", params={"level": 9}).status_code == 422


def test_the_target_is_set_by_an_administrator_and_shown(
    admin_client: TestClient, db: Session, client: TestClient, roster: None
) -> None:
    bad = post_form(admin_client, "/admin/roster/settings", {"target_count": "abc", "target_label": ""})
    assert bad.status_code == 422 and "whole number" in bad.text
    label = "到2026年培养2000名省级技术经纪人"
    response = post_form(
        admin_client, "/admin/roster/settings", {"target_count": "2,000", "target_label": label}
    )
    assert response.status_code == 303
    assert db.get(RosterSettings, 1) is not None
    html = page(admin_client)
    assert label in html and 'max="2000" value="13"' in html and "13 of 2,000 (0%)" in html
    assert admin_client.get("/api/v1/roster/stats").json()["target"] == {
        "count": 2000,
        "label": label,
        "percent": 0,
    }


def test_the_stats_cache_lives_only_seconds(
    db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_certificate(db, settings, number="C-1")
    first = stats.roster_stats(db, cache=True)
    add_certificate(db, settings, number="C-2", id_number=id_for(77))
    assert stats.roster_stats(db, cache=True).valid == first.valid == 1  # within the TTL: cached
    monkeypatch.setattr(stats, "STATS_TTL", 0.0)
    assert stats.roster_stats(db, cache=True).valid == 2
    stats.invalidate()
