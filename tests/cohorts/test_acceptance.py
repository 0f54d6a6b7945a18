"""Issue 6's acceptance, tried as a new administrator would: create a class, import 50 trainees from an
XLSX (after fixing the rows the report flags), record two classroom days of attendance, and read each
trainee's hours and eligibility on the dashboard."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from backend.models import Cohort, Course, User
from tests.cohorts.support import complete_modules, page_rows, report, roster_rows, upload, xlsx_bytes
from tests.support import login, post_form, visible_text


def _form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_class_end_to_end(client: TestClient, admin: User, course: Course, db: Session) -> None:
    login(client, admin.email)
    created = post_form(
        client,
        "/admin/classes/new",
        {
            "name": "2026年杭州市技术经纪人培训班",
            "course_id": str(course.id),
            "year": "2026",
            "start_date": "2026-03-01",
            "end_date": "2026-06-30",
            "place": "杭州市科技大厦",
            "capacity": "60",
            "status": "open",
        },
    )
    assert created.status_code == 303
    cohort = db.exec(select(Cohort)).one()
    db.rollback()

    rows: list[list[object]] = [list(row) for row in roster_rows(50)]
    rows[6][3] = "trainee007example.com"  # row 8
    rows[20][1] = rows[19][1]  # row 22 repeats row 21's ID number
    flagged = upload(client, cohort, xlsx_bytes(rows), "学员名单.xlsx")
    assert [(r, c) for r, c, _p in report(flagged)] == [("第 8 行", "电子邮箱"), ("第 22 行", "身份证号")]
    fixed = upload(client, cohort, xlsx_bytes([list(row) for row in roster_rows(50)]), "学员名单.xlsx")
    assert fixed.status_code == 303

    db.rollback()  # a new snapshot: see what the app committed
    trainees = db.exec(select(User).where(col(User.email).like("trainee%")).order_by(col(User.email))).all()
    assert len(trainees) == 50
    for trainee in trainees[:30]:  # what the first thirty did online meanwhile: every module, 12 hours
        complete_modules(db, course, trainee, 3)
    for day, topic in (("2026-03-07", "第一天：政策法规"), ("2026-03-14", "第二天：实务技能")):
        added = post_form(
            client, f"/instructor/classes/{cohort.id}/sessions", {"date": day, "topic": topic, "hours": "4"}
        )
        assert added.status_code == 303
    timetable = client.get(f"/instructor/classes/{cohort.id}/sessions").text
    session_ids = re.findall(r"/sessions/(\d+)/attendance", timetable)
    assert len(session_ids) == 2
    # day one: everyone but the last ten; day two: the first twenty
    for session_id, present in zip(session_ids, (trainees[:40], trainees[:20]), strict=True):
        sheet = client.get(f"/instructor/classes/{cohort.id}/sessions/{session_id}/attendance").text
        saved = client.post(
            f"/instructor/classes/{cohort.id}/sessions/{session_id}/attendance",
            data={"present": [str(t.id) for t in present], "csrf_token": _form_token(sheet)},
        )
        assert saved.status_code == 303

    dashboard = client.get(f"/instructor/classes/{cohort.id}/dashboard", params={"sort": "name"})
    shown = {row[0].split(" ")[0]: row for row in page_rows(dashboard.text)}
    assert len(shown) == 50
    expected = {
        "学员001": ("12", "8", "20 / 20"),  # both days and all modules: the hours are met
        "学员025": ("12", "4", "16 / 20"),
        "学员035": ("0", "4", "4 / 20"),
        "学员045": ("0", "0", "0 / 20"),
    }
    for name, (online, in_class, total) in expected.items():
        assert tuple(shown[name][2:5]) == (online, in_class, total), name
    assert "还差" not in shown["学员001"][8] and "尚未通过结业考试" in shown["学员001"][8]
    assert "还差 4 学时" in shown["学员025"][8]
    assert "显示 50 名学员，其中 0 名具备发证条件" in visible_text(dashboard.text)
